"""Run every benchmark and print one table: ``python benchmarks/run.py [--only NAME ...] [--quick]``.

Benchmarks are the ``benchmarks/bench_NAME.py`` modules; each has
``run(quick: bool) -> list[Row]`` and measures its own baseline, so the
ratios are meaningful on any machine. A benchmark that fails is reported and
the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from benchmarks import Row  # noqa: E402  (needs the repo root on sys.path when run as a script)
from maya_tool import atomic  # noqa: E402


def discover() -> list[str]:
    """Benchmark names (``io`` for ``bench_io.py``), sorted."""
    return sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))


def _format(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:.0f}"
    return f"{value:.3e}"


def format_table(results: list[tuple[str, Row]]) -> str:
    """The rows of every benchmark as one aligned text table."""
    header = ("bench", "measure", "value", "unit", "baseline", "ratio", "note")
    lines = [
        (
            bench,
            row.name,
            _format(row.value),
            row.unit,
            _format(row.baseline_value),
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.note,
        )
        for bench, row in results
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)] if lines else [len(h) for h in header]
    right = {2, 4, 5}

    def render(cells: Sequence[str]) -> str:
        parts = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([render(header), rule, *(render(line) for line in lines)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help=f"run only these benchmarks (of: {', '.join(discover())})"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller inputs, for a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)

    names = discover()
    if args.only:
        wanted = [n[len("bench_") :] if n.startswith("bench_") else n for n in args.only]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
        names = [n for n in names if n in wanted]

    results: list[tuple[str, Row]] = []
    failed: list[str] = []
    for name in names:
        start = time.perf_counter()
        print(f"running {name}{' (quick)' if args.quick else ''}...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            rows = list(module.run(args.quick))
        except Exception:  # one broken benchmark must not hide the others
            failed.append(name)
            print(f"benchmark {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        results.extend((name, row) for row in rows)
        print(f"  {name}: {len(rows)} rows in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)

    print(format_table(results))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    if args.json:
        atomic.write_text(
            args.json,
            json.dumps(
                {"quick": args.quick, "failed": failed, "rows": [{"bench": b, **r.to_dict()} for b, r in results]},
                indent=1,
            )
            + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

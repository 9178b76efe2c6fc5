"""Download CMU subjects in the CMU site's own layout, resumably and verified.

The CMU database is large and its server is slow, so a download must survive
an interrupted connection (a ``.part`` file resumed with an HTTP ``Range``
request) and a re-run must not fetch again what already arrived intact (each
file's sha256 is kept in ``subjects/NN/SHA256SUMS`` and checked on the next
run; a file that no longer matches is fetched again). A status 200 proves
nothing about the bytes, so a file is accepted, and its hash recorded, only
once it parses completely with the ASF/AMC readers
(:func:`validate_download`), and a body sent without a length is confirmed
whole with a ``Range`` request past its end. The folder this writes is exactly
what ``MOCAP_AE_DATA`` and the data set builder expect.

Only the standard library is used (``urllib``), so the fetcher also runs in
``mayapy``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import __version__, atomic
from .atomic import sha256_file as file_sha256
from .errors import MocapError

DEFAULT_BASE = "http://mocap.cs.cmu.edu"
SUMS_NAME = "SHA256SUMS"
PART_SUFFIX = ".part"
CHUNK = 64 * 1024


def default_dest() -> Path:
    """Where subjects go when no ``--dest`` is given.

    ``$MOCAP_AE_DATA`` first, so that a fetch lands where the tests and the
    data set builder already look; otherwise a per-user folder.
    """
    value = os.environ.get("MOCAP_AE_DATA")
    if value:
        return Path(value).expanduser()
    return Path.home() / ".mocap-ae" / "data" / "cmu"


def subject_id(subject: str | int) -> str:
    """CMU's two-digit (at least) subject number: ``5`` -> ``05``, ``143`` -> ``143``."""
    text = str(subject).strip()
    if not re.fullmatch(r"\d{1,3}", text) or int(text) == 0:
        raise MocapError(f"subject {subject!r} is not a CMU subject number (1 to 999, e.g. 05 or 35)")
    return f"{int(text):02d}"


def trial_file_name(subject: str | int, trial: int) -> str:
    """File name of a trial (``NN_MM.amc``), or the skeleton for ``trial == 0``."""
    nn = subject_id(subject)
    return f"{nn}.asf" if trial == 0 else f"{nn}_{trial:02d}.amc"


def read_sums(path: Path) -> dict[str, str]:
    """``name -> sha256`` from a ``sha256sum``-style file; missing file -> empty."""
    sums: dict[str, str] = {}
    if not path.is_file():
        return sums
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64})\s+\*?(.+)", line)
        if match is None:
            raise MocapError("expected '<sha256>  <file name>'", path=path, row=row)
        sums[match.group(2)] = match.group(1).lower()
    return sums


def write_sums(path: Path, sums: dict[str, str]) -> None:
    """Write the sums so ``sha256sum -c SHA256SUMS`` checks the folder too."""
    atomic.write_text(path, "".join(f"{sums[name]}  {name}\n" for name in sorted(sums)))



class NotFound(MocapError):
    """The server has no such file (HTTP 404 / 410): the end of a subject's trials."""


@dataclass
class _Transfer:
    """One attempt's outcome, for the retry loop.

    ``sized``: the server said how long the body is (``Content-Length``), so a
    complete transfer is known to be whole; without it, a connection closed
    early looks exactly like the end of the file.
    """

    complete: bool
    error: str = ""
    sized: bool = True


def validate_download(path: Path, name: str, asf: Any = None) -> Any:
    """Parse a downloaded file completely; returns the parsed ASF skeleton (``asf`` for an AMC).

    A server that sends corrupted or cut-short bytes with status 200 is only
    caught by reading them: an ASF must read as a skeleton, an AMC as motion on
    that skeleton whose last frame lists as many bones as the others (CMU files
    are fully specified, so a shorter last frame is a cut).

    Raises:
        MocapError: From the ASF/AMC readers, or for a cut last frame.
    """
    from .io import asfamc

    if name.lower().endswith(".asf"):
        return asfamc.read_asf(path)
    asfamc.parse_amc(path, asf)
    _check_last_frame(path)
    return asf


def _check_last_frame(path: Path) -> None:
    from .io import read_text

    counts: list[int] = []
    rows: list[int] = []
    for row, line in enumerate(read_text(path).splitlines(), start=1):
        words = line.split()
        if not words or words[0][0] in "#:":
            continue
        if len(words) == 1 and words[0].lstrip("-").isdigit():
            counts.append(0)
        elif counts:
            counts[-1] += 1
            rows.append(row)
    if len(counts) > 1 and counts[-1] < max(counts[:-1]):
        raise MocapError(
            f"the last frame lists {counts[-1]} bones, the others up to {max(counts[:-1])}: the file is cut short",
            path=path, row=rows[-1] if rows else None,
        )


@dataclass
class Fetcher:
    """Downloads files from a base URL into a destination, one at a time.

    Attributes:
        base: Server root; files are ``base/subjects/NN/NAME``.
        dest: Local root; files land in ``dest/subjects/NN/NAME``.
        progress: Show a tqdm bar per file on stderr.
        retries: How often an interrupted transfer is resumed before giving up.
        timeout: Socket timeout in seconds.
        log: Receives one-line notes (resumed, re-fetched, ...).
    """

    base: str = DEFAULT_BASE
    dest: Path = field(default_factory=default_dest)
    progress: bool = False
    retries: int = 3
    timeout: float = 60.0
    log: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlparse(self.base)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise MocapError(f"base URL {self.base!r} must be http:// or https:// with a host")
        self.base = self.base.rstrip("/")
        self.dest = Path(self.dest).expanduser()

    def url(self, nn: str, name: str) -> str:
        return f"{self.base}/subjects/{nn}/{name}"

    def fetch_subject(self, subject: str | int, max_trials: int | None = None) -> list[Path]:
        """The subject's ASF and its AMC trials 01, 02, ... until the first 404.

        Files already present and matching ``SHA256SUMS`` are not downloaded
        again; only the next trial number is asked for, to learn whether the
        server has gained trials since the last run.
        """
        nn = subject_id(subject)
        folder = self.dest / "subjects" / nn
        created = [d for d in (folder, folder.parent, self.dest) if not d.exists()]
        try:
            return self._fetch_subject(nn, folder, max_trials)
        except BaseException:
            _remove_empty(folder, created)
            raise

    def _fetch_subject(self, nn: str, folder: Path, max_trials: int | None) -> list[Path]:
        sums_path = folder / SUMS_NAME
        try:
            sums = read_sums(sums_path)
        except MocapError:
            self._note(f"{sums_path} unreadable; verifying by downloading again")
            sums = {}
        files: list[Path] = []
        trial = 0
        asf: Any = None
        while max_trials is None or trial <= max_trials:
            name = trial_file_name(nn, trial)
            target = folder / name
            try:
                digest, asf = self._ensure(self.url(nn, name), target, sums.get(name), asf)
            except NotFound as exc:
                if trial == 0:
                    raise MocapError(
                        f"{exc.reason} (is {nn} a subject on this server?)", path=exc.path
                    ) from None
                break
            if sums.get(name) != digest:
                sums[name] = digest
                write_sums(sums_path, sums)
            files.append(target)
            trial += 1
        return files

    def _ensure(self, url: str, target: Path, expected: str | None, asf: Any) -> tuple[str, Any]:
        """Make ``target`` a verified copy of ``url``; returns its sha256 and what :func:`validate_download` gives.

        A file matching ``SHA256SUMS`` is still parsed: a hash recorded by an
        older version for bytes that never parsed must not keep them forever.
        """
        def validate(path: Path) -> Any:
            return validate_download(path, target.name, asf)

        if target.is_file():
            if expected is not None:
                actual = file_sha256(target)
                if actual == expected:
                    try:
                        return actual, validate(target)
                    except MocapError as exc:
                        self._note(f"{target} matches {SUMS_NAME} but does not parse ({exc}); downloading again")
                else:
                    self._note(f"{target} does not match {SUMS_NAME} (corrupt or edited); downloading again")
            else:
                self._note(f"{target} has no recorded checksum; downloading again to verify it")
        parsed: list[Any] = []
        digest = self.download(url, target, lambda path: parsed.append(validate(path)))
        return digest, parsed[0]

    def download(self, url: str, target: Path, validate: Callable[[Path], Any] | None = None) -> str:
        """Fetch ``url`` into ``target`` through ``target.part``; returns the sha256.

        The ``.part`` file is what makes resuming possible, so it has a fixed
        name rather than the random one of :func:`atomic.atomic_path`; it is
        flushed, checked and renamed over ``target`` only once complete, which
        keeps the same guarantee: ``target`` is either absent, old, or whole.
        Complete means: as long as the server's ``Content-Length`` said, or,
        without one, confirmed by a ``Range`` request for what lies past the
        end; and then ``validate(part)`` (which raises a ``MocapError``) accepts it.
        A part it refuses is removed: resuming from bad bytes cannot mend them.
        """
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + PART_SUFFIX)
        attempts = 0
        while True:
            outcome = self._transfer(url, part)
            if outcome.complete and not outcome.sized:
                outcome = self._confirm_end(url, part)
            if outcome.complete:
                break
            attempts += 1
            if attempts > self.retries:
                raise MocapError(
                    f"download interrupted ({outcome.error}); {part.name} kept, run again to resume", path=url
                )
            self._note(f"{url}: {outcome.error}; resuming ({attempts}/{self.retries})")
            time.sleep(min(0.2 * 2**attempts, 5.0))
        with open(part, "rb+") as handle:
            os.fsync(handle.fileno())
        if validate is not None:
            try:
                validate(part)
            except MocapError as exc:
                part.unlink(missing_ok=True)
                where = f" (row {exc.row})" if exc.row is not None else ""
                raise MocapError(
                    f"the server's bytes are not a complete {target.suffix.lstrip('.').upper()} file: {exc.reason}{where}; "
                    "discarded and not recorded, run again to fetch it afresh",
                    path=url,
                ) from None
        digest = file_sha256(part)
        os.replace(part, target)
        return digest

    def _confirm_end(self, url: str, part: Path) -> _Transfer:
        """Ask for the bytes past the end of a body that came without a length.

        HTTP 416 naming the same total length confirms the file is whole; 206
        means the first response was cut short (the retry loop resumes); a
        server that ignores ``Range`` cannot confirm anything, which leaves
        the parse check alone to judge.
        """
        size = part.stat().st_size
        headers = {"User-Agent": f"mocap-ae/{__version__} (+python urllib)", "Accept-Encoding": "identity",
                   "Range": f"bytes={size}-"}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as response:
                if response.status == 206:
                    return _Transfer(False, f"the server sent no length and stopped at byte {size} of more")
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416:
                total = re.match(r"\s*bytes\s+\*/(\d+)", exc.headers.get("Content-Range", "") or "")
                if total is None or int(total.group(1)) == size:
                    return _Transfer(True)
                part.unlink(missing_ok=True)
                return _Transfer(False, f"the server says the file has {total.group(1)} bytes, {size} arrived; restarting")
            raise MocapError(f"HTTP {exc.code} {exc.reason}", path=url) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise MocapError(f"network error: {reason}", path=url) from None
        self._note(f"{url}: the server sent no length and ignores Range; the file is checked by parsing it only")
        return _Transfer(True)

    def _transfer(self, url: str, part: Path) -> _Transfer:
        """One request: resume ``part`` if it has bytes, restart if the server ignores Range."""
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": f"mocap-ae/{__version__} (+python urllib)", "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and offset:
                # The part is as long as (or longer than) the file: cannot tell
                # whether it is whole, so start over rather than guess.
                part.unlink()
                return _Transfer(False, "server refused the resume range (HTTP 416); restarting")
            if exc.code in (404, 410):
                raise NotFound(f"HTTP {exc.code} {exc.reason}", path=url) from None
            raise MocapError(f"HTTP {exc.code} {exc.reason}", path=url) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise MocapError(f"network error: {reason}", path=url) from None
        with response:
            content_type = response.headers.get("Content-Type", "")
            if content_type.startswith("text/html"):
                # Some servers answer a missing file with a 200 HTML page; an
                # ASF or AMC is never HTML.
                raise NotFound(f"server answered with an HTML page ({content_type}), not a data file", path=url)
            status = response.status
            if status == 206:
                start = _content_range_start(response.headers.get("Content-Range", ""))
                if start != offset:
                    part.unlink(missing_ok=True)
                    return _Transfer(False, f"server resumed at byte {start}, expected {offset}; restarting")
                mode = "ab"
            elif status == 200:
                if offset:
                    self._note(f"{url}: server ignored the Range request; restarting from byte 0")
                offset = 0
                mode = "wb"
            else:
                raise MocapError(f"unexpected HTTP {status} {response.reason}", path=url)
            length = response.headers.get("Content-Length")
            remaining = int(length) if length is not None and length.isdigit() else None
            total = offset + remaining if remaining is not None else None
            received = 0
            with open(part, mode) as out, _bar(self.progress, Path(urllib.parse.urlparse(url).path).name, total, offset) as bar:
                try:
                    while True:
                        block = response.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        received += len(block)
                        bar.update(len(block))
                except (OSError, http.client.HTTPException) as exc:
                    return _Transfer(False, f"connection lost after {offset + received} bytes: {exc!r}")
        if remaining is not None and received != remaining:
            return _Transfer(False, f"connection closed after {offset + received} of {total} bytes")
        return _Transfer(True, sized=remaining is not None)

    def _note(self, message: str) -> None:
        if self.log is not None:
            self.log(message)


def _remove_empty(folder: Path, created: list[Path]) -> None:
    """After a failed fetch, undo what it left that holds nothing: empty ``.part`` files, then new empty folders.

    A ``.part`` with bytes stays (the next run resumes it), and so does its folder.
    """
    for part in folder.glob(f"*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):
            if part.stat().st_size == 0:
                part.unlink()
    for path in created:  # deepest first
        with contextlib.suppress(OSError):
            path.rmdir()


def _content_range_start(value: str) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", value)
    return int(match.group(1)) if match else None


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def _bar(enabled: bool, name: str, total: int | None, initial: int) -> Any:
    """A tqdm byte counter on stderr, or a stand-in when disabled or tqdm is missing."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return _NoBar()
    return tqdm(total=total, initial=initial, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                leave=False, file=sys.stderr)


def fetch_subjects(
    subjects: Iterable[str | int],
    base: str = DEFAULT_BASE,
    dest: os.PathLike[str] | str | None = None,
    progress: bool = False,
    *,
    max_trials: int | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download CMU subjects (``NN.asf`` and ``NN_MM.amc``) into ``dest/subjects/NN``.

    Args:
        subjects: Subject numbers, e.g. ``["05", 35]``.
        base: Server root (the CMU site by default).
        dest: Local root; defaults to :func:`default_dest`.
        progress: Show tqdm bars on stderr.
        max_trials: Stop after this many AMC trials per subject.
        retries: Resumes of an interrupted transfer before giving up (the
            ``.part`` file stays, so running again continues from there).
        timeout: Socket timeout in seconds.
        log: Receives one-line notes about resumes and re-downloads.

    Returns:
        Every local file of the requested subjects, ASF first per subject.

    Raises:
        MocapError: naming the URL and the HTTP status or network error.
    """
    ids = [subject_id(s) for s in subjects]
    if not ids:
        raise MocapError("no subjects given")
    if max_trials is not None and max_trials < 0:
        raise MocapError(f"max_trials must be >= 0, got {max_trials}")
    fetcher = Fetcher(
        base=base,
        dest=Path(dest) if dest is not None else default_dest(),
        progress=progress,
        retries=retries,
        timeout=timeout,
        log=log,
    )
    files: list[Path] = []
    for nn in dict.fromkeys(ids):
        files.extend(fetcher.fetch_subject(nn, max_trials=max_trials))
    return files


def verify(folder: os.PathLike[str] | str) -> dict[str, bool]:
    """``name -> matches`` for every file listed in ``folder/SHA256SUMS``."""
    folder = Path(folder)
    sums = read_sums(folder / SUMS_NAME)
    return {name: (folder / name).is_file() and file_sha256(folder / name) == digest for name, digest in sums.items()}


__all__ = [
    "DEFAULT_BASE",
    "Fetcher",
    "NotFound",
    "default_dest",
    "fetch_subjects",
    "file_sha256",
    "read_sums",
    "subject_id",
    "validate_download",
    "verify",
]

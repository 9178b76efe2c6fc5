"""The CMU fetcher against a local server: bytes, resume, checksums, errors.

Every request goes to a ``http.server`` on 127.0.0.1 (port 0) in a thread,
serving a folder in the CMU site's layout; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from maya_tool import cli, fetch
from maya_tool.errors import MocapError
from tests.test_asfamc import SYNTH_ASF


@dataclass
class ServerOptions:
    """What the test handler does, changed by tests while it runs."""

    root: Path
    ignore_range: bool = False
    cut_first: set[str] = field(default_factory=set)  # URL paths whose first GET dies halfway
    no_length: bool = False  # bodies without Content-Length, ended by closing the connection
    short_once: set[str] = field(default_factory=set)  # URL paths whose next GET sends half, as if complete
    corrupt_once: set[str] = field(default_factory=set)  # URL paths whose next GET sends damaged bytes
    status: dict[str, int] = field(default_factory=dict)  # URL path -> forced error status
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)


def _handler(options: ServerOptions) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class name
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            options.requests.append((path, self.headers.get("Range")))
            if path in options.status:
                self._error(options.status[path])
                return
            file = (options.root / path.lstrip("/")).resolve()
            if options.root.resolve() not in file.parents or not file.is_file():
                self._error(404)
                return
            data = file.read_bytes()
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
            if match and not options.ignore_range:
                start = int(match.group(1))
                end = int(match.group(2)) if match.group(2) else len(data) - 1
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = data[start : end + 1]
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{len(data)}")
            else:
                body = data
                self.send_response(200)
            if path in options.short_once:
                options.short_once.discard(path)
                body = body[: len(body) // 2]
            if path in options.corrupt_once:
                options.corrupt_once.discard(path)
                middle = len(body) // 2
                body = body[:middle] + b"x" * 16 + body[middle + 16 :]
            self.send_header("Content-Type", "application/octet-stream")
            if options.no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "none" if options.ignore_range else "bytes")
            self.end_headers()
            if path in options.cut_first:
                options.cut_first.discard(path)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(body)

        def _error(self, code: int) -> None:
            body = f"error {code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def serve(root: Path) -> Iterator[tuple[str, ServerOptions]]:
    """A threaded server on 127.0.0.1 for ``root``; yields (base URL, options)."""
    options = ServerOptions(root=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(options))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", options
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture()
def cmu_server(cmu_root: Path) -> Iterator[tuple[str, ServerOptions]]:
    with serve(cmu_root) as served:
        yield served


@pytest.fixture()
def synth_server(tmp_path: Path) -> Iterator[tuple[str, ServerOptions]]:
    """Subject 42 with three small trials, for tests that need no CMU data."""
    root = tmp_path / "server"
    folder = root / "subjects" / "42"
    folder.mkdir(parents=True)
    (folder / "42.asf").write_text(SYNTH_ASF)
    for trial in (1, 2, 3):
        (folder / f"42_{trial:02d}.amc").write_text(_synth_amc(40 * trial))
    with serve(root) as served:
        yield served


def _synth_amc(frames: int) -> str:
    """A fully specified AMC on :data:`SYNTH_ASF` (root, upper, lower)."""
    return ":FULLY-SPECIFIED\n:DEGREES\n" + "".join(
        f"{i}\nroot {i} 0 0 0.5 0.25 -0.5\nupper {i % 90}\nlower 15 -35\n" for i in range(1, frames + 1))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gets(options: ServerOptions, name: str) -> list[str | None]:
    """Range headers of the requests for one file name."""
    return [rng for path, rng in options.requests if path.endswith("/" + name)]


def test_fetch_subject_35_matches_originals(cmu_server, cmu_root: Path, tmp_path: Path) -> None:
    base, options = cmu_server
    dest = tmp_path / "dest"
    files = fetch.fetch_subjects(["35"], base=base, dest=dest)
    assert [f.relative_to(dest).as_posix() for f in files] == ["subjects/35/35.asf", "subjects/35/35_01.amc"]
    for f in files:
        assert f.read_bytes() == (cmu_root / f.relative_to(dest)).read_bytes()
    sums = fetch.read_sums(dest / "subjects/35/SHA256SUMS")
    assert sums == {f.name: _sha(f) for f in files}
    # The trial after the last one was asked for and its 404 ended the subject.
    assert _gets(options, "35_02.amc") == [None]
    assert not list(dest.rglob("*.part")) and not list(dest.rglob(".*"))
    assert fetch.verify(dest / "subjects/35") == {"35.asf": True, "35_01.amc": True}


def test_rerun_downloads_nothing_already_verified(cmu_server, tmp_path: Path, capsys) -> None:
    base, options = cmu_server
    fetch.fetch_subjects([35], base=base, dest=tmp_path, progress=True)
    assert "35_01.amc" in capsys.readouterr().err  # the tqdm bar's label
    options.requests.clear()
    files = fetch.fetch_subjects(["35"], base=base, dest=tmp_path)
    assert len(files) == 2
    assert [p for p, _ in options.requests] == ["/subjects/35/35_02.amc"]


def test_interrupted_download_resumes_with_range(cmu_server, cmu_root: Path, tmp_path: Path) -> None:
    base, options = cmu_server
    options.cut_first.add("/subjects/35/35_01.amc")
    notes: list[str] = []
    files = fetch.fetch_subjects(["35"], base=base, dest=tmp_path, log=notes.append)
    original = (cmu_root / "subjects/35/35_01.amc").read_bytes()
    assert files[1].read_bytes() == original
    ranges = _gets(options, "35_01.amc")
    assert ranges == [None, f"bytes={len(original) // 2}-"]
    assert any("resuming" in n for n in notes)
    assert fetch.read_sums(tmp_path / "subjects/35/SHA256SUMS")["35_01.amc"] == hashlib.sha256(original).hexdigest()


def test_interrupted_run_keeps_part_and_next_run_resumes(cmu_server, cmu_root: Path, tmp_path: Path) -> None:
    base, options = cmu_server
    options.cut_first.add("/subjects/35/35_01.amc")
    with pytest.raises(MocapError) as info:
        fetch.fetch_subjects(["35"], base=base, dest=tmp_path, retries=0)
    assert f"{base}/subjects/35/35_01.amc" in str(info.value)
    assert "resume" in str(info.value)
    original = (cmu_root / "subjects/35/35_01.amc").read_bytes()
    part = tmp_path / "subjects/35/35_01.amc.part"
    assert part.stat().st_size == len(original) // 2
    assert not (tmp_path / "subjects/35/35_01.amc").exists()

    fetch.fetch_subjects(["35"], base=base, dest=tmp_path, retries=0)
    assert (tmp_path / "subjects/35/35_01.amc").read_bytes() == original
    assert _gets(options, "35_01.amc")[-1] == f"bytes={len(original) // 2}-"
    assert not part.exists()


def test_server_ignoring_range_restarts_from_zero(cmu_server, cmu_root: Path, tmp_path: Path) -> None:
    base, options = cmu_server
    options.ignore_range = True
    folder = tmp_path / "subjects/35"
    folder.mkdir(parents=True)
    (folder / "35_01.amc.part").write_bytes(b"stale bytes from another version" * 100)
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path)
    assert (folder / "35_01.amc").read_bytes() == (cmu_root / "subjects/35/35_01.amc").read_bytes()
    assert _gets(options, "35_01.amc") == ["bytes=3200-"]


def test_corrupt_file_is_fetched_again(cmu_server, cmu_root: Path, tmp_path: Path) -> None:
    base, options = cmu_server
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path)
    amc = tmp_path / "subjects/35/35_01.amc"
    amc.write_bytes(amc.read_bytes()[:-10] + b"corrupted!")
    assert fetch.verify(amc.parent)["35_01.amc"] is False
    options.requests.clear()
    notes: list[str] = []
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path, log=notes.append)
    assert amc.read_bytes() == (cmu_root / "subjects/35/35_01.amc").read_bytes()
    assert _gets(options, "35_01.amc") == [None]
    assert _gets(options, "35.asf") == []
    assert any("does not match" in n for n in notes)


def test_missing_subject_is_a_clear_error(cmu_server, tmp_path: Path) -> None:
    base, _ = cmu_server
    with pytest.raises(MocapError) as info:
        fetch.fetch_subjects(["99"], base=base, dest=tmp_path)
    message = str(info.value)
    assert f"{base}/subjects/99/99.asf" in message
    assert "404" in message and "99" in message
    assert not (tmp_path / "subjects/99/99.asf").exists()


def test_cli_fetch_prints_files(cmu_server, tmp_path: Path, capsys) -> None:
    base, _ = cmu_server
    code = cli.main(["data", "fetch", "35", "--base", base, "--dest", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "35_01.amc" in out and str(tmp_path) in out
    assert (tmp_path / "subjects/35/35_01.amc").is_file()


def test_cli_fetch_missing_subject_exit_code(cmu_server, tmp_path: Path, capsys) -> None:
    base, _ = cmu_server
    code = cli.main(["data", "fetch", "98", "--base", base, "--dest", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("mocap-ae data: error:") and "98.asf" in err and "404" in err
    assert len(err.strip().splitlines()) == 1


def test_max_trials_and_subject_numbers(synth_server, tmp_path: Path) -> None:
    base, options = synth_server
    files = fetch.fetch_subjects([42], base=base, dest=tmp_path, max_trials=2)
    assert [f.name for f in files] == ["42.asf", "42_01.amc", "42_02.amc"]
    assert _gets(options, "42_03.amc") == []
    files = fetch.fetch_subjects(["042"], base=base, dest=tmp_path)
    assert [f.name for f in files] == ["42.asf", "42_01.amc", "42_02.amc", "42_03.amc"]
    for f in files:
        assert f.read_bytes() == (options.root / "subjects/42" / f.name).read_bytes()


def test_server_error_names_url_and_status(synth_server, tmp_path: Path) -> None:
    base, options = synth_server
    options.status["/subjects/42/42_02.amc"] = 503
    with pytest.raises(MocapError) as info:
        fetch.fetch_subjects(["42"], base=base, dest=tmp_path)
    assert f"{base}/subjects/42/42_02.amc" in str(info.value) and "503" in str(info.value)
    # What arrived before the failure is kept and recorded.
    assert set(fetch.read_sums(tmp_path / "subjects/42/SHA256SUMS")) == {"42.asf", "42_01.amc"}


def test_unknown_checksum_file_is_verified_by_downloading(synth_server, tmp_path: Path) -> None:
    base, options = synth_server
    folder = tmp_path / "subjects/42"
    folder.mkdir(parents=True)
    (folder / "42_01.amc").write_bytes(b"placed by hand, wrong")
    fetch.fetch_subjects(["42"], base=base, dest=tmp_path)
    assert (folder / "42_01.amc").read_bytes() == (options.root / "subjects/42/42_01.amc").read_bytes()


def test_network_error_names_url(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(MocapError) as info:
        fetch.fetch_subjects(["7"], base=base, dest=tmp_path / "data", timeout=5)
    assert f"{base}/subjects/07/07.asf" in str(info.value) and "network error" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no empty data/subjects/07 left behind
    (tmp_path / "kept").mkdir()
    with pytest.raises(MocapError):
        fetch.fetch_subjects(["7"], base=base, dest=tmp_path / "kept", timeout=5)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"] and not any((tmp_path / "kept").iterdir())


@pytest.mark.parametrize("bad", ["abc", "0", "1234", "5a", ""])
def test_bad_subject_numbers(bad: str, tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="subject"):
        fetch.fetch_subjects([bad], base="http://127.0.0.1:9", dest=tmp_path)


def test_bad_base_url(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="base URL"):
        fetch.fetch_subjects(["5"], base="ftp://example.invalid", dest=tmp_path)


def test_default_dest(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCAP_AE_DATA", str(tmp_path / "data"))
    assert fetch.default_dest() == tmp_path / "data"
    monkeypatch.delenv("MOCAP_AE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fetch.default_dest() == tmp_path / ".mocap-ae" / "data" / "cmu"


# --- bytes that arrive whole-looking but are not (no Content-Length) ---------------------------------


def _fetched_cleanly(folder: Path, cmu_root: Path) -> None:
    for name in ("35.asf", "35_01.amc"):
        assert (folder / name).read_bytes() == (cmu_root / "subjects/35" / name).read_bytes()
    assert fetch.verify(folder) == {"35.asf": True, "35_01.amc": True}
    assert not list(folder.glob("*.part"))


def test_a_body_cut_short_without_length_is_completed_by_a_range_request(cmu_server, cmu_root, tmp_path) -> None:
    base, options = cmu_server
    options.no_length = True
    options.short_once.add("/subjects/35/35_01.amc")
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path)
    _fetched_cleanly(tmp_path / "subjects/35", cmu_root)
    half = (cmu_root / "subjects/35/35_01.amc").stat().st_size // 2
    assert _gets(options, "35_01.amc")[:3] == [None, f"bytes={half}-", f"bytes={half}-"]


@pytest.mark.parametrize("damage", ["short", "corrupt"])
def test_bytes_that_do_not_parse_are_refused_unrecorded_and_fetched_afresh_later(
    damage: str, cmu_server, cmu_root, tmp_path, capsys
) -> None:
    """The issue's server: truncated (Range ignored) or corrupted bodies without Content-Length."""
    base, options = cmu_server
    options.no_length, options.ignore_range = True, damage == "short"
    (options.short_once if damage == "short" else options.corrupt_once).add("/subjects/35/35_01.amc")
    code = cli.main(["data", "fetch", "35", "--base", base, "--dest", str(tmp_path)])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("mocap-ae data: error:")]
    assert code == 2 and len(errors) == 1
    assert f"{base}/subjects/35/35_01.amc" in errors[0] and "not a complete AMC file" in errors[0]
    folder = tmp_path / "subjects/35"
    assert sorted(p.name for p in folder.iterdir()) == ["35.asf", "SHA256SUMS"]
    assert set(fetch.read_sums(folder / "SHA256SUMS")) == {"35.asf"}  # no hash for bytes that did not parse
    options.no_length = options.ignore_range = False  # a good server
    assert cli.main(["data", "fetch", "35", "--base", base, "--dest", str(tmp_path)]) == 0
    _fetched_cleanly(folder, cmu_root)


def test_a_recorded_file_that_does_not_parse_is_fetched_again(cmu_server, cmu_root, tmp_path) -> None:
    """SHA256SUMS written by an older version for bad bytes: the hash matches, the parse does not."""
    base, options = cmu_server
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path)
    folder = tmp_path / "subjects/35"
    amc = folder / "35_01.amc"
    amc.write_bytes(amc.read_bytes()[: amc.stat().st_size // 2])
    fetch.write_sums(folder / "SHA256SUMS", {**fetch.read_sums(folder / "SHA256SUMS"), "35_01.amc": _sha(amc)})
    notes: list[str] = []
    fetch.fetch_subjects(["35"], base=base, dest=tmp_path, log=notes.append)
    _fetched_cleanly(folder, cmu_root)
    assert any("matches SHA256SUMS but does not parse" in n for n in notes)

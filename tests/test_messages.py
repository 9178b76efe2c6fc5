"""Messages a user reads say why, not only where (issue 9, item 8)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from maya_tool import cli
from maya_tool.errors import MocapError
from maya_tool.io import csv as mcsv
from maya_tool.io import write_clip
from tests import synth


def _written(tmp_path: Path) -> Path:
    path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=10), path)
    return path


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_with_another_separator_says_so(tmp_path: Path, separator: str) -> None:
    path = _written(tmp_path)
    text = path.read_text().replace(",", separator)
    if separator == ";":
        text = text.replace(".", ",")  # a decimal-comma locale
    path.write_text(text)
    name = "';'" if separator == ";" else "tab"
    with pytest.raises(MocapError, match=f"the rows look {name} separated: save the CSV with ','") as info:
        mcsv.read_csv(path, use_cache=False)
    assert info.value.row == 2


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_csv_says_save_as_utf8(tmp_path: Path, encoding: str) -> None:
    path = _written(tmp_path)
    path.write_bytes(path.read_text().encode(encoding))
    with pytest.raises(MocapError, match="UTF-16 text .* save it as CSV UTF-8") as info:
        mcsv.read_csv(path, use_cache=False)
    assert (info.value.path, info.value.row) == (str(path), 1)


def test_train_resume_of_a_finished_job_says_there_is_nothing_to_resume(tmp_path: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["train", "--name", "walk", "-o", str(tmp_path), "--resume"])
    event = json.loads(out.getvalue().splitlines()[-1])
    assert code == 1 and event["event"] == "error"
    assert "nothing to resume: no checkpoint of 'walk'" in event["message"]
    assert str(tmp_path / ".walk.checkpoint") in event["message"]


def test_help_shows_no_rest_markup(capsys) -> None:
    for argv in ([], ["convert"], ["data"], ["train"], ["info"]):
        with pytest.raises(SystemExit):
            cli.main([*argv, "--help"])
        out = capsys.readouterr().out
        assert "``" not in out and ":class:" not in out and ":func:" not in out, argv
    assert cli.plain("``mocap-ae`` uses :func:`maya_tool.io.read_clip`") == "mocap-ae uses maya_tool.io.read_clip"

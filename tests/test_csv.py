"""The node's CSV layout: round trips, layout detection, bad input, the load cache."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from maya_tool import atomic
from maya_tool.errors import MocapError
from maya_tool.io import cache, read_clip
from maya_tool.io import csv as mcsv
from maya_tool.presets import CMU_JOINT_NAMES, CMU_PARENTS
from maya_tool.skeleton import Skeleton, sidecar_path
from tests import synth


@pytest.fixture(params=["pandas", "numpy"])
def parser(request, monkeypatch) -> str:
    """Run a test through both fast paths: pandas' C reader and numpy's loadtxt."""
    if request.param == "numpy":
        monkeypatch.setattr(mcsv, "_pandas_parse", lambda body: None)
    return request.param


def small_clip(frames: int = 12, joints: int = 31):
    skeleton = synth.cmu_like_skeleton() if joints == 31 else _flat_skeleton(joints)
    return synth.smooth_clip(frames=frames, skeleton=skeleton)


def _flat_skeleton(joints: int) -> Skeleton:
    return Skeleton(
        names=["root"] + [f"j{i}" for i in range(1, joints)],
        parents=np.array([-1] + [0] * (joints - 1), dtype=np.int64),
        offsets=np.arange(joints * 3, dtype=float).reshape(joints, 3),
    )


def table_of(clip) -> np.ndarray:
    return np.concatenate([clip.root_positions, clip.rotations.reshape(clip.num_frames, -1)], axis=1)


def write_rows(path: Path, rows: list[list[str]] | np.ndarray, header: list[str] | None = None) -> Path:
    lines = [",".join(header)] if header is not None else []
    lines += [",".join(r) if isinstance(r, list) else ",".join(f"{v:.9f}" for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def age(path: Path, seconds: float = 60.0) -> Path:
    """Make a file look older than the cache's racy-timestamp window."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))
    return path


def cells_of(clip) -> list[list[str]]:
    return [[f"{v:.9f}" for v in row] for row in table_of(clip)]


def assert_same_clip(a, b, tol: float = 1e-6) -> None:
    assert a.num_frames == b.num_frames
    np.testing.assert_allclose(b.root_positions, a.root_positions, atol=tol, rtol=0)
    np.testing.assert_allclose(b.rotations, a.rotations, atol=tol, rtol=0)
    assert b.fps == a.fps
    assert b.skeleton.to_dict() == a.skeleton.to_dict()


def raises_at(path_fragment: Path, row: int | None, column: int | None, *fragments: str):
    """Context manager checking a MocapError's location and message."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(MocapError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert err.path == str(path_fragment), err
            assert (err.row, err.column) == (row, column), str(err)
            for fragment in fragments:
                assert fragment in str(err), str(err)
            return handled

    return _Check()


# --- round trips ---------------------------------------------------------------------------------


def test_round_trip_with_header_and_sidecar(tmp_path: Path, clip, parser) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    first = path.read_text().splitlines()[0].split(",")
    assert first[:8] == ["root_tx", "root_ty", "root_tz", "root_qx", "root_qy", "root_qz", "root_qw", "LHipJoint_qx"]
    assert len(first) == 127 and first[-1] == "RThumb_qw"
    side = json.loads(sidecar_path(path).read_text())
    assert side["fps"] == 120.0 and side["format"] == "mocap-ae.skeleton"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = mcsv.read_csv(path, use_cache=False)
    assert_same_clip(clip, back)
    assert back.source["format"] == "csv" and back.source["layout"] == "frames" and back.source["header"]
    assert back.source["skeleton_assumed"] is False and back.source["fps_assumed"] is False
    assert back.source["skeleton_path"] == str(sidecar_path(path))


def test_round_trip_without_header(tmp_path: Path, clip, parser) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path, header=False)
    assert path.read_text().splitlines()[0].split(",")[0] != "root_tx"
    back = mcsv.read_csv(path, use_cache=False)
    assert_same_clip(clip, back)
    assert back.source["header"] is False


def test_round_trip_transposed(tmp_path: Path, parser) -> None:
    clip = small_clip(frames=40)
    path = tmp_path / "tutorial.csv"
    mcsv.write_csv(clip, path, layout="transposed")
    lines = path.read_text().splitlines()
    assert len(lines) == 127 and all(len(line.split(",")) == 40 for line in lines)
    back = mcsv.read_csv(path, use_cache=False)
    assert_same_clip(clip, back)
    assert back.source["layout"] == "transposed"
    np.testing.assert_allclose(mcsv.read_csv_array(path), table_of(clip), atol=1e-6)


def test_transposed_without_sidecar_is_detected_by_shape(tmp_path: Path) -> None:
    clip = small_clip(frames=300)
    path = write_rows(tmp_path / "old.csv", [list(r) for r in zip(*cells_of(clip))])
    with pytest.warns(UserWarning, match="no skeleton file"):
        back = mcsv.read_csv(path)
    assert back.source["layout"] == "transposed" and back.num_frames == 300
    np.testing.assert_allclose(back.rotations, clip.rotations, atol=1e-6)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path, clip, monkeypatch) -> None:
    path = tmp_path / "walk.csv"
    path.write_text("old contents\n")
    calls = []
    real = atomic.atomic_path

    def spy(target, suffix=None):
        calls.append(Path(target).name)
        return real(target, suffix)

    monkeypatch.setattr(atomic, "atomic_path", spy)
    mcsv.write_csv(clip, path)
    assert calls == ["walk.csv", "walk.skeleton.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.csv", "walk.skeleton.json"]


def test_write_skeleton_false_writes_only_the_csv(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv", write_skeleton=False)
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_precision_survives_large_positions(tmp_path: Path, clip) -> None:
    clip.root_positions[:] += 123456.0  # 1.2 km away: %.9g would lose the micrometres
    mcsv.write_csv(clip, tmp_path / "far.csv")
    back = mcsv.read_csv(tmp_path / "far.csv", use_cache=False)
    assert np.abs(back.root_positions - clip.root_positions).max() < 1e-6


def test_read_clip_and_write_clip_dispatch_to_csv(tmp_path: Path, clip) -> None:
    from maya_tool.io import write_clip

    write_clip(clip, tmp_path / "x.csv", header=False)
    assert_same_clip(clip, read_clip(tmp_path / "x.csv", use_cache=False))
    # One preset for a folder of mixed files: a CSV has its own skeleton and ignores it.
    assert_same_clip(clip, read_clip(tmp_path / "x.csv", use_cache=False, preset="cmu"))


# --- skeleton and fps ----------------------------------------------------------------------------


def test_no_sidecar_30_joints_assumes_cmu(tmp_path: Path, clip) -> None:
    path = write_rows(tmp_path / "bare.csv", cells_of(clip))
    with pytest.warns(UserWarning) as record:
        back = mcsv.read_csv(path)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert str(path) in messages[0] and "mocap-ae convert" in messages[0] and "CMU" in messages[0]
    assert back.skeleton.names == CMU_JOINT_NAMES and list(back.skeleton.parents) == CMU_PARENTS
    assert np.all(back.skeleton.offsets == 0)
    assert back.source["skeleton_assumed"] is True and back.source["fps_assumed"] is True
    assert back.fps == 120.0


def test_no_sidecar_other_joint_count_is_flat(tmp_path: Path) -> None:
    clip = small_clip(joints=6)
    path = write_rows(tmp_path / "six.csv", cells_of(clip))
    with pytest.warns(UserWarning, match="child of the root"):
        back = mcsv.read_csv(path, fps=30)
    assert back.skeleton.names == ["root", "joint1", "joint2", "joint3", "joint4", "joint5"]
    assert list(back.skeleton.parents) == [-1, 0, 0, 0, 0, 0]
    assert back.fps == 30.0 and back.source["fps_assumed"] is False


def test_header_names_the_joints_when_there_is_no_sidecar(tmp_path: Path) -> None:
    clip = small_clip(joints=4)
    path = write_rows(tmp_path / "h.csv", cells_of(clip), header=mcsv.channel_names(clip.skeleton))
    with pytest.warns(UserWarning, match="no skeleton file"):
        back = mcsv.read_csv(path)
    assert back.skeleton.names == ["root", "j1", "j2", "j3"]


def test_sidecar_fps_wins_over_argument(tmp_path: Path, clip) -> None:
    clip.fps = 60.0
    mcsv.write_csv(clip, tmp_path / "a.csv")
    assert mcsv.read_csv(tmp_path / "a.csv", fps=24).fps == 60.0


def test_shared_skeleton_json_in_folder_is_used(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    sidecar_path(tmp_path / "a.csv").rename(tmp_path / "skeleton.json")
    back = mcsv.read_csv(tmp_path / "a.csv")
    assert back.source["skeleton_path"] == str(tmp_path / "skeleton.json")
    assert back.skeleton.to_dict() == clip.skeleton.to_dict()


def test_skeleton_argument_overrides_sidecar(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv", header=False)
    other = synth.cmu_like_skeleton(seed=5)
    back = mcsv.read_csv(tmp_path / "a.csv", skeleton=other)
    assert back.skeleton is other and back.source["skeleton_path"] is None


def test_sidecar_with_wrong_joint_count(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    _flat_skeleton(13).save(sidecar_path(tmp_path / "a.csv"))
    with raises_at(tmp_path / "a.csv", 1, None, "a.skeleton.json has 13 joints", "7 + 4 x 12 = 55", "found 127"):
        mcsv.read_csv(tmp_path / "a.csv")


def test_header_that_differs_from_sidecar_names_the_column(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    text = (tmp_path / "a.csv").read_text().replace("LeftLeg_qy", "LeftKnee_qy", 1)
    (tmp_path / "a.csv").write_text(text)
    column = mcsv.channel_names(clip.skeleton).index("LeftLeg_qy") + 1
    with raises_at(tmp_path / "a.csv", 1, column, "'LeftKnee_qy'", "expected 'LeftLeg_qy'"):
        mcsv.read_csv(tmp_path / "a.csv")


def test_header_without_sidecar_must_follow_the_pattern(tmp_path: Path) -> None:
    clip = small_clip(joints=3)
    header = mcsv.channel_names(clip.skeleton)
    header[9] = "j2_qz"  # j1's qz
    path = write_rows(tmp_path / "h.csv", cells_of(clip), header=header)
    with raises_at(path, 1, 10, "'j2_qz'", "expected 'j1_qz'"):
        mcsv.read_csv(path)


def test_header_length_must_match_rows(tmp_path: Path) -> None:
    clip = small_clip(joints=3)
    path = write_rows(tmp_path / "h.csv", cells_of(clip), header=mcsv.channel_names(clip.skeleton)[:-1])
    with raises_at(path, 1, 15, "header row has 14 names but the rows have 15 values"):
        mcsv.read_csv_array(path)


# --- layout detection ----------------------------------------------------------------------------


def test_square_file_is_refused_with_fixes(tmp_path: Path) -> None:
    clip = small_clip(frames=127)
    path = write_rows(tmp_path / "square.csv", cells_of(clip))
    with raises_at(path, None, None, "127 x 127", "add a header row", "pass the skeleton", "layout='frames'"):
        mcsv.read_csv_array(path)
    np.testing.assert_allclose(mcsv.read_csv_array(path, layout="frames"), table_of(clip), atol=1e-6)


def test_square_file_with_header_is_fine(tmp_path: Path) -> None:
    clip = small_clip(frames=127)
    mcsv.write_csv(clip, tmp_path / "square.csv", write_skeleton=False)
    with pytest.warns(UserWarning, match="no skeleton file"):
        back = mcsv.read_csv(tmp_path / "square.csv")
    assert back.source["layout"] == "frames"


@pytest.mark.parametrize("frames", [131, 55])
def test_both_dimensions_fit_resolved_by_unit_quaternions(tmp_path: Path, frames: int) -> None:
    clip = small_clip(frames=frames)
    rows = write_rows(tmp_path / "rows.csv", cells_of(clip))
    columns = write_rows(tmp_path / "columns.csv", [list(r) for r in zip(*cells_of(clip))])
    np.testing.assert_allclose(mcsv.read_csv_array(rows), table_of(clip), atol=1e-6)
    np.testing.assert_allclose(mcsv.read_csv_array(columns), table_of(clip), atol=1e-6)


def test_neither_dimension_fits(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "odd.csv", np.full((10, 20), 0.5))
    with raises_at(path, 1, None, "expected 7 + 4 x joints columns (127 for 30 joints), found 20", "10 rows"):
        mcsv.read_csv_array(path)


def test_header_with_transposed_layout_is_refused(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    with raises_at(tmp_path / "a.csv", 1, None, "header row marks the one-row-per-frame layout"):
        mcsv.read_csv_array(tmp_path / "a.csv", layout="transposed")


def test_labels_in_first_column_get_a_hint(tmp_path: Path) -> None:
    clip = small_clip(frames=20)
    names = mcsv.channel_names(clip.skeleton)
    rows = [[names[i], *r] for i, r in enumerate(zip(*cells_of(clip)))]
    path = write_rows(tmp_path / "labelled.csv", rows)
    with raises_at(path, 1, 1, "found 'root_tx'", "header row"):
        mcsv.read_csv_array(path)


def test_crlf_bom_and_cr_only_files(tmp_path: Path, clip, parser) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    text = (tmp_path / "a.csv").read_text()
    expected = mcsv.read_csv_array(tmp_path / "a.csv", use_cache=False)
    for name, data in [
        ("crlf.csv", text.replace("\n", "\r\n").encode()),
        ("bom.csv", b"\xef\xbb\xbf" + text.encode()),
        ("cr.csv", text.replace("\n", "\r").encode()),
        ("trailing.csv", (text + "\n\n  \n").encode()),
    ]:
        (tmp_path / name).write_bytes(data)
        np.testing.assert_array_equal(mcsv.read_csv_array(tmp_path / name, skeleton=clip.skeleton), expected, name)


def test_read_csv_array_shape_and_dtype(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    values = mcsv.read_csv_array(tmp_path / "a.csv")
    assert values.shape == (240, 127) and values.dtype == np.float64 and values.flags.c_contiguous


# --- bad input -----------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path, parser) -> None:
    for content in ["", "\n \n"]:
        path = tmp_path / "empty.csv"
        path.write_text(content)
        with raises_at(path, None, None, "empty file", "7 + 4 x joints"):
            mcsv.read_csv_array(path)


def test_header_only(tmp_path: Path, clip) -> None:
    path = tmp_path / "h.csv"
    path.write_text(",".join(mcsv.channel_names(clip.skeleton)) + "\n")
    with raises_at(path, 2, None, "no frames after the header row"):
        mcsv.read_csv_array(path)


def test_missing_file(tmp_path: Path) -> None:
    with raises_at(tmp_path / "nope.csv", None, None, "file not found"):
        mcsv.read_csv(tmp_path / "nope.csv")


@pytest.mark.parametrize("header", [True, False])
def test_non_numeric_cell(tmp_path: Path, clip, parser, header: bool) -> None:
    cells = cells_of(clip)
    cells[4][9] = "12;5"
    path = write_rows(tmp_path / "bad.csv", cells, header=mcsv.channel_names(clip.skeleton) if header else None)
    with raises_at(path, 5 + header, 10, "expected a number, found '12;5'"):
        mcsv.read_csv(path)


def test_empty_cell(tmp_path: Path, clip, parser) -> None:
    cells = cells_of(clip)
    cells[7][0] = ""
    path = write_rows(tmp_path / "bad.csv", cells)
    with raises_at(path, 8, 1, "found an empty cell"):
        mcsv.read_csv_array(path)


def test_wrong_column_count(tmp_path: Path, clip, parser) -> None:
    path = write_rows(tmp_path / "short.csv", [r[:126] for r in cells_of(clip)])
    with raises_at(path, 1, None, "expected 7 + 4 x joints columns (127 for 30 joints), found 126"):
        mcsv.read_csv_array(path)


@pytest.mark.parametrize(("change", "count", "column"), [(-1, 126, 127), (+1, 128, 128)])
def test_ragged_row(tmp_path: Path, clip, parser, change: int, count: int, column: int) -> None:
    cells = cells_of(clip)
    cells[41] = cells[41][:-1] if change < 0 else cells[41] + ["0.5"]
    path = write_rows(tmp_path / "ragged.csv", cells)
    with raises_at(path, 42, column, f"row has {count} values, expected 127 like the first row"):
        mcsv.read_csv_array(path)


def test_blank_row_in_the_middle(tmp_path: Path, clip, parser) -> None:
    cells = cells_of(clip)
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(",".join(r) for r in cells[:10]) + "\n\n" + "\n".join(",".join(r) for r in cells[10:]))
    with raises_at(path, 11, None, "empty row: expected 127 values"):
        mcsv.read_csv_array(path)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_non_finite_values(tmp_path: Path, clip, parser, text: str) -> None:
    cells = cells_of(clip)
    cells[99][50] = text
    path = write_rows(tmp_path / "nan.csv", cells, header=mcsv.channel_names(clip.skeleton))
    with raises_at(path, 101, 51, f"expected a finite number, found '{text}'"):
        mcsv.read_csv_array(path)


def test_non_unit_quaternions_warn_and_normalise(tmp_path: Path, clip, parser) -> None:
    table = table_of(clip)
    table[6, 11:15] *= 1.2  # joint 2 (LeftUpLeg) of frame 7
    table[9, 3:7] *= 0.5  # root of frame 10
    table[30, 19:23] = 0.0  # a zero quaternion (joint 4) becomes the identity
    path = write_rows(tmp_path / "norms.csv", table)
    with pytest.warns(UserWarning) as record:
        values = mcsv.read_csv_array(path, skeleton=clip.skeleton)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert "3 quaternions not unit length" in messages[0]
    assert "the first at row 7, column 12" in messages[0] and "length 1.2" in messages[0]
    q = values[:, 3:].reshape(len(values), -1, 4)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(values[6, 11:15], clip.rotations[6, 2], atol=1e-6)
    np.testing.assert_array_equal(values[30, 19:23], [0, 0, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mcsv.read_csv(path, skeleton=clip.skeleton).source["normalised_quaternions"] == 3


def test_non_unit_quaternion_location_in_transposed_layout(tmp_path: Path) -> None:
    clip = small_clip(frames=200)
    table = table_of(clip)
    table[150, 7:11] *= 2.0  # joint 1 of frame 151
    path = write_rows(tmp_path / "t.csv", table.T)
    with pytest.warns(UserWarning, match="1 quaternion not unit length.*row 8, column 151"):
        mcsv.read_csv_array(path, skeleton=clip.skeleton)


def test_bad_sidecar_json_is_located(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    side = sidecar_path(tmp_path / "a.csv")
    side.write_text('{"format": "mocap-ae.skeleton",\n "joints": [}\n')
    with raises_at(side, 2, 13, "invalid JSON"):
        mcsv.read_csv(tmp_path / "a.csv")
    data = clip.skeleton.to_dict()
    data["fps"] = -5
    side.write_text(json.dumps(data))
    with raises_at(side, None, None, '"fps" must be a positive number'):
        mcsv.read_csv(tmp_path / "a.csv")


# --- cache ---------------------------------------------------------------------------------------


def test_cache_is_kept_in_the_user_cache_folder_not_beside_the_file(tmp_path: Path, clip, monkeypatch) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    age(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    first = mcsv.read_csv(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["walk.csv", "walk.skeleton.json"]
    files = cache.cache_files(path)
    assert len(files) == 1 and files[0].parent == cache.cache_dir()
    stat = path.stat()
    assert files[0].name.startswith("walk.csv-")
    assert files[0].name.endswith(f".{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}.mocap-ae-cache.npz")
    with np.load(files[0], allow_pickle=False) as archive:
        assert archive["values"].shape == (240, 127)
    assert first.source["cached"] is False

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cached reload parsed text")

    monkeypatch.setattr(mcsv, "_fast_parse", no_parsing)
    monkeypatch.setattr(mcsv, "_slow_parse", no_parsing)
    second = mcsv.read_csv(path)
    assert second.source["cached"] is True
    assert_same_clip(first, second, tol=0.0)


def test_two_files_of_one_name_in_two_folders_have_their_own_entries(tmp_path: Path) -> None:
    a, b = small_clip(frames=20), synth.smooth_clip(frames=20, seed=5, skeleton=synth.cmu_like_skeleton())
    for folder, clip in (("a", a), ("b", b)):
        mcsv.write_csv(clip, tmp_path / folder / "walk.csv")
        age(tmp_path / folder / "walk.csv")
    for _ in range(2):
        np.testing.assert_allclose(mcsv.read_csv_array(tmp_path / "a/walk.csv"), table_of(a), atol=1e-6)
        np.testing.assert_allclose(mcsv.read_csv_array(tmp_path / "b/walk.csv"), table_of(b), atol=1e-6)
    assert cache.cache_files(tmp_path / "a/walk.csv") != cache.cache_files(tmp_path / "b/walk.csv")


def test_cache_folder_follows_the_environment_and_off_disables_it(tmp_path: Path, clip, monkeypatch) -> None:
    path = age(_written(tmp_path / "walk.csv", clip))
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert not mcsv.read_csv(path).source["cached"]
    assert mcsv.read_csv(path).source["cached"]
    assert [p.parent for p in cache.cache_files(path)] == [tmp_path / "elsewhere"]
    for off in ("off", "OFF", "0", "none"):
        monkeypatch.setenv(cache.CACHE_ENV, off)
        assert cache.cache_dir() is None and cache.cache_files(path) == []
        assert mcsv.read_csv(path).source["cached"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "walk.csv", "walk.skeleton.json"]


def test_default_cache_folder_is_the_platform_user_cache(monkeypatch) -> None:
    platformdirs = pytest.importorskip("platformdirs")
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    assert cache.cache_dir() == Path(platformdirs.user_cache_dir("mocap-ae", appauthor=False)) / "csv"


def test_cache_is_bounded_and_evicts_the_least_recently_used(tmp_path: Path, monkeypatch) -> None:
    clips = [synth.smooth_clip(frames=100, seed=s, skeleton=synth.cmu_like_skeleton()) for s in range(4)]
    paths = [age(_written(tmp_path / f"c{i}.csv", c)) for i, c in enumerate(clips)]
    entry = 100 * 127 * 8
    monkeypatch.setenv(cache.SIZE_ENV, str(2.5 * entry / 1e6))  # room for two entries
    for i, path in enumerate(paths[:2]):
        mcsv.read_csv_array(path)
        os.utime(cache.cache_files(path)[0], (1000 + i, 1000 + i))  # c0 used first, c1 after
    assert mcsv.read_csv_array(paths[0]) is not None  # a hit: c0 is now the most recent
    mcsv.read_csv_array(paths[2])
    assert [bool(cache.cache_files(p)) for p in paths] == [True, False, True, False]
    mcsv.read_csv_array(paths[3])
    assert [bool(cache.cache_files(p)) for p in paths] == [False, False, True, True]
    monkeypatch.setenv(cache.SIZE_ENV, "0")  # an entry larger than the bound is not stored at all
    cache.clear(paths[0])
    mcsv.read_csv_array(paths[0])
    assert not cache.cache_files(paths[0])


def _written(path: Path, clip) -> Path:
    mcsv.write_csv(clip, path)
    return path


def test_cache_of_transposed_file_gives_the_same_array(tmp_path: Path) -> None:
    clip = small_clip(frames=50)
    mcsv.write_csv(clip, tmp_path / "t.csv", layout="transposed")
    age(tmp_path / "t.csv")
    cold = mcsv.read_csv_array(tmp_path / "t.csv")
    assert cache.cache_files(tmp_path / "t.csv")
    np.testing.assert_array_equal(mcsv.read_csv_array(tmp_path / "t.csv"), cold)


def test_changed_file_misses_and_stale_cache_is_removed(tmp_path: Path, clip) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    mcsv.read_csv_array(path)
    assert not cache.cache_files(path), "a file written just now must not be cached yet"
    mcsv.read_csv_array(age(path))
    old = cache.cache_files(path)
    assert len(old) == 1
    other = synth.smooth_clip(seed=3, skeleton=clip.skeleton)
    text = path.read_text().splitlines()
    new_row = ",".join(f"{v:.9f}" for v in table_of(other)[0])
    path.write_text("\n".join([text[0], new_row, *text[2:]]) + "\n")  # in place: same inode
    values = mcsv.read_csv_array(path)
    np.testing.assert_allclose(values[0], table_of(other)[0], atol=1e-6)
    assert not cache.cache_files(path), "the stale cache was not removed"
    np.testing.assert_array_equal(mcsv.read_csv_array(age(path)), values)
    new = cache.cache_files(path)
    assert len(new) == 1 and new != old


def test_rewrite_by_write_csv_never_serves_stale_data(tmp_path: Path, clip) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    mcsv.read_csv_array(age(path))
    assert cache.cache_files(path)
    other = synth.smooth_clip(seed=4, skeleton=clip.skeleton)
    mcsv.write_csv(other, path)  # same size is likely, same mtime tick possible: the inode differs
    assert not cache.cache_files(path)
    np.testing.assert_allclose(mcsv.read_csv_array(path), table_of(other), atol=1e-6)


def test_read_only_folder_silently_skips_the_cache(tmp_path: Path, clip, monkeypatch) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    age(path)

    def read_only(target, suffix=None):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(cache.atomic, "atomic_path", read_only)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = mcsv.read_csv_array(path)
    assert values.shape == (240, 127) and not cache.cache_files(path)


def test_damaged_or_edited_cache_is_ignored_and_removed(tmp_path: Path, clip) -> None:
    path = tmp_path / "walk.csv"
    mcsv.write_csv(clip, path)
    expected = mcsv.read_csv_array(age(path), use_cache=False)
    entry = cache.cache_path(path)
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(b"PK garbage")
    np.testing.assert_array_equal(mcsv.read_csv_array(path), expected)
    assert cache.cache_files(path) == [entry]
    with np.load(entry, allow_pickle=False) as archive:
        stored = archive["values"].copy()
    edited = stored.copy()
    edited[3, 5] = np.nan
    nan_digest = cache._digest(edited)
    # Edited numbers with the old digest, NaN with a matching digest, strings: each is a miss, then replaced.
    for values, digest in ((edited, cache._digest(stored)), (edited, nan_digest), (np.array(["a", "b"]), nan_digest)):
        with open(entry, "wb") as handle:
            np.savez(handle, values=values, digest=digest)
        assert cache.load(path) is None and not entry.exists()
        np.testing.assert_array_equal(mcsv.read_csv_array(path), expected)
        assert np.isfinite(mcsv.read_csv_array(path)).all()


def test_use_cache_false_writes_nothing(tmp_path: Path, clip) -> None:
    mcsv.write_csv(clip, tmp_path / "a.csv")
    mcsv.read_csv(age(tmp_path / "a.csv"), use_cache=False)
    assert not cache.cache_files(tmp_path / "a.csv")


def test_bad_file_is_never_cached(tmp_path: Path, clip) -> None:
    cells = cells_of(clip)
    cells[3][3] = "nan"
    path = age(write_rows(tmp_path / "bad.csv", cells))
    for _ in range(2):
        with raises_at(path, 4, 4, "finite"):
            mcsv.read_csv_array(path)
    assert not cache.cache_files(path)


def test_cache_store_refuses_when_source_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("1,2\n")
    stat = path.stat()
    path.write_text("1,2,3\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.store(path, np.zeros((1, 2)), stat) is None
    assert not cache.cache_files(path)

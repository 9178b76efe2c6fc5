"""Model files an artist or an attacker may hand over: refused with a located line, never half-run."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli
from maya_tool.errors import MocapError
from maya_tool.models import architectures, modelfile, runtime
from maya_tool.presets import CMU_JOINT_NAMES


def _model(tmp_path: Path, architecture: str = "pose") -> Path:
    return architectures.untrained_model_set(tmp_path, "m", architecture, list(CMU_JOINT_NAMES))


def _arrays(tmp_path: Path) -> dict[str, np.ndarray]:
    with np.load(tmp_path / "m.npz") as archive:
        return {k: archive[k] for k in archive.files}


def _rewrite(tmp_path: Path, path: Path, arrays: dict[str, np.ndarray] | None = None, data: bytes | None = None,
             **meta_changes) -> None:
    """Replace the weights and/or sidecar keys, re-registering the hash as a training job would."""
    if arrays is not None:
        data = modelfile.npz_bytes(arrays)
    if data is not None:
        (tmp_path / "m.npz").write_bytes(data)
    meta = json.loads(path.read_text())
    meta["weights"]["sha256"] = modelfile.sha256_file(tmp_path / "m.npz")
    meta.update(meta_changes)
    path.write_text(json.dumps(meta))


def _refused(path: Path, match: str) -> MocapError:
    with pytest.raises(MocapError, match=match) as info:
        runtime.load_model(path, cache=False)
    return info.value


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_weights_are_refused(tmp_path: Path, bad: float) -> None:
    path = _model(tmp_path)
    arrays = _arrays(tmp_path)
    key = next(k for k in arrays if k.endswith(".kernel"))
    arrays[key][0, 0] = bad
    _rewrite(tmp_path, path, arrays)
    error = _refused(path, rf"weight '{key}' holds NaN or infinite values")
    assert error.path == str(tmp_path / "m.npz")


def test_an_unsupported_latent_dtype_is_refused(tmp_path: Path) -> None:
    path = _model(tmp_path)
    _rewrite(tmp_path, path, latent_dtype="int8")
    assert _refused(path, "latent_dtype 'int8' is not supported: expected float32 or float16").path == str(path)


def test_a_kernel_of_the_wrong_shape_is_named_by_its_layer(tmp_path: Path) -> None:
    path = _model(tmp_path)
    arrays = _arrays(tmp_path)
    key = next(k for k in arrays if k.endswith(".kernel"))
    layer = key[: -len(".kernel")]
    arrays[key] = arrays[key][:-1]  # one input row short
    _rewrite(tmp_path, path, arrays)
    _refused(path, rf"layer '{layer}' \(dense\): kernel has shape \({arrays[key].shape[0]}, \d+\), expected \(120, ")


@pytest.mark.parametrize("file", ["../m.npz", "/etc/passwd", "sub/m.npz", "..", ""])
def test_sidecar_weights_must_be_in_the_models_own_folder(tmp_path: Path, file: str) -> None:
    folder = tmp_path / "models"
    path = _model(folder)
    (tmp_path / "m.npz").write_bytes((folder / "m.npz").read_bytes())  # a valid npz one folder up
    meta = json.loads(path.read_text())
    meta["weights"]["file"] = file
    path.write_text(json.dumps(meta))
    error = _refused(path, "must name a file in the model's own folder")
    assert error.path == str(path)
    assert modelfile.list_models([folder]) == []


def _npz_with_header(shape: tuple[int, ...]) -> bytes:
    """An npz whose one member claims ``shape`` float32 but holds 16 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("enc1.kernel.npy", header.getvalue() + b"\0" * 16)
    return buffer.getvalue()


def test_weights_claiming_more_memory_than_the_file_holds_are_refused_before_allocating(tmp_path: Path) -> None:
    path = _model(tmp_path)
    _rewrite(tmp_path, path, data=_npz_with_header((100_000, 1_000_000)))  # 373 GiB
    error = _refused(path, r"'enc1.kernel.npy' claims shape \(100000, 1000000\) \(373 GiB\) but the file holds 16 bytes")
    assert error.path == str(tmp_path / "m.npz")


def test_evaluate_refuses_a_damaged_model_with_one_line_and_exit_2(tmp_path: Path, clip, capsys) -> None:
    from maya_tool.io import write_clip

    path = _model(tmp_path / "models")
    arrays = _arrays(tmp_path / "models")
    arrays[next(iter(arrays))][...] = np.nan
    _rewrite(tmp_path / "models", path, arrays)
    write_clip(clip, tmp_path / "walk.csv")
    code = cli.main(["evaluate", "--model", str(path), str(tmp_path / "walk.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "NaN or infinite" in err

"""PCA: the linear answer to "do we need a neural network at all?".

A pose autoencoder at 4:1 keeps 30 numbers of the 120 quaternion components;
PCA with 30 components keeps the 30 directions of largest variance of the
training poses. If the autoencoder does not beat it, its non-linearity buys
nothing. :class:`PCA` offers the same ``check_clip`` / ``reconstruct`` /
``ratio`` / ``bits_per_frame`` surface as the numpy model runtime, so the
evaluation, the node and the panel take either.

Files are plain ``.npz`` (no pickle), like the model weights.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from . import atomic
from . import quaternion as quat
from .clip import Clip
from .errors import MocapError, ModelMismatchError

FloatArray = NDArray[np.float64]

PCA_FORMAT = "mocap-ae.pca"
PCA_VERSION = 1
BITS_PER_NUMBER = 32
"""Components are stored as float32, the same budget the autoencoder latents get."""


class PCA:
    """Principal components of training poses, used as a pose codec.

    Attributes:
        mean: (D,) mean pose, D = 4 * (J-1).
        components: (n, D) orthonormal rows, largest variance first.
        explained_variance: (n,) variance along each component.
        joint_names: All J joint names (root first) when known; clips are
            checked against them.
        name: A label for tables and the panel.
        path: The file it was loaded from, if any.
    """

    architecture = "pca"

    def __init__(
        self,
        mean: Any,
        components: Any,
        explained_variance: Any | None = None,
        *,
        joint_names: Sequence[str] | None = None,
        name: str | None = None,
        path: os.PathLike[str] | str | None = None,
    ) -> None:
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.components = np.asarray(components, dtype=np.float64)
        if self.components.ndim != 2 or self.components.shape[1] != self.mean.size:
            raise ValueError(f"components must be (n, {self.mean.size}), got {self.components.shape}")
        if self.mean.size % 4:
            raise ValueError(f"pose size {self.mean.size} is not a multiple of 4 (quaternions)")
        n = self.components.shape[0]
        self.explained_variance = (
            np.zeros(n) if explained_variance is None else np.asarray(explained_variance, dtype=np.float64).reshape(-1)
        )
        self.joint_names = list(joint_names) if joint_names is not None else None
        self.name = name or f"pca-{n}"
        self.path = Path(path) if path is not None else None

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    @property
    def input_size(self) -> int:
        """Numbers per frame in: 4 per non-root joint."""
        return int(self.mean.size)

    @property
    def ratio(self) -> float:
        """Compression ratio against 4(J-1) float32 numbers per frame."""
        return self.input_size / self.n_components

    @property
    def bits_per_frame(self) -> int:
        return BITS_PER_NUMBER * self.n_components

    @property
    def meta(self) -> dict[str, Any]:
        """A sidecar-like description, for code that shows model details."""
        return {
            "name": self.name,
            "architecture": self.architecture,
            "params": {"n_components": self.n_components},
            "joint_names": self.joint_names,
            "ratio": self.ratio,
            "bits_per_frame": self.bits_per_frame,
            "explained_variance": [float(v) for v in self.explained_variance],
        }

    @classmethod
    def fit(
        cls,
        poses: Any,
        n_components: int = 30,
        *,
        joint_names: Sequence[str] | None = None,
        name: str | None = None,
    ) -> "PCA":
        """Fit on training poses (N, 4(J-1)), e.g. ``Dataset.poses``.

        Uses the eigenvectors of the D x D covariance, which is cheap for any N
        since D is 120 for CMU skeletons.

        Raises:
            ValueError: Fewer than two poses or more components than numbers.
        """
        x = np.asarray(poses, dtype=np.float64)
        if x.ndim == 3:
            x = x.reshape(len(x), -1)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"need at least two poses of shape (N, 4 * joints), got {x.shape}")
        if not 1 <= n_components <= x.shape[1]:
            raise ValueError(f"n_components must be between 1 and {x.shape[1]}, got {n_components}")
        mean = x.mean(axis=0)
        centred = x - mean
        cov = centred.T @ centred / (len(x) - 1)
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1][:n_components]
        return cls(mean, vectors[:, order].T, np.maximum(values[order], 0.0), joint_names=joint_names, name=name)

    @classmethod
    def fit_clips(cls, clips: Sequence[Clip], n_components: int = 30, *, name: str | None = None) -> "PCA":
        """Fit on the poses of clips that share a joint layout."""
        if not clips:
            raise ValueError("no clips to fit on")
        names = clips[0].skeleton.names
        for clip in clips[1:]:
            if clip.skeleton.names != names:
                raise MocapError("all training clips need the joints of the first one", path=clip.source.get("path"))
        poses = np.concatenate([c.pose_features(np.float64) for c in clips])
        return cls.fit(poses, n_components, joint_names=names, name=name)

    def check_clip(self, clip: Clip) -> None:
        """Raise :class:`ModelMismatchError` saying which joints or sizes differ."""
        if self.joint_names is not None and clip.skeleton.names != self.joint_names:
            missing = [n for n in self.joint_names if n not in clip.skeleton.names]
            extra = [n for n in clip.skeleton.names if n not in self.joint_names]
            parts = []
            if missing:
                parts.append(f"missing joints {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected joints {', '.join(extra)}")
            if not parts:
                parts.append("same joints in another order")
            raise ModelMismatchError(
                f"{self.name} was fitted on another skeleton: {'; '.join(parts)}", path=self.path
            )
        size = 4 * clip.skeleton.num_bones
        if size != self.input_size:
            raise ModelMismatchError(
                f"{self.name} expects {self.input_size} numbers per frame ({self.input_size // 4} joints besides "
                f"the root), the clip has {size} ({clip.skeleton.num_bones})",
                path=self.path,
            )

    def _flat(self, joint_rotations: Any) -> FloatArray:
        x = np.asarray(joint_rotations, dtype=np.float64)
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != self.input_size:
            raise ModelMismatchError(
                f"{self.name} expects {self.input_size} numbers per frame, got {flat.shape[1]}", path=self.path
            )
        return flat

    def encode(self, joint_rotations: Any) -> FloatArray:
        """(F, n) coordinates along the components."""
        return (self._flat(joint_rotations) - self.mean) @ self.components.T

    def decode(self, latent: Any) -> FloatArray:
        """(F, J-1, 4) unit quaternions (w >= 0) from component coordinates."""
        z = np.asarray(latent, dtype=np.float64).reshape(-1, self.n_components)
        poses = z @ self.components + self.mean
        return quat.positive_w(quat.normalize(poses.reshape(len(z), -1, 4)))

    def reconstruct(self, joint_rotations: Any) -> FloatArray:
        """Project onto the components and back; renormalised, w >= 0."""
        return self.decode(self.encode(joint_rotations))

    def apply(self, clip: Clip) -> Clip:
        """The clip with its joint rotations reconstructed."""
        self.check_clip(clip)
        return clip.with_joint_rotations(self.reconstruct(clip.joint_rotations), model=self.name)

    def export_model(self, directory: os.PathLike[str] | str, name: str | None = None) -> Path:
        """Write the PCA as a model set the numpy runtime (and so Maya) loads.

        PCA is a linear autoencoder: the encoder is one dense layer (kernel
        ``components.T``, bias ``-mean @ components.T``), the decoder another
        (kernel ``components``, bias ``mean``). Exported this way it can be
        picked in the panel or the node next to trained models.

        Returns:
            The sidecar path.

        Raises:
            MocapError: When the joint names are unknown (the sidecar needs them).
        """
        from .models import modelfile

        if self.joint_names is None:
            raise MocapError("cannot export a PCA without joint names: fit it with fit_clips or give joint_names")
        name = modelfile.validate_name(name or self.name)
        components = self.components.astype(np.float32)
        weights = {
            "encoder.kernel": np.ascontiguousarray(components.T),
            "encoder.bias": (-self.mean @ self.components.T).astype(np.float32),
            "decoder.kernel": components,
            "decoder.bias": self.mean.astype(np.float32),
        }
        meta = {
            "architecture": "pose",
            "params": {"baseline": "pca", "n_components": self.n_components, "latent_dtype": "float32"},
            "joint_names": list(self.joint_names),
            "input_layout": {"name": modelfile.INPUT_LAYOUT, "size": self.input_size},
            "normalisation": None,
            "network": {
                "encoder": [{"type": "dense", "name": "encoder", "activation": "linear"}],
                "decoder": [{"type": "dense", "name": "decoder", "activation": "linear"}],
            },
            "latent_per_frame": self.n_components,
            "ratio": self.ratio,
            "bits_per_frame": self.bits_per_frame,
            "training": {"baseline": "pca", "explained_variance": [float(v) for v in self.explained_variance]},
            "evaluation": None,
        }
        return modelfile.save_model_set(directory, name, meta, weights)

    def save(self, path: os.PathLike[str] | str) -> None:
        """Write ``path`` (.npz) atomically; loadable without pickle."""
        arrays: dict[str, Any] = {
            "format": np.array(PCA_FORMAT),
            "version": np.array(PCA_VERSION),
            "name": np.array(self.name),
            "mean": self.mean,
            "components": self.components,
            "explained_variance": self.explained_variance,
        }
        if self.joint_names is not None:
            arrays["joint_names"] = np.array(self.joint_names, dtype=str)
        with atomic.atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        self.path = Path(path)

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> "PCA":
        """Read a file written by :meth:`save`.

        Raises:
            MocapError: Missing, unreadable or not a PCA file, naming it.
        """
        path = Path(path)
        if not path.is_file():
            raise MocapError("no such PCA file", path=path)
        try:
            with np.load(path, allow_pickle=False) as data:
                fmt = str(data["format"]) if "format" in data.files else ""
                if fmt != PCA_FORMAT:
                    raise MocapError(f'not a PCA file: expected "format" = "{PCA_FORMAT}"', path=path)
                missing = [k for k in ("mean", "components") if k not in data.files]
                if missing:
                    raise MocapError(f"PCA file lacks {', '.join(missing)}", path=path)
                names = [str(n) for n in data["joint_names"]] if "joint_names" in data.files else None
                return cls(
                    data["mean"],
                    data["components"],
                    data["explained_variance"] if "explained_variance" in data.files else None,
                    joint_names=names,
                    name=str(data["name"]) if "name" in data.files else None,
                    path=path,
                )
        except MocapError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise MocapError(f"cannot read PCA file: {exc}", path=path) from exc

"""What every faithfulness metric starts from: the instances, their attributions over
features, and a way to remove any set of features from any instance, a chunk at a time.

A *feature* is what an attribution scores: a table column, a token (every
occurrence of it), an image segment, a pixel (all its channels) or one input
element. An instance ``x_i`` of shape ``S`` has a feature map ``fmap`` of
shape ``S`` (the feature of every element; a channel axis of size 1 when
all channels of a pixel are one feature); removing the features where a
mask row is 0 replaces those elements with the baseline:
``where(keep[fmap], x_i, b_i)``, built for a whole chunk of mask rows with one
fancy index (no Python loop per row, except for text, where the strings are
joined per row). The removal itself is in :mod:`whylens.metrics._removers`,
the baselines in :mod:`whylens.metrics._baselines`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens._convention import as_numpy, check_batch_size, checked_callback, resolve_target
from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, NotSupportedError, describe
from whylens.metrics._baselines import image_baseline, table_baseline
from whylens.metrics._removers import NumericRemover, TextRemover
from whylens.models import Model, as_model

__all__ = ["Task", "check_not_supported_shift", "resolve", "run_masks", "wrap_model"]


def wrap_model(model: Any, batch_size: Any) -> Model:
    """``model`` as a :class:`~whylens.models.Model` with ``batch_size`` rows per call."""
    size = check_batch_size(batch_size)
    if isinstance(model, Model):
        return model if size is None else as_model(model, chunk_size=size)
    return as_model(model, chunk_size=size)


# ---------------------------------------------------------------------- the task
@dataclass
class Task:
    """Instances, attributions and removal, resolved once for a metric.

    Attributes
    ----------
    kind : {"tabular", "image", "text"}
    n : int
        Instances.
    attributions : ndarray of shape (n, n_labels, n_features)
    labels : ndarray of int64, shape (n, n_labels)
    feature_shape : tuple
        Shape of one instance's attributions as given (before flattening).
    remover : object
        ``build(instances, keep=None, shift=None)`` -> model inputs.
    model : Model
    params : dict
        The resolved baseline, for the result's record.
    """

    kind: str
    n: int
    attributions: np.ndarray
    labels: np.ndarray
    feature_shape: tuple[int, ...]
    remover: Any
    model: Model
    params: dict[str, Any]

    @property
    def n_features(self) -> int:
        return int(self.attributions.shape[2])

    @property
    def n_labels(self) -> int:
        return int(self.attributions.shape[1])


def _is_text(x: Any) -> bool:
    if isinstance(x, str):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "UO" and x.ndim == 1 and all(isinstance(t, str) for t in x)
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(t, str) for t in x)


def _explanation_parts(explanation: Any, x: Any, target: Any
                       ) -> tuple[np.ndarray, np.ndarray | None, Any, Any]:
    """(values (n, L, *fshape), labels (n, L) or None, x, the Explanation or None)."""
    from whylens.explanation import Explanation

    if isinstance(explanation, Explanation):
        if target is not None:
            raise InputError(describe(
                "target", "None when an Explanation is given (its labels are scored)", target,
                "Select labels with exp[:, :, [j]], or pass the attributions as an array."))
        values = np.asarray(explanation.values, dtype=np.float64)
        n, n_labels = values.shape[:2]
        labels = np.broadcast_to(explanation.labels, (n, n_labels)).astype(np.int64)
        if x is None:
            f = explanation.features
            if f.texts is not None:
                x = list(f.texts)
            elif f.data is not None:
                x = np.asarray(f.data)
                if explanation.method.startswith("torch.") and x.ndim == 4:
                    x = np.ascontiguousarray(np.moveaxis(x, -1, 1))  # undo to_channels_last
            else:
                raise InputError(describe(
                    "x", "the explained inputs (this Explanation does not keep them)", None,
                    "Pass x=, the inputs the explanation was computed on."))
        return values, labels, x, explanation
    values = as_numpy(explanation)
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(
            "explanation", "an Explanation or an array of attributions (n, *feature_shape)",
            explanation)) from exc
    if values.ndim < 2:
        raise InputError(describe(
            "explanation", "attributions of shape (n, *feature_shape)", values,
            "Add the instance axis, e.g. values[None]."))
    if x is None:
        raise InputError(describe("x", "the explained inputs when explanation is an array",
                                  None))
    return values[:, None], None, x, None


def _spatial_layout(shape: tuple[int, ...]) -> int | None:
    """The channel axis of one image of ``shape`` (None for a grey (H, W) image)."""
    if len(shape) != 3:
        return None
    if shape[-1] <= 4:
        return 2
    if shape[0] <= 4:
        return 0
    return 2


def _feature_map(values: np.ndarray, x_shape: tuple[int, ...], segments: Any,
                 ) -> tuple[np.ndarray, np.ndarray, bool, int | None]:
    """(attributions (n, L, F), fmap, per_instance_map, channel axis)."""
    n, n_labels = values.shape[:2]
    fshape = tuple(values.shape[2:])
    size = int(np.prod(x_shape, dtype=np.int64))
    channel = _spatial_layout(x_shape)
    if segments is not None and len(fshape) == 1 and len(x_shape) in (2, 3):
        seg = np.asarray(segments)
        if seg.shape[0] != n or seg.ndim != 3:
            raise InputError(describe("explanation", "features.segments of shape (n, H, W)",
                                      seg))
        spatial = x_shape if len(x_shape) == 2 else tuple(
            s for a, s in enumerate(x_shape) if a != channel)
        if tuple(seg.shape[1:]) == spatial:
            if seg.min() < 0 or seg.max() >= fshape[0]:
                raise InputError(describe(
                    "explanation", f"segment ids in [0, {fshape[0]}) (one value per segment)",
                    got_text=f"ids from {seg.min()} to {seg.max()}"))
            fmap = seg.astype(np.int64)
            if channel is not None:  # broadcast over the channels when used
                fmap = np.expand_dims(fmap, channel + 1)
            return values.reshape(n, n_labels, -1), fmap, True, channel
    if fshape == x_shape:
        return values.reshape(n, n_labels, size), np.arange(size).reshape(x_shape), False, \
            channel
    if len(fshape) > len(x_shape) and fshape[: len(x_shape)] == x_shape:  # (T, E) per token
        summed = values.reshape(n, n_labels, size, -1).sum(axis=3)
        return summed, np.arange(size).reshape(x_shape), False, channel
    if len(x_shape) == 3 and len(fshape) == 2:
        for axis in (channel, 2, 0):
            if axis is not None and tuple(s for a, s in enumerate(x_shape) if a != axis) \
                    == fshape:
                pixels = np.arange(fshape[0] * fshape[1]).reshape(fshape)
                fmap = np.expand_dims(pixels, axis)  # broadcast over the channels when used
                return values.reshape(n, n_labels, -1), fmap, False, axis
    raise InputError(describe(
        "explanation", f"attributions shaped like one input {x_shape}, its spatial map, or "
        "one value per segment", got_text=f"attributions of shape {fshape} per instance",
        fix="Score an explanation of these inputs: pass the x it was computed on."))


def resolve(model: Any, explanation: Any, x: Any = None, *, target: Any = None,
            baseline: Any = None, background: Any = None, n_background: int = 20,
            blur_sigma: float = 5.0, batch_size: Any = None, random_state: Any = 0) -> Task:
    """Resolve a metric's inputs once (see the module docstring).

    The arguments are those of :func:`whylens.metrics.deletion`.

    Raises
    ------
    InputError, InputTypeError
        An explanation that does not fit the inputs, a baseline of the wrong
        shape or kind, text without token offsets.
    """
    values, labels, x, exp = _explanation_parts(explanation, x, target)
    n_background = check_positive_int("n_background", n_background)
    wrapped = wrap_model(model, batch_size)
    rng = check_random_state(random_state)
    n = values.shape[0]
    if _is_text(x):
        texts = [x] if isinstance(x, str) else [str(t) for t in x]
        if len(texts) != n:
            raise InputError(describe("x", f"{n} texts (one per explained instance)",
                                      got_text=f"{len(texts)} texts"))
        spans = None if exp is None else exp.features.spans
        if spans is None or len(spans) != n:
            raise InputError(describe(
                "explanation", "a text Explanation with features.spans (token offsets)",
                explanation, "Pass the Explanation a whylens text method returned."))
        if values.ndim != 3:
            raise InputError(describe("explanation", "one value per token feature",
                                      got_text=f"values of shape {values.shape}"))
        if baseline is not None and not isinstance(baseline, str):
            raise InputTypeError(describe(
                "baseline", "None (remove the tokens) or a mask token (str) for text", baseline))
        mask = "" if baseline is None else baseline
        remover: Any = TextRemover(texts, spans, values.shape[2], mask)
        if labels is None:
            labels = resolve_target(target, wrapped(texts), output_names=wrapped.output_names)
        return Task("text", n, values, labels, tuple(values.shape[2:]), remover, wrapped,
                    {"baseline": "remove" if baseline is None else "mask_token",
                     "mask_token": mask})
    columns = None
    dtypes = None
    if hasattr(x, "columns") and hasattr(x, "to_numpy"):  # a pandas DataFrame
        columns, dtypes = list(x.columns), x.dtypes
        try:
            xa = x.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(describe("x", "a DataFrame of numeric columns", x)) from exc
    else:
        xa = as_numpy(x)
        if not isinstance(xa, np.ndarray):
            try:
                xa = np.asarray(xa)
            except (TypeError, ValueError) as exc:
                raise InputTypeError(describe("x", "an array, tensor, DataFrame or texts",
                                              x)) from exc
        if xa.dtype.kind not in "biuf":
            raise InputTypeError(describe("x", "numeric inputs (or a list of texts)", xa))
    if xa.ndim < 2:
        raise InputError(describe("x", "a batch of inputs (n, ...)", xa,
                                  "Add the instance axis, e.g. x[None]."))
    if xa.shape[0] != n:
        raise InputError(describe("x", f"{n} inputs (one per explained instance)",
                                  got_text=f"{xa.shape[0]} inputs (shape {xa.shape})"))
    if xa.dtype.kind == "f" and not np.isfinite(xa).all():
        raise InputError(describe("x", "finite inputs", got_text="NaN or infinity"))
    segments = None if exp is None else exp.features.segments
    flat, fmap, per_map, channel = _feature_map(values, tuple(xa.shape[1:]), segments)
    to_model = None
    if columns is not None:
        import pandas as pd

        def to_model(chunk: np.ndarray) -> Any:
            return pd.DataFrame(chunk, columns=columns).astype(dtypes)
    if xa.ndim == 2:
        kind = "tabular"
        if baseline is None and xa.dtype.kind in "biu":
            baseline = "zero"  # token ids: 0, usually padding (as the torch methods)
        base, record = table_baseline(baseline, background, xa, n_background, rng)
        if xa.dtype.kind in "biu":
            base = base.round()
        remover = NumericRemover(xa, fmap, per_map, base.astype(np.float64), False, to_model)
    else:
        kind = "image"
        base, per_instance, record = image_baseline(baseline, xa, channel, blur_sigma)
        remover = NumericRemover(xa, fmap, per_map, base, per_instance, to_model)
    if labels is None:
        labels = resolve_target(target, wrapped(xa if to_model is None else to_model(xa)),
                                output_names=wrapped.output_names)
    return Task(kind, n, flat, labels, tuple(values.shape[2:]), remover, wrapped, record)


def run_masks(task: Task, n_masks: int,
              masks: Callable[[int, int], tuple[np.ndarray, np.ndarray | None,
                                                np.ndarray | None]],
              *, progress: bool | None, callback: Any) -> np.ndarray:
    """Model outputs of ``n_masks`` mask rows, in chunked calls of the task's model.

    Parameters
    ----------
    masks : callable
        ``masks(a, b) -> (instances (m,), keep (m, F) bool or None, shift (m, F) or None)``
        for mask rows ``a..b``.

    Returns
    -------
    ndarray of shape (n_masks, n_outputs)
        Averaged over the baseline rows of each mask row.
    """
    remover = task.remover
    k = remover.k

    def make_chunk(start: int, stop: int) -> Any:
        a, b = start // k, -(-stop // k)
        instances, keep, shift = masks(a, b)
        batch = remover.build(instances, keep, shift)
        lo, hi = start - a * k, stop - a * k
        if lo == 0 and hi == (b - a) * k:
            return batch
        return batch.iloc[lo:hi] if hasattr(batch, "iloc") else batch[lo:hi]

    sample = make_chunk(0, min(k, n_masks * k))
    out = task.model.call_chunked(n_masks * k, make_chunk, sample=sample, progress=progress,
                                  callback=checked_callback(callback))
    if k > 1:
        out = out.reshape(n_masks, k, -1).mean(axis=1)
    return out


def check_not_supported_shift(task: Task) -> None:
    """Gaussian perturbations need numeric inputs."""
    if not task.remover.numeric:
        raise NotSupportedError(describe(
            "perturbation", "'subset' for text (tokens are removed, not shifted)",
            "gaussian", "Pass perturbation='subset'."))

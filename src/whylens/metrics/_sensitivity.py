"""Sensitivity-max (Yeh et al., 2019), as ``captum.metrics.sensitivity_max``."""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens._convention import as_numpy, checked_callback
from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, describe
from whylens.metrics._explain_calls import (
    attribution_rows,
    check_explain,
    check_same_shape,
    labels_of,
)
from whylens.metrics._result import MetricResult, RandomControl

__all__ = ["sensitivity_max"]


def _norms(diff: np.ndarray, norm: str) -> np.ndarray:
    flat = diff.reshape(*diff.shape[:2], -1)
    if norm == "inf":
        return np.abs(flat).max(axis=-1)
    return np.sqrt((flat * flat).sum(axis=-1))


def _like(x: Any, values: np.ndarray) -> Any:
    """``values`` in the type of ``x`` (a tensor on x's device and dtype, else numpy)."""
    if hasattr(x, "detach") and hasattr(x, "device"):
        import torch

        return torch.as_tensor(values, dtype=x.dtype, device=x.device)
    return values.astype(np.asarray(x).dtype, copy=False)


def _rows_of_target(target: Any, n: int, repeats: int) -> Any:
    arr = as_numpy(target)
    if isinstance(arr, (str, int, np.integer)) or arr is None:
        return arr
    arr = np.asarray(arr)
    if arr.ndim == 1 and arr.shape[0] == n:
        return np.repeat(arr, repeats)
    return target


def sensitivity_max(explain: Any, x: Any, *, target: Any = None, radius: float = 0.02,
                    n_samples: int = 10, norm: str = "fro", batch_size: int | None = None,
                    n_random: int = 5, random_state: Any = 0, progress: bool | None = None,
                    callback: Any = None) -> MetricResult:
    """The largest relative change of the attributions under small input noise.

    ``max_j ||a(x + d_j) - a(x)|| / ||a(x)||`` over ``n_samples`` draws
    ``d_j`` uniform in the L-infinity ball of ``radius`` (captum's default
    perturbation; a zero ``||a(x)||`` divides by 1, as captum). Lower is
    better; the saliency of a linear model gives 0.

    Parameters
    ----------
    explain : callable
        ``explain(x_batch) -> Explanation or array (n, *feature_shape)``, e.g.
        ``whylens.torch.Saliency(model)``; with ``target`` it is called as
        ``explain(x_batch, target=...)``.
    x : ndarray or Tensor of shape (n, ...)
        Numeric inputs.
    target : None, int or sequence of length n, optional
        Passed on (repeated for the perturbed rows), so every call explains
        the same output. None: by default the labels the first call
        explained are passed on when ``explain`` returns an Explanation.
    radius : float, default=0.02
    n_samples : int, default=10
        Perturbations per instance.
    norm : {"fro", "inf"}, default="fro"
    batch_size : int, optional
        Perturbed rows per call of ``explain`` (default: all at once).
    n_random : int, default=5
        Draws for the control: independent random attributions at x and at
        each perturbation (what an explanation that ignores its input scores).
    random_state : int or Generator, default=0
    progress : bool, optional
        A tqdm bar over the calls of ``explain``.
    callback : callable, optional
        ``callback(done, total)`` after each call; returning False or raising
        :class:`~whylens.errors.Cancelled` stops.

    Returns
    -------
    MetricResult
        ``scores`` of shape (n, n_labels).

    Raises
    ------
    InputError, InputTypeError
        Non-numeric or non-finite x, a bad radius, norm or count, an
        ``explain`` that is not callable or changes its output's shape.
    ModelOutputError
        ``explain`` returned something other than attributions of n rows.
    """
    explain = check_explain(explain)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer,
                                                           np.floating)):
        raise InputTypeError(describe("radius", "a positive number", radius))
    if not float(radius) > 0:
        raise InputError(describe("radius", "a positive number", radius))
    if norm not in ("fro", "inf"):
        raise InputError(describe("norm", "'fro' or 'inf'", norm))
    n_samples = check_positive_int("n_samples", n_samples)
    n_random = check_positive_int("n_random", n_random, minimum=0)
    size = None if batch_size is None else check_positive_int("batch_size", batch_size)
    callback = checked_callback(callback)
    xa = np.asarray(as_numpy(x))
    if xa.dtype.kind not in "biuf" or xa.ndim < 2 or xa.shape[0] == 0:
        raise InputError(describe("x", "a numeric batch of shape (n, ...)", xa))
    if not np.isfinite(xa).all():
        raise InputError(describe("x", "finite inputs", got_text="NaN or infinity"))
    rng = check_random_state(random_state)
    n = xa.shape[0]
    first = explain(x) if target is None else explain(x, target=target)
    base = attribution_rows(first, n)
    if target is None:
        labels = labels_of(first)
        if labels is not None and labels.shape[1] == 1:
            target = labels[:, 0]
    noise = rng.uniform(-float(radius), float(radius), size=(n * n_samples, *xa.shape[1:]))
    perturbed = np.repeat(xa.astype(np.float64), n_samples, axis=0) + noise
    targets = None if target is None else _rows_of_target(target, n, n_samples)
    total = n * n_samples
    size = total if size is None else size
    bar = None
    if progress and total > size:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="whylens: sensitivity_max", leave=False)
    parts = []
    try:
        for start in range(0, total, size):
            stop = min(start + size, total)
            xp = _like(x, perturbed[start:stop])
            if targets is None:
                out = explain(xp)
            elif isinstance(targets, np.ndarray):
                out = explain(xp, target=targets[start:stop].tolist())
            else:
                out = explain(xp, target=targets)
            parts.append(attribution_rows(out, stop - start))
            if bar is not None:
                bar.update(stop - start)
            if callback is not None:
                callback(stop, total)
    finally:
        if bar is not None:
            bar.close()
    moved = np.concatenate(parts).reshape(n, n_samples, *base.shape[1:])
    check_same_shape(moved[:, 0], base, "input")
    scale = _norms(base, norm)  # (n, L)
    scale = np.where(scale == 0, 1.0, scale)
    n_labels = base.shape[1]
    flat_moved = np.moveaxis(moved.reshape(n, n_samples, n_labels, -1), 1, 2)
    diff = flat_moved - base.reshape(n, n_labels, 1, -1)
    rel = _norms(diff.reshape(n * n_labels, n_samples, -1), norm).reshape(
        n, n_labels, n_samples) / scale[:, :, None]
    scores = rel.max(axis=2)
    control = None
    if n_random:
        draws = []
        for _ in range(n_random):
            r0 = rng.standard_normal((n * n_labels, 1, base[0, 0].size))
            r1 = rng.standard_normal((n * n_labels, n_samples, base[0, 0].size))
            r = _norms(r1 - r0, norm) / _norms(r0, norm)
            draws.append(r.max(axis=1).mean())
        control = RandomControl.from_scores(draws)
    params = {"radius": float(radius), "n_samples": n_samples, "norm": norm,
              "n_random": n_random, "random_state": random_state}
    return MetricResult("sensitivity_max", float(scores.mean()), scores, False, control,
                        params=params, n_evals=int(total + n))

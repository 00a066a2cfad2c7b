"""The baselines removed features are replaced with, for tables and images.

Tables: the background's mean, median or a sample of its rows; images: a
blur or each image's mean. Both take ``"zero"``, a number or explicit rows
(one or several baselines of one instance's shape).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens._convention import as_numpy
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["IMAGE_BASELINES", "TABLE_BASELINES", "image_baseline",
           "table_baseline"]

TABLE_BASELINES = ("mean", "median", "sample", "zero")
IMAGE_BASELINES = ("blur", "mean", "zero")


def _rows(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A baseline or background as rows of shape (k, *shape)."""
    arr = as_numpy(value)
    if hasattr(arr, "to_numpy"):  # a DataFrame or Series
        arr = arr.to_numpy()
    try:
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(name, f"numeric rows of shape (k, {shape})", value)
                             ) from exc
    if arr.shape == shape:
        arr = arr[None]
    if arr.ndim != len(shape) + 1 or tuple(arr.shape[1:]) != shape or arr.shape[0] < 1:
        raise InputError(describe(
            name, f"one row of shape {shape} or rows of shape (k, {', '.join(map(str, shape))})",
            got_text=f"shape {arr.shape}", fix="Give rows with the model input's columns."))
    if not np.isfinite(arr).all():
        raise InputError(describe(name, "finite values", got_text="NaN or infinity"))
    return arr


def _baseline_name(baseline: Any, default: str, names: tuple[str, ...], other: str) -> Any:
    """``baseline``, ``default`` for None; a str must be one of ``names``."""
    if baseline is None:
        return default
    if isinstance(baseline, str) and baseline not in names:
        raise InputError(describe("baseline", f"one of {names}, a number or {other}",
                                  baseline))
    return baseline


def _fixed_baseline(baseline: Any, shape: tuple[int, ...]
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """``"zero"``, a number or rows as baselines (k, *shape), and their record."""
    if isinstance(baseline, str):  # "zero": the other names are the callers'
        return np.zeros((1, *shape)), {"baseline": "zero"}
    if isinstance(baseline, (int, float, np.integer, np.floating)) and not isinstance(
            baseline, bool):
        return np.full((1, *shape), float(baseline)), {"baseline": float(baseline)}
    rows = _rows("baseline", baseline, shape)
    return rows, {"baseline": "rows", "n_background": int(rows.shape[0])}


def table_baseline(baseline: Any, background: Any, x: np.ndarray, n_background: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """Baseline rows (k, d) of a table ``x`` (n, d), and their record.

    ``"mean"`` (the default), ``"median"`` and ``"sample"`` (at most
    ``n_background`` rows drawn with ``rng``) come from ``background``, else
    from ``x`` itself.

    Raises
    ------
    InputError, InputTypeError
        An unknown name, rows of the wrong shape, no rows to take a statistic from.
    """
    d = x.shape[1]
    baseline = _baseline_name(baseline, "mean", TABLE_BASELINES, "rows for tables")
    if not isinstance(baseline, str) or baseline == "zero":
        return _fixed_baseline(baseline, (d,))
    if background is None:
        if x.shape[0] < 2:
            raise InputError(describe(
                "background", f"rows to take the {baseline} from", None,
                f"Pass background=X_train for baseline={baseline!r}, or baseline='zero'."))
        bg = x.astype(np.float64)
    else:
        bg = _rows("background", background, (d,))
    if baseline == "mean":
        return bg.mean(axis=0, keepdims=True), {"baseline": "mean"}
    if baseline == "median":
        return np.median(bg, axis=0, keepdims=True), {"baseline": "median"}
    if bg.shape[0] > n_background:
        bg = bg[np.sort(rng.choice(bg.shape[0], n_background, replace=False))]
    return bg, {"baseline": "sample", "n_background": int(bg.shape[0])}


def image_baseline(baseline: Any, x: np.ndarray, channel: int | None, blur_sigma: float
                   ) -> tuple[np.ndarray, bool, dict[str, Any]]:
    """(baseline (n, 1, *S) per instance or (k, *S) shared, per_instance, record).

    ``"blur"`` (the default: a Gaussian blur of ``blur_sigma`` pixels over the
    spatial axes) and ``"mean"`` (each image's mean per channel) are per instance.

    Raises
    ------
    InputError, InputTypeError
        An unknown name, a bad ``blur_sigma``, an image of the wrong shape.
    """
    shape = tuple(x.shape[1:])
    baseline = _baseline_name(baseline, "blur", IMAGE_BASELINES, "an image for images")
    if not isinstance(baseline, str) or baseline == "zero":
        base, record = _fixed_baseline(baseline, shape)
        return base, False, record
    spatial = tuple(a for a in range(1, x.ndim) if a - 1 != channel)
    if baseline == "mean":
        out = np.broadcast_to(x.mean(axis=spatial, keepdims=True), x.shape)
        return out[:, None].astype(np.float64), True, {"baseline": "mean"}
    if isinstance(blur_sigma, bool) or not isinstance(
            blur_sigma, (int, float, np.integer, np.floating)) or not blur_sigma > 0:
        raise InputError(describe("blur_sigma", "a positive number of pixels", blur_sigma))
    from scipy.ndimage import gaussian_filter

    sigma = [0.0] * x.ndim
    for a in spatial:
        sigma[a] = float(blur_sigma)
    out = gaussian_filter(x.astype(np.float64), sigma=sigma, mode="nearest")
    return out[:, None], True, {"baseline": "blur", "blur_sigma": float(blur_sigma)}

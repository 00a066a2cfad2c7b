"""The one perturbation runner: masks -> ``apply`` in chunks -> model -> outputs.

Every perturbation method (LIME for tables, text and images; Kernel, Exact
and Permutation SHAP; Score-CAM and Ablation-CAM) evaluates its masks here,
so chunking, progress, cancellation and the per-chunk memory bound are
written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._convention import checked_callback
from whylens.errors import InputError, describe
from whylens.models import Model

__all__ = ["evaluate", "evaluate_rows"]


def evaluate(
    model: Model,
    representation: Any,
    Z: np.ndarray,
    *,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
    unit: str = "rows",
) -> np.ndarray:
    """Model outputs of every mask, building the inputs one chunk at a time.

    Parameters
    ----------
    model : Model
        From :func:`whylens.models.as_model`; its ``chunk_size`` (the user's
        ``batch_size``) and ``memory_budget`` bound every call.
    representation : Representation
        ``representation.apply(Z[start:stop])`` gives the chunk's inputs.
    Z : ndarray of shape (n_samples, n_features)
        The masks.
    progress : bool, optional
        A tqdm bar (default: when stderr is a terminal and the work takes
        several chunks).
    callback : callable, optional
        ``callback(done, total)`` after every chunk; raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops the work.
    unit : str, default="rows"
        What the progress bar counts.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float64
        One row per mask, in order. For a model that scores rows
        independently the result does not depend on the chunk sizes.

    Raises
    ------
    Cancelled
        The callback stopped the work.
    ModelError, ModelOutputError
        The model raised or returned unusable output.
    """
    Z = np.asarray(Z)
    if Z.ndim != 2 or Z.shape[0] == 0:
        raise InputError(describe("Z", "a non-empty (n_samples, n_features) mask array",
                                  Z))
    return model.call_chunked(
        Z.shape[0], lambda start, stop: representation.apply(Z[start:stop]),
        sample=representation.apply(Z[:1]), progress=progress,
        callback=checked_callback(callback), unit=unit)


def evaluate_rows(
    model: Model,
    rows: Any,
    *,
    to_model: Callable[[Any], Any] | None = None,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
    unit: str = "rows",
) -> np.ndarray:
    """Model outputs of inputs that are already built (LIME's tabular samples,
    which are drawn together with their masks), with the same chunking,
    progress and cancellation as :func:`evaluate`.

    Parameters
    ----------
    model : Model
    rows : ndarray or sequence of n inputs
    to_model : callable, optional
        Applied to each chunk before the model sees it (a table schema that
        turns an array chunk into a DataFrame).
    progress, callback, unit
        As in :func:`evaluate`.

    Returns
    -------
    ndarray of shape (n, n_outputs), float64
    """
    total = len(rows)
    if total == 0:
        raise InputError(describe("rows", "at least one input row", rows))
    convert = (lambda chunk: chunk) if to_model is None else to_model
    return model.call_chunked(
        total, lambda start, stop: convert(rows[start:stop]), sample=convert(rows[:1]),
        progress=progress, callback=checked_callback(callback), unit=unit)

"""Calling a user's explanation function and reading what it returns."""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens._convention import as_numpy
from whylens.errors import InputError, InputTypeError, ModelOutputError, describe

__all__ = ["attribution_rows", "check_explain"]


def check_explain(explain: Any, argument: str = "explain") -> Any:
    """``explain`` if it is callable.

    Raises
    ------
    InputTypeError
        Anything else.
    """
    if not callable(explain):
        raise InputTypeError(describe(
            argument, "a callable explain(x, ...) -> Explanation or array", explain,
            "Pass e.g. whylens.torch.Saliency(model), or a lambda around an explainer."))
    return explain


def attribution_rows(result: Any, n: int, argument: str = "explain") -> np.ndarray:
    """What ``explain`` returned as float64 of shape (n, n_labels, *feature_shape).

    An Explanation gives its ``values``; an array of shape (n, *feature_shape)
    is one label.

    Raises
    ------
    ModelOutputError
        Not an Explanation or numeric array, another number of rows, NaN.
    """
    from whylens.explanation import Explanation

    if isinstance(result, Explanation):
        values = np.asarray(result.values, dtype=np.float64)
    else:
        try:
            values = np.asarray(as_numpy(result), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelOutputError(describe(
                f"the result of {argument}", "an Explanation or an array of attributions",
                result)) from exc
        if values.ndim < 2:
            raise ModelOutputError(describe(
                f"the result of {argument}", "attributions of shape (n, *feature_shape)",
                values))
        values = values[:, None]
    if values.shape[0] != n:
        raise ModelOutputError(describe(
            f"the result of {argument}", f"attributions of {n} instances",
            got_text=f"{values.shape[0]} (shape {values.shape})"))
    if not np.isfinite(values).all():
        raise ModelOutputError(describe(f"the result of {argument}", "finite attributions",
                                        got_text="NaN or infinity"))
    return values


def labels_of(result: Any) -> np.ndarray | None:
    """The labels an Explanation explained, (n, n_labels), or None."""
    from whylens.explanation import Explanation

    if not isinstance(result, Explanation):
        return None
    n, n_labels = result.values.shape[:2]
    return np.broadcast_to(result.labels, (n, n_labels)).astype(np.int64)


def check_same_shape(values: np.ndarray, reference: np.ndarray, what: str) -> None:
    """Two calls' attributions must have one shape.

    Raises
    ------
    InputError
    """
    if values.shape != reference.shape:
        raise InputError(describe(
            "explain", f"attributions of one shape for every {what}",
            got_text=f"{reference.shape} and {values.shape}"))

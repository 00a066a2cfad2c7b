"""``target=`` for explainers that compute every output at once (SHAP), and
:func:`shap_layout`, shap's array layout of their values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._convention import ALL, resolve_target

if TYPE_CHECKING:
    from whylens.explanation import Explanation

__all__ = ["select_target", "shap_layout"]


def select_target(target: Any, values: np.ndarray, base_values: np.ndarray,
                  output: np.ndarray, output_names: Sequence[str] | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the explained labels of every output's values, by the convention.

    Parameters
    ----------
    target : "all", None, int, str or a length-n sequence
        As :func:`whylens._convention.resolve_target`.
    values : ndarray of shape (n, n_outputs, n_features)
    base_values : ndarray of shape (n, n_outputs)
    output : ndarray of shape (n, n_outputs)
    output_names : sequence of str, optional

    Returns
    -------
    labels : ndarray of int, shape (n, n_labels)
    values : ndarray of shape (n, n_labels, n_features)
    base_values : ndarray of shape (n, n_labels)

    Raises
    ------
    InputError, InputTypeError
        A bad ``target``.
    """
    labels = resolve_target(target, output, output_names=output_names)
    if isinstance(target, str) and target == ALL:
        return labels, values, base_values
    return (labels, np.take_along_axis(values, labels[:, :, None], axis=1),
            np.take_along_axis(base_values, labels, axis=1))


def shap_layout(exp: Explanation, single: bool) -> np.ndarray:
    """``exp.shap_values``, without the first axis when the explained ``X`` was a single row.

    Returns
    -------
    ndarray
        (n, n_features) for one explained output, (n, n_features, n_labels)
        otherwise; (n_features,) or (n_features, n_labels) for a single row.
    """
    values = exp.shap_values
    return values[0] if single else values

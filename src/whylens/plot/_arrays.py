"""Explanations built from shap's arrays, for plots called the legacy way.

``force(base_value, shap_values, features)`` (shap's array call) becomes a
single-row :class:`~whylens.Explanation`; :mod:`whylens.shap` re-exports the
builder for its ``force_plot``. Here, under ``whylens.plot``, so that plots
never import the explainers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._types import result_type
from whylens.errors import InputError, describe

__all__ = ["force_explanation"]


def _explanation_from_arrays(base_value: Any, shap_values: Any, features: Any,
                             feature_names: Sequence[str] | None) -> Any:
    values = np.asarray(shap_values, dtype=np.float64)
    if values.ndim == 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 1:
        raise InputError(describe(
            "shap_values", "the values of one row, shape (n_features,)",
            got_text=f"an array of shape {np.shape(shap_values)}",
            fix="Pass one row: force_plot(base, shap_values[i], X[i]) (or matplotlib "
                "summary plots for many rows)."))
    d = values.shape[0]
    names = None
    data = None
    if features is not None:
        columns = getattr(features, "columns", None)
        if columns is not None:
            names = [str(c) for c in columns]
        if hasattr(features, "to_numpy"):
            features = features.to_numpy()
        arr = np.asarray(features, dtype=object)
        if arr.ndim == 2 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.shape != (d,):
            raise InputError(describe("features", f"{d} values (one row)",
                                      got_text=f"shape {arr.shape}"))
        try:
            data = arr.astype(np.float64)[None]
        except (TypeError, ValueError):
            data = None
    if feature_names is not None:
        names = [str(n) for n in feature_names]
    if names is None:
        names = [f"Feature {i}" for i in range(d)]
    if len(names) != d:
        raise InputError(describe("feature_names", f"{d} names", got_text=f"{len(names)}"))
    base = np.asarray(base_value, dtype=np.float64).ravel()
    if base.size != 1:
        raise InputError(describe("base_value", "one number (the explained output's)",
                                  got_text=f"{base.size} numbers",
                                  fix="Pass explainer.expected_value[k] for output k."))
    b = float(base[0])
    Explanation, Features = result_type("Explanation"), result_type("Features")
    return Explanation(values=values[None, None], labels=np.array([0]), method="shap",
                       features=Features(kind="tabular", names=names, data=data),
                       mode="regression", base_values=np.array([[b]]),
                       output=np.array([[b + float(values.sum())]]))


def force_explanation(base_value: Any, shap_values: Any = None, features: Any = None,
                      feature_names: Sequence[str] | None = None) -> Any:
    """The single-row Explanation of shap's ``force(base_value, shap_values, features)``.

    ``base_value`` may itself be a whylens or shap Explanation of one row.

    Raises
    ------
    InputError
        Several rows of values, or lengths that disagree.
    """
    from whylens._shap_interop import is_shap_explanation

    if is_shap_explanation(base_value):
        return result_type("Explanation").from_shap(base_value)
    if isinstance(base_value, result_type("Explanation")):
        return base_value
    if features is not None and hasattr(features, "index") and \
            not hasattr(features, "columns") and feature_names is None:
        feature_names = [str(i) for i in features.index]  # a pandas Series row
    return _explanation_from_arrays(base_value, shap_values, features, feature_names)

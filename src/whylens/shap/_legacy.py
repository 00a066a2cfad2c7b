"""shap's array-based plot calls: ``force_plot(base, values, features)`` and ``summary_plot``.

Code written for shap before its ``Explanation`` object passes arrays;
:func:`force_plot` builds a whylens Explanation from them and draws it with
:func:`whylens.plot.force` (``matplotlib=True``) or as HTML
(:func:`whylens.plot.force_html`, shown inline in a notebook).
:func:`summary_plot` is :func:`whylens.inspection.summary_plot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens.errors import InputError, describe
from whylens.explanation import Explanation, Features

__all__ = ["ForcePlot", "force_explanation", "force_plot", "summary_plot"]


class ForcePlot:
    """A force plot as HTML: shown inline by Jupyter, ``str()`` gives the markup."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def _explanation_from_arrays(base_value: Any, shap_values: Any, features: Any,
                             feature_names: Sequence[str] | None) -> Explanation:
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
    return Explanation(values=values[None, None], labels=np.array([0]), method="shap",
                       features=Features(kind="tabular", names=names, data=data),
                       mode="regression", base_values=np.array([[b]]),
                       output=np.array([[b + float(values.sum())]]))


def force_explanation(base_value: Any, shap_values: Any = None, features: Any = None,
                      feature_names: Sequence[str] | None = None) -> Explanation:
    """The single-row Explanation of shap's ``force(base_value, shap_values, features)``.

    ``base_value`` may itself be a whylens or shap Explanation of one row.

    Raises
    ------
    InputError
        Several rows of values, or lengths that disagree.
    """
    from whylens._shap_interop import is_shap_explanation

    if is_shap_explanation(base_value):
        return Explanation.from_shap(base_value)
    if isinstance(base_value, Explanation):
        return base_value
    if features is not None and hasattr(features, "index") and \
            not hasattr(features, "columns") and feature_names is None:
        feature_names = [str(i) for i in features.index]  # a pandas Series row
    return _explanation_from_arrays(base_value, shap_values, features, feature_names)


def force_plot(base_value: Any, shap_values: Any = None, features: Any = None,
               feature_names: Sequence[str] | None = None, *, matplotlib: bool = False,
               max_display: int = 8, show: bool = False, **ignored: Any) -> Any:
    """shap's legacy ``force_plot`` over arrays (or an Explanation as first argument).

    Parameters
    ----------
    base_value : float, Explanation or shap.Explanation
        The explained output's base value (``explainer.expected_value``), or a
        single-row whylens or shap Explanation (then the other arrays are not
        needed).
    shap_values : ndarray of shape (n_features,) or (1, n_features)
    features : ndarray, Series or DataFrame row, optional
        The row's values (names from a pandas object's index/columns).
    feature_names : sequence of str, optional
    matplotlib : bool, default=False
        Return a matplotlib Figure instead of HTML.
    max_display : int, default=8
    show : bool, default=False
        Accepted for shap compatibility; whylens never calls ``plt.show()``.
    **ignored
        shap's styling arguments (``link``, ``plot_cmap``, ``text_rotation``
        ...) are accepted and have no effect.

    Returns
    -------
    ForcePlot or matplotlib.figure.Figure

    Raises
    ------
    InputError
        Several rows of values, or lengths that disagree.
    """
    from whylens.plot import force
    from whylens.plot._shap_instance import force_html

    exp = force_explanation(base_value, shap_values, features, feature_names)
    if matplotlib:
        return force(exp, max_display=max_display)
    return ForcePlot(force_html(exp, max_display=max_display))


def summary_plot(*args: Any, **kwargs: Any) -> Any:
    """shap's ``summary_plot`` (see :func:`whylens.inspection.summary_plot`)."""
    from whylens.inspection import summary_plot as _summary_plot

    return _summary_plot(*args, **kwargs)

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

from whylens.plot._arrays import force_explanation

__all__ = ["ForcePlot", "force_explanation", "force_plot", "summary_plot"]


class ForcePlot:
    """A force plot as HTML: shown inline by Jupyter, ``str()`` gives the markup."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


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

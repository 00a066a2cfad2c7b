"""Bar chart of one label's attributions (lime's ``as_pyplot_figure``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whylens.plot._common import as_explanation, max_display_alias, new_axes
from whylens.plot._fonts import text_families

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["NEGATIVE_COLOR", "POSITIVE_COLOR", "bar"]

#: Bar colour of a positive weight (as lime's ``as_pyplot_figure``: green).
POSITIVE_COLOR = "#2ca02c"
#: Bar colour of a weight <= 0 (lime: red).
NEGATIVE_COLOR = "#d62728"


def bar(
    exp: Explanation,
    label: int | None = None,
    ax: Axes | None = None,
    max_display: int | None = None,
    title: str | None = None,
    *,
    max_features: int | None = None,
    show: bool = False,
) -> Figure:
    """Plot ``exp.as_list(label)`` as horizontal bars, largest ``|weight|`` on top.

    On a batch (several instances) it plots global importance instead, the
    mean ``|value|`` per feature (:func:`whylens.plot.global_bar`, shap's bar
    plot of an Explanation). One instance of a SHAP result (``exp[0]``, a
    ``shap.Explanation`` row, or ``exp.abs.mean(0)``) is drawn as shap draws
    it (:func:`whylens.plot.local_bar`): red and blue bars with their values,
    ``"<value> = <name>"`` labels, the rest summed in one bar.

    The matplotlib equivalent of lime's ``Explanation.as_pyplot_figure``.
    Never calls ``plt.show()`` and never touches pyplot's state: without
    ``ax`` the figure is a bare :class:`matplotlib.figure.Figure` (it displays
    in a notebook as the cell's value; save it with ``fig.savefig``).

    Parameters
    ----------
    exp : Explanation or shap.Explanation
        A single-instance explanation (a batch plots global importance).
    label : int, optional
        Which explained output. Default ``1`` as in lime (in regression mode
        ``1`` is the output); SHAP results of one output need none.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default: a new figure.
    max_display : int, optional
        Show only the first ``max_display`` features of ``as_list`` (default:
        all of them; 10 and the rest summed in one bar for a batch).
    title : str, optional
        Default ``"Local explanation for class <name>"`` with the name from
        ``exp.output_names`` (``"Local explanation"`` in regression mode).
    max_features : int, optional
        Alias of ``max_display`` (the name this function took before).
    show : bool, default=False
        Accepted for shap's code; whylens never calls ``plt.show()``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the chart (``ax``'s figure when ``ax`` is given).
        Bars are green for weight > 0, red otherwise; tick labels are the
        feature texts, in a CJK-capable font when one is installed.

    Raises
    ------
    InputError
        If ``label`` was not explained, ``max_display`` < 1, or
        ``max_display`` and ``max_features`` disagree.
    InputTypeError
        If ``exp`` is no Explanation, ``ax`` no matplotlib Axes or
        ``max_display`` not an int.
    """
    exp = as_explanation(exp)
    count = max_display_alias(max_display, max_features, "max_features", None)
    shap_label = None if exp.labels.shape[0] == 1 else (1 if label is None else label)
    if exp.n_instances > 1:  # a batch: global importance, mean |value| (shap's bar)
        from whylens.plot._shap import global_bar

        return global_bar(exp, label=shap_label, ax=ax, title=title,
                          max_display=10 if count is None else count)
    if "shap" in str(exp.method).lower():  # one instance of SHAP values: shap's local bar
        from whylens.plot._shap import local_bar

        return local_bar(exp, label=shap_label, ax=ax, title=title,
                         max_display=10 if count is None else count)
    label = 1 if label is None else label
    items = exp.as_list(label)  # raises BatchExplanationError / InputError
    if count is not None:
        items = items[:count]
    if title is None:
        title = "Local explanation"
        if exp.mode == "classification":
            title = f"Local explanation for class {exp.output_name(label)}"

    names = [name for name, _ in reversed(items)]
    weights = np.array([w for _, w in reversed(items)], dtype=np.float64)
    fig, ax = new_axes(ax, (6.4, 1.3 + 0.38 * max(len(items), 1)))

    families = text_families()
    positions = np.arange(len(items))
    colors = [POSITIVE_COLOR if w > 0 else NEGATIVE_COLOR for w in weights]
    ax.barh(positions, weights, color=colors, align="center")
    ax.axvline(0.0, color="#444444", linewidth=0.8)
    ax.set_yticks(positions, names, family=families)
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.set_xlabel("weight")
    ax.set_title(str(title), family=families)
    return fig

"""Bar chart of one label's attributions (lime's ``as_pyplot_figure``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whylens.plot._common import check_explanation, max_display_alias, new_axes
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
    label: int = 1,
    ax: Axes | None = None,
    max_display: int | None = None,
    title: str | None = None,
    *,
    max_features: int | None = None,
) -> Figure:
    """Plot ``exp.as_list(label)`` as horizontal bars, largest ``|weight|`` on top.

    On a batch (several instances) it plots global importance instead, the
    mean ``|value|`` per feature (:func:`whylens.plot.global_bar`, shap's bar
    plot of an Explanation).

    The matplotlib equivalent of lime's ``Explanation.as_pyplot_figure``.
    Never calls ``plt.show()`` and never touches pyplot's state: without
    ``ax`` the figure is a bare :class:`matplotlib.figure.Figure` (it displays
    in a notebook as the cell's value; save it with ``fig.savefig``).

    Parameters
    ----------
    exp : Explanation
        A single-instance explanation.
    label : int, default=1
        Which explained output (in regression mode ``1`` is the output, as in lime).
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
    check_explanation(exp)
    count = max_display_alias(max_display, max_features, "max_features", None)
    if exp.n_instances > 1:  # a batch: global importance, mean |value| (shap's bar)
        from whylens.plot._shap import global_bar

        shap_label = None if exp.labels.shape[0] == 1 else label
        return global_bar(exp, label=shap_label, ax=ax, title=title,
                          max_display=10 if count is None else count)
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

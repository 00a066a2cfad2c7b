"""The SHAP plots of a batch, as matplotlib figures: beeswarm, bar, scatter, heatmap.

Every function takes an :class:`~whylens.Explanation`, never calls
``plt.show()`` and returns the :class:`matplotlib.figure.Figure` it drew on
(``ax``'s figure when an Axes is given). Feature names use a CJK-capable font
when one is installed. The plots of one instance (waterfall, force, text) are
in :mod:`whylens.plot._shap_instance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whylens.errors import InputError, describe
from whylens.plot._common import new_axes
from whylens.plot._fonts import text_families
from whylens.plot._shap_base import (
    SHAP_NEGATIVE,
    SHAP_POSITIVE,
    display_count,
    format_value,
    label_matrix,
    label_row,
    shap_cmap,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["beeswarm", "global_bar", "heatmap", "scatter", "strongest_interaction"]


# ------------------------------------------------------------------ beeswarm
def beeswarm(exp: Explanation, label: int | None = None, max_display: int = 10,
             ax: Axes | None = None, title: str | None = None) -> Figure:
    """Summary (beeswarm) plot: one row of dots per feature, coloured by feature value.

    Features are sorted by mean ``|value|``, largest on top. Each dot is one
    instance at its SHAP value; dots pile up vertically where they are dense.
    Colour runs from low (blue) to high (red) feature value, clipped to the
    5th-95th percentile of each feature.

    Parameters
    ----------
    exp : Explanation
        A batch, values of shape (n_instances, n_labels, n_features).
    label : int, optional
        Which explained output; default the only one, or the positive class of two.
    max_display : int, default=10
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    V = label_matrix(exp, label)
    n, d = V.shape
    top = display_count(max_display, d)
    order = np.argsort(-np.abs(V).mean(axis=0), kind="stable")[:top]
    fig, ax = new_axes(ax, (7.0, 1.2 + 0.42 * top))
    data = exp.features.data if exp.features.kind == "tabular" else None
    cmap = shap_cmap()
    rng = np.random.default_rng(0)  # jitter only; fixed so figures are reproducible
    names = list(exp.features.names)
    for pos, j in enumerate(order[::-1]):
        x = V[:, j]
        # Pile dots: rank within bins of the value axis, alternate up and down.
        span = np.ptp(x) or 1.0
        bins = np.round((x - x.min()) / span * 50).astype(int)
        ys = np.zeros(n)
        for b in np.unique(bins):
            idx = np.flatnonzero(bins == b)
            idx = idx[rng.permutation(idx.size)]
            k = np.arange(idx.size)
            ys[idx] = np.ceil(k / 2) * np.where(k % 2 == 0, 1, -1)
        if np.abs(ys).max() > 0:
            ys = ys / np.abs(ys).max() * 0.35
        if data is not None:
            c = data[:, j].astype(float)
            lo, hi = np.nanpercentile(c, 5), np.nanpercentile(c, 95)
            if hi <= lo:
                lo, hi = c.min(), c.max()
            c = np.clip((c - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
            ax.scatter(x, pos + ys, c=c, cmap=cmap, vmin=0, vmax=1, s=14, linewidths=0,
                       alpha=0.9, rasterized=n > 500)
        else:
            ax.scatter(x, pos + ys, color="#777777", s=14, linewidths=0)
    ax.axvline(0.0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_yticks(np.arange(top), [names[j] for j in order[::-1]], family=text_families())
    ax.set_ylim(-0.6, top - 0.4)
    ax.set_xlabel("SHAP value (impact on model output)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if data is not None:
        from matplotlib.cm import ScalarMappable

        bar = fig.colorbar(ScalarMappable(cmap=cmap), ax=ax, aspect=40, pad=0.01)
        bar.set_ticks([0, 1], labels=["Low", "High"])
        bar.set_label("Feature value")
        bar.outline.set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig


# ------------------------------------------------------------------ bar
def global_bar(exp: Explanation, label: int | None = None, max_display: int = 10,
               ax: Axes | None = None, title: str | None = None) -> Figure:
    """Global importance: mean ``|SHAP value|`` per feature over the batch.

    Parameters
    ----------
    exp : Explanation
        A batch, values of shape (n_instances, n_labels, n_features).
    label : int, optional
        Which explained output; default the only one, or the positive class of two.
    max_display : int, default=10
        Bars shown; the last one sums the features beyond ``max_display``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    V = label_matrix(exp, label)
    imp = np.abs(V).mean(axis=0)
    d = imp.shape[0]
    top = display_count(max_display, d)
    order = np.argsort(-imp, kind="stable")
    names = [exp.features.names[j] for j in order[:top]]
    vals = list(imp[order[:top]])
    if d > top:
        names.append(f"Sum of {d - top} other features")
        vals.append(float(imp[order[top:]].sum()))
    fig, ax = new_axes(ax, (6.6, 1.2 + 0.38 * len(vals)))
    pos = np.arange(len(vals))[::-1]
    bars = ax.barh(pos, vals, color=SHAP_POSITIVE, height=0.7)
    if d > top:
        bars[-1].set_color("#bbbbbb")
    for p, v in zip(pos, vals, strict=True):
        ax.text(v, p, f" +{format_value(v)}", va="center", fontsize=9, color=SHAP_POSITIVE)
    ax.set_yticks(pos, names, family=text_families())
    ax.set_xlabel("mean(|SHAP value|)")
    ax.set_xlim(0, max(vals) * 1.18 if vals and max(vals) > 0 else 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig


# ------------------------------------------------------------------ scatter
def strongest_interaction(exp: Explanation, feature: int, label: int | None = None) -> int:
    """The feature whose value best explains the spread of ``feature``'s SHAP values.

    Instances are sorted by ``feature``'s value and cut into bins; within each
    bin the absolute correlation between ``feature``'s SHAP values and every
    other feature's value is measured, and summed over bins (shap's heuristic
    for ``color=shap_values``).

    Returns
    -------
    int
        Index of the other feature (``feature`` itself if there is none).
    """
    V = label_matrix(exp, label)
    X = exp.features.data
    n, d = V.shape
    if X is None or d < 2 or n < 4:
        return feature
    order = np.argsort(X[:, feature], kind="stable")
    size = max(4, n // 10)
    score = np.zeros(d)
    for s in range(0, n, size):
        idx = order[s : s + size]
        if idx.size < 3:
            continue
        y = V[idx, feature] - V[idx, feature].mean()
        Xi = X[idx] - X[idx].mean(axis=0)
        den = np.sqrt((y**2).sum() * (Xi**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(den > 0, np.abs(y @ Xi) / den, 0.0)
        score += corr
    score[feature] = -1.0
    return int(np.argmax(score))


def scatter(exp: Explanation, feature: int | str, label: int | None = None,
            color: int | str | None = "auto", ax: Axes | None = None,
            title: str | None = None) -> Figure:
    """Dependence plot: a feature's value against its SHAP value.

    Parameters
    ----------
    exp : Explanation
        A batch of tabular explanations (needs ``features.data``).
    feature : int or str
    color : "auto", int, str or None, default="auto"
        Colour the dots by another feature's value: ``"auto"`` picks the one
        with the strongest interaction (:func:`strongest_interaction`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    V = label_matrix(exp, label)
    X = exp.features.data
    if X is None or exp.features.kind != "tabular":
        raise InputError(describe("exp", "a tabular explanation with features.data",
                                  got_text=f"a {exp.features.kind} explanation"))
    j = int(exp._axis_index(feature, V.shape[1], exp.features.names, "feature")[0])
    fig, ax = new_axes(ax, (6.4, 4.6))
    names = list(exp.features.names)
    if color is not None:
        c = strongest_interaction(exp, j, label) if color == "auto" else int(
            exp._axis_index(color, V.shape[1], names, "color")[0])
        if c == j:
            color = None
    if color is None:
        ax.scatter(X[:, j], V[:, j], s=16, color=SHAP_NEGATIVE, linewidths=0)
    else:
        cv = X[:, c]
        lo, hi = np.percentile(cv, 5), np.percentile(cv, 95)
        if hi <= lo:
            lo, hi = cv.min(), cv.max() + 1e-12
        points = ax.scatter(X[:, j], V[:, j], s=16, c=cv, cmap=shap_cmap(), vmin=lo, vmax=hi,
                            linewidths=0)
        bar = fig.colorbar(points, ax=ax, aspect=40, pad=0.01)
        bar.set_label(names[c], family=text_families())
        bar.outline.set_visible(False)
    ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_xlabel(names[j], family=text_families())
    ax.set_ylabel(f"SHAP value for {names[j]}", family=text_families())
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig


# ------------------------------------------------------------------ heatmap
def heatmap(exp: Explanation, label: int | None = None, max_display: int = 10,
            ax: Axes | None = None, title: str | None = None) -> Figure:
    """Heatmap of a batch: instances (columns) by features (rows).

    Instances are ordered by hierarchical clustering of their SHAP values
    (leaf order), features by mean ``|value|``; the line above shows the model
    output ``f(x)`` of each instance.

    Parameters
    ----------
    exp : Explanation
        A batch, values of shape (n_instances, n_labels, n_features).
    label : int, optional
    max_display : int, default=10
        Feature rows shown, the largest mean ``|value|`` first.

    Returns
    -------
    matplotlib.figure.Figure
    """
    V = label_matrix(exp, label)
    n, d = V.shape
    top = display_count(max_display, d)
    forder = np.argsort(-np.abs(V).mean(axis=0), kind="stable")[:top]
    if n > 2:
        from scipy.cluster.hierarchy import leaves_list, linkage

        iorder = leaves_list(linkage(V, method="complete"))
    else:
        iorder = np.arange(n)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.0, 1.8 + 0.4 * top), layout="constrained")
        top_ax, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 4])
    else:
        fig, ax = new_axes(ax, (8.0, 5.0))
        top_ax = None
    M = V[iorder][:, forder].T
    lim = float(np.abs(M).max()) or 1.0
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("whylens_div", [SHAP_NEGATIVE, "#ffffff",
                                                             SHAP_POSITIVE])
    image = ax.imshow(M, aspect="auto", cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_yticks(np.arange(top), [exp.features.names[j] for j in forder],
                  family=text_families())
    ax.set_xlabel("Instances")
    bar = fig.colorbar(image, ax=ax, aspect=40, pad=0.01)
    bar.set_label("SHAP value")
    bar.outline.set_visible(False)
    if top_ax is not None:
        r = label_row(exp, label)
        fx = V.sum(axis=1) + (exp.base_values[:, r] if exp.base_values is not None else 0.0)
        top_ax.plot(np.arange(n), fx[iorder], color="#222222", linewidth=1.2)
        top_ax.set_ylabel("f(x)")
        for side in ("top", "right"):
            top_ax.spines[side].set_visible(False)
        if title:
            top_ax.set_title(title, family=text_families())
    elif title:
        ax.set_title(title, family=text_families())
    return fig

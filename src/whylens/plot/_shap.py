"""The SHAP plots of a batch, as matplotlib figures: beeswarm, bar, scatter, heatmap.

Every function takes an :class:`~whylens.Explanation` or a
``shap.Explanation`` (converted by :meth:`whylens.Explanation.from_shap`),
accepts shap's ``show=`` but never calls ``plt.show()``, and returns the
:class:`matplotlib.figure.Figure` it drew on (``ax``'s figure when an Axes is
given). Feature names use a CJK-capable font when one is installed. The plots
of one instance (waterfall, force, text) are in
:mod:`whylens.plot._shap_instance`; :func:`local_bar` is shap's bar of one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whylens.errors import InputError, describe
from whylens.plot._common import as_explanation, new_axes
from whylens.plot._fonts import text_families
from whylens.plot._shap_base import (
    SHAP_NEGATIVE,
    SHAP_POSITIVE,
    display_count,
    feature_labels,
    finish_axes,
    format_value,
    instance_values,
    label_matrix,
    label_row,
    largest_with_rest,
    shap_cmap,
    signed_value_label,
    strongest_columns,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["beeswarm", "global_bar", "heatmap", "local_bar", "scatter",
           "strongest_interaction"]


# ------------------------------------------------------------------ beeswarm
def beeswarm(exp: Explanation, label: int | None = None, max_display: int = 10,
             ax: Axes | None = None, title: str | None = None, *, show: bool = False) -> Figure:
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
    exp = as_explanation(exp)
    V = label_matrix(exp, label)
    n = V.shape[0]
    order = strongest_columns(V, max_display)
    top = order.shape[0]
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
               ax: Axes | None = None, title: str | None = None, *,
               show: bool = False) -> Figure:
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
    exp = as_explanation(exp)
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
    finish_axes(ax, title)
    return fig


# ------------------------------------------------------------------ local bar
def local_bar(exp: Explanation, label: int | None = None, max_display: int = 10,
              ax: Axes | None = None, title: str | None = None, *,
              show: bool = False) -> Figure:
    """shap's bar plot of one instance: each feature's SHAP value as a bar.

    Bars are sorted by ``|value|`` (largest on top), red for values > 0 and
    blue otherwise, each labelled with its value; beyond ``max_display`` the
    rest are summed in one bar (``"Sum of N other features"``). Tick labels
    read ``"<value> = <name>"`` for a row of a table, and plain names after
    ``abs`` or a reduction (``exp.abs.mean(0)``), as shap shows them.

    Parameters
    ----------
    exp : Explanation or shap.Explanation
        One instance (``exp[0]``, ``exp.abs.mean(0)``).
    label : int, optional
        Which explained output; default the only one, or the positive class of two.
    max_display : int, default=10

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    BatchExplanationError
        For a batch of several instances.
    """
    exp = as_explanation(exp)
    v, _ = instance_values(exp, label, "local_bar")
    show_data = not getattr(exp, "_shap_transformed", False)
    labels = feature_labels(exp, 0) if show_data else list(exp.features.names)
    items = largest_with_rest(v, labels, max_display, "Sum of {n} other features")
    fig, ax = new_axes(ax, (6.6, 1.2 + 0.38 * len(items)))
    pos = np.arange(len(items))[::-1]
    widths = [w for _, w in items]
    colors = [SHAP_POSITIVE if w > 0 else SHAP_NEGATIVE for w in widths]
    ax.barh(pos, widths, color=colors, height=0.7)
    span = max((abs(w) for w in widths), default=0.0) or 1.0
    for p, w, c in zip(pos, widths, colors, strict=True):
        signed_value_label(ax, w, p, w, span, c)
    ax.axvline(0.0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_yticks(pos, [name for name, _ in items], family=text_families())
    lo, hi = min(0.0, *widths), max(0.0, *widths)
    pad = 0.2 * (hi - lo or 1.0)
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0))
    ax.set_xlabel("SHAP value")
    finish_axes(ax, title)
    return fig


# ------------------------------------------------------------------ scatter
def _interaction_scores(shap_ref: np.ndarray, x: np.ndarray, X: np.ndarray) -> np.ndarray:
    """shap's ``approximate_interactions`` scores of every column of ``X`` against ``shap_ref``.

    Rows are sorted by ``x`` and cut into bins of ``max(min(n // 10, 50), 1)``;
    in each bin where both vary (SHAP values by more than rounding),
    ``|corr(shap_ref, column)|`` is added up, for
    the column's values and for its NaN indicator; the larger sum is the score.
    """
    n, d = X.shape
    srt = np.argsort(x, kind="stable")
    y, Xs = shap_ref[srt], X[srt]
    inc = max(min(int(n / 10.0), 50), 1)
    tiny = 1e-12 * (float(np.abs(y).max()) if n else 0.0)  # rounding noise is no spread
    scores = np.zeros((2, d))
    for k, cols in enumerate((Xs, np.isnan(Xs).astype(np.float64))):
        live = np.abs(np.nan_to_num(cols)).sum(axis=0) >= 1e-8
        for s in range(0, n, inc):
            yb, Cb = y[s : s + inc], cols[s : s + inc]
            sy = yb.std()
            if sy <= tiny:
                continue
            sc = Cb.std(axis=0)
            ok = live & (sc > 0)
            if not ok.any():
                continue
            cov = ((yb - yb.mean())[:, None] * (Cb[:, ok] - Cb[:, ok].mean(axis=0))).mean(axis=0)
            scores[k, ok] += np.nan_to_num(np.abs(cov / (sy * sc[ok])))
    return scores.max(axis=0)


def strongest_interaction(exp: Explanation, feature: int, label: int | None = None) -> int:
    """The feature whose value best explains the spread of ``feature``'s SHAP values.

    shap's heuristic for ``color=shap_values``
    (``shap.utils.approximate_interactions``): instances are sorted by
    ``feature``'s value and cut into bins of ``max(min(n // 10, 50), 1)``;
    within each bin the absolute correlation between ``feature``'s SHAP
    values and every other feature's value is added up.

    Returns
    -------
    int
        Index of the other feature (``feature`` itself if there is none).
    """
    exp = as_explanation(exp)
    V = label_matrix(exp, label)
    X = exp.features.data
    d = V.shape[1]
    if X is None or d < 2:
        return feature
    X = np.asarray(X, dtype=np.float64)
    score = _interaction_scores(V[:, feature], X[:, feature], X)
    score[feature] = -1.0
    return int(np.argmax(score))


def _is_explanation(obj: object) -> bool:
    from whylens._shap_interop import is_shap_explanation

    return is_shap_explanation(obj) or all(
        hasattr(obj, a) for a in ("values", "labels", "features", "method"))


def scatter(exp: Explanation, feature: int | str | None = None, label: int | None = None,
            color: object = "auto", ax: Axes | None = None, title: str | None = None, *,
            show: bool = False) -> Figure:
    """Dependence plot: a feature's value against its SHAP value.

    shap's ``scatter(sv[:, "bmi"], color=sv)`` works as it is: ``exp`` may be
    one feature's column and ``color`` the whole explanation.

    Parameters
    ----------
    exp : Explanation or shap.Explanation
        A batch of tabular explanations (needs ``features.data``): all
        features (then name ``feature``) or one (``exp[:, "bmi"]``).
    feature : int or str, optional
        The feature to plot; not needed when ``exp`` holds one feature.
    label : int, optional
        Which explained output; default the only one, or the positive class of two.
    color : "auto", int, str, Explanation, shap.Explanation or None, default="auto"
        Colour the dots by another feature's value. ``"auto"`` picks the one
        with the strongest interaction (:func:`strongest_interaction`); an
        Explanation of all features (shap's ``color=sv``) does the same among
        its features; an Explanation of one feature (``sv[:, "age"]``), a
        feature name or an index colours by that feature; another string is
        a matplotlib colour for every dot; None: no colouring.
    show : bool, default=False
        Accepted for shap's code; whylens never calls ``plt.show()``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        ``feature`` unknown or missing for an explanation of several
        features; a ``color`` feature unknown or an Explanation of other rows.
    """
    exp = as_explanation(exp)
    V = label_matrix(exp, label)
    X = exp.features.data
    if X is None or exp.features.kind != "tabular":
        raise InputError(describe("exp", "a tabular explanation with features.data",
                                  got_text=f"a {exp.features.kind} explanation"))
    names = list(exp.features.names)
    if feature is None:
        if V.shape[1] != 1:
            raise InputError(describe(
                "feature", f"a feature name or index (the explanation holds {V.shape[1]} "
                "features)", None, "Pass scatter(exp, 'bmi') or scatter(exp[:, 'bmi'])."))
        feature = 0
    j = int(exp._axis_index(feature, V.shape[1], names, "feature")[0])
    x, y = X[:, j], V[:, j]
    cv, cname, dot = None, None, SHAP_NEGATIVE
    if _is_explanation(color):
        other = as_explanation(color, "color")
        OV = label_matrix(other, label)
        OX = other.features.data
        if OX is None or OV.shape[0] != V.shape[0]:
            raise InputError(describe(
                "color", f"an explanation of the same {V.shape[0]} rows with their data",
                got_text=f"{OV.shape[0]} rows" + ("" if OX is not None else " without data")))
        onames = list(other.features.names)
        if OV.shape[1] == 1:
            c = 0
        else:
            if names[j] not in onames:
                raise InputError(describe("color", f"an explanation holding {names[j]!r}",
                                          got_text=f"features {onames[:10]}"))
            jj = onames.index(names[j])
            c = strongest_interaction(other, jj, label)
            c = None if c == jj else c
        if c is not None:
            cv, cname = np.asarray(OX, dtype=np.float64)[:, c], onames[c]
    elif isinstance(color, str) and color != "auto" and color not in names:
        from matplotlib.colors import is_color_like

        if not is_color_like(color):
            raise InputError(describe(
                "color", f"'auto', a feature name (one of {names[:10]}), a matplotlib colour, "
                "an Explanation or None", color))
        dot = color
    elif color is not None:
        c = strongest_interaction(exp, j, label) if isinstance(color, str) and \
            color == "auto" else int(exp._axis_index(color, V.shape[1], names, "color")[0])
        if c != j:
            cv, cname = X[:, c], names[c]
    fig, ax = new_axes(ax, (6.4, 4.6))
    if cv is None:
        ax.scatter(x, y, s=16, color=dot, linewidths=0)
    else:
        lo, hi = np.nanpercentile(cv, 5), np.nanpercentile(cv, 95)
        if hi <= lo:
            lo, hi = np.nanmin(cv), np.nanmax(cv) + 1e-12
        points = ax.scatter(x, y, s=16, c=cv, cmap=shap_cmap(), vmin=lo, vmax=hi,
                            linewidths=0)
        bar = fig.colorbar(points, ax=ax, aspect=40, pad=0.01)
        bar.set_label(cname, family=text_families())
        bar.outline.set_visible(False)
    ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_xlabel(names[j], family=text_families())
    ax.set_ylabel(f"SHAP value for {names[j]}", family=text_families())
    finish_axes(ax, title)
    return fig


# ------------------------------------------------------------------ heatmap
def heatmap(exp: Explanation, label: int | None = None, max_display: int = 10,
            ax: Axes | None = None, title: str | None = None, *, show: bool = False) -> Figure:
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
    exp = as_explanation(exp)
    V = label_matrix(exp, label)
    n = V.shape[0]
    forder = strongest_columns(V, max_display)
    top = forder.shape[0]
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
        finish_axes(top_ax, title)
    elif title:
        ax.set_title(title, family=text_families())
    return fig

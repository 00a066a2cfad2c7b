"""The SHAP plots users know, as matplotlib figures (and one HTML force plot).

Every function takes an :class:`~whylens.Explanation`, never calls
``plt.show()`` and returns the :class:`matplotlib.figure.Figure` it drew on
(``ax``'s figure when an Axes is given). Feature names and texts use a
CJK-capable font when one is installed.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, describe
from whylens.plot._common import check_explanation, new_axes
from whylens.plot._fonts import text_families

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = [
    "SHAP_NEGATIVE",
    "SHAP_POSITIVE",
    "beeswarm",
    "force",
    "force_html",
    "global_bar",
    "heatmap",
    "scatter",
    "text",
    "waterfall",
]

#: Colour of contributions that raise the output (shap's red).
SHAP_POSITIVE = "#ff0d57"
#: Colour of contributions that lower the output (shap's blue).
SHAP_NEGATIVE = "#1e88e5"


# ------------------------------------------------------------------ helpers
def _cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("whylens_shap", [SHAP_NEGATIVE, "#8c2ba8",
                                                              SHAP_POSITIVE])


def _row(exp: Explanation, label: int | None) -> int:
    """Row of ``exp.values`` to plot: the label asked, else the only / positive one."""
    check_explanation(exp)
    if label is None:
        k = exp.labels.shape[0]
        if k == 1:
            return 0
        if k == 2:
            return 1
        raise InputError(
            describe("label", f"one of the explained labels {exp.labels.tolist()}", None,
                     "This explanation has several outputs: pass label=... to pick one.")
        )
    return exp._label_row(label)[0]


def _matrix(exp: Explanation, label: int | None) -> np.ndarray:
    """Values of one label as (n_instances, n_features)."""
    r = _row(exp, label)
    if exp.values.ndim != 3:
        raise InputError(
            describe("exp", "an explanation with one feature axis (tables, text)",
                     got_text=f"values of shape {exp.values.shape}")
        )
    return exp.values[:, r, :]


def _max_display(max_display: Any, d: int) -> int:
    return min(d, check_positive_int("max_display", max_display))


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def _feature_labels(exp: Explanation, i: int | None = None) -> list[str]:
    names = list(exp.features.names)
    if i is not None and exp.features.descriptions is not None:
        names = [n or names[j] for j, n in enumerate(exp.features.descriptions[i])]
    if i is not None and exp.features.kind == "tabular" and exp.features.data is not None:
        data = exp.features.data[i]
        return [f"{_fmt(float(data[j]))} = {n}" for j, n in enumerate(names)]
    return names


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
    V = _matrix(exp, label)
    n, d = V.shape
    top = _max_display(max_display, d)
    order = np.argsort(-np.abs(V).mean(axis=0), kind="stable")[:top]
    fig, ax = new_axes(ax, (7.0, 1.2 + 0.42 * top))
    data = exp.features.data if exp.features.kind == "tabular" else None
    cmap = _cmap()
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
    V = _matrix(exp, label)
    imp = np.abs(V).mean(axis=0)
    d = imp.shape[0]
    top = _max_display(max_display, d)
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
        ax.text(v, p, f" +{_fmt(v)}", va="center", fontsize=9, color=SHAP_POSITIVE)
    ax.set_yticks(pos, names, family=text_families())
    ax.set_xlabel("mean(|SHAP value|)")
    ax.set_xlim(0, max(vals) * 1.18 if vals and max(vals) > 0 else 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig


# ------------------------------------------------------------------ waterfall
def waterfall(exp: Explanation, label: int | None = None, max_display: int = 10,
              ax: Axes | None = None, title: str | None = None) -> Figure:
    """Waterfall of one instance: from the base value ``E[f(X)]`` to ``f(x)``.

    Features sorted by ``|value|`` (largest on top), each an arrow-like bar
    starting where the previous one ended; the rest summed in one row.

    Parameters
    ----------
    exp : Explanation
        A single instance (``exp[i]``).
    label : int, optional
    max_display : int, default=10
        Rows shown, the last one summing the features beyond them.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    BatchExplanationError
        For a batch of several instances.
    """
    r = _row(exp, label)
    exp._single("waterfall")
    v = exp.values[0, r].reshape(-1)
    base = float(exp.base_values[0, r]) if exp.base_values is not None else 0.0
    labels = _feature_labels(exp, 0)
    d = v.shape[0]
    top = _max_display(max_display, d)
    order = np.argsort(-np.abs(v), kind="stable")
    shown = list(order[: top - 1] if d > top else order)
    items = [(labels[j], float(v[j])) for j in shown]
    if d > len(shown):
        items.append((f"{d - len(shown)} other features", float(v[order[len(shown):]].sum())))
    # Bottom row first: the smallest contributions start at the base value.
    items = items[::-1]
    fig, ax = new_axes(ax, (7.2, 1.6 + 0.42 * len(items)))
    start = base
    lefts, widths = [], []
    for _, w in items:
        lefts.append(start)
        widths.append(w)
        start += w
    fx = start
    span = max(abs(fx - base), max(abs(w) for _, w in items) if items else 0.0) or 1.0
    for p, (left, w) in enumerate(zip(lefts, widths, strict=True)):
        color = SHAP_POSITIVE if w > 0 else SHAP_NEGATIVE
        ax.barh(p, w, left=left, color=color, height=0.62)
        ax.text(left + w + (0.01 if w >= 0 else -0.01) * span, p,
                f"{'+' if w >= 0 else '−'}{_fmt(abs(w))}", va="center",
                ha="left" if w >= 0 else "right", fontsize=9, color=color)
        if p + 1 < len(items):
            ax.plot([left + w] * 2, [p + 0.31, p + 0.69], color="#888888", linewidth=0.6)
    ax.set_yticks(np.arange(len(items)), [name for name, _ in items], family=text_families())
    ax.axvline(base, color="#888888", linestyle=":", linewidth=0.8)
    ax.axvline(fx, color="#888888", linestyle=":", linewidth=0.8)
    lo = min([base, fx, *[a + b for a, b in zip(lefts, widths, strict=True)], *lefts])
    hi = max([base, fx, *[a + b for a, b in zip(lefts, widths, strict=True)], *lefts])
    pad = 0.18 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-0.7, len(items) - 0.3)
    ax.set_xlabel(f"E[f(X)] = {_fmt(base)}   →   f(x) = {_fmt(fx)}")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig


# ------------------------------------------------------------------ force
def _force_parts(exp: Explanation, label: int | None, max_display: int
                 ) -> tuple[float, float, list[tuple[str, float]]]:
    r = _row(exp, label)
    exp._single("force")
    v = exp.values[0, r].reshape(-1)
    base = float(exp.base_values[0, r]) if exp.base_values is not None else 0.0
    labels = _feature_labels(exp, 0)
    order = np.argsort(-np.abs(v), kind="stable")
    top = _max_display(max_display, v.shape[0])
    parts = [(labels[j], float(v[j])) for j in order[:top] if v[j] != 0]
    rest = float(v[order[top:]].sum()) if v.shape[0] > top else 0.0
    if rest != 0.0:
        parts.append((f"{v.shape[0] - top} other features", rest))
    return base, base + float(v.sum()), parts


def force(exp: Explanation, label: int | None = None, max_display: int = 8,
          ax: Axes | None = None, title: str | None = None) -> Figure:
    """Static force plot of one instance.

    One horizontal band from the base value to ``f(x)``: red segments push the
    output up (drawn left of ``f(x)``), blue ones push it down (right of it),
    each as wide as its contribution, the largest labelled.

    Parameters
    ----------
    exp : Explanation
        A single instance (``exp[i]``).
    label : int, optional
    max_display : int, default=8
        Features drawn one by one; the rest as one segment.

    Returns
    -------
    matplotlib.figure.Figure
    """
    base, fx, parts = _force_parts(exp, label, max_display)
    fig, ax = new_axes(ax, (9.0, 2.4))
    pos = sorted([p for p in parts if p[1] > 0], key=lambda p: p[1])  # small first, far left
    neg = sorted([p for p in parts if p[1] < 0], key=lambda p: p[1])  # most negative last
    total_pos = sum(w for _, w in pos)
    x = fx - total_pos
    for name, w in pos:
        ax.barh(0, w, left=x, color=SHAP_POSITIVE, height=0.35, edgecolor="white")
        if w > 0.06 * (total_pos + abs(sum(v for _, v in neg)) or 1):
            ax.text(x + w / 2, -0.32, name, ha="center", va="top", fontsize=8,
                    rotation=20, family=text_families(), color=SHAP_POSITIVE)
        x += w
    x = fx
    total = total_pos + abs(sum(v for _, v in neg)) or 1.0
    for name, w in neg[::-1]:
        ax.barh(0, -w, left=x, color=SHAP_NEGATIVE, height=0.35, edgecolor="white")
        if -w > 0.06 * total:
            ax.text(x - w / 2, -0.32, name, ha="center", va="top", fontsize=8, rotation=20,
                    family=text_families(), color=SHAP_NEGATIVE)
        x -= w
    ax.axvline(fx, color="#222222", linewidth=1.2)
    ax.annotate(f"f(x) = {_fmt(fx)}", (fx, 0.22), ha="center", va="bottom", fontsize=10,
                fontweight="bold")
    ax.axvline(base, color="#888888", linestyle=":", linewidth=1.0)
    ax.annotate(f"base value = {_fmt(base)}", (base, 0.45), ha="center", va="bottom",
                fontsize=8, color="#555555")
    ax.set_ylim(-1.3, 0.8)
    ax.set_yticks([])
    lo = min(fx - total_pos, base, fx)
    hi = max(fx + abs(sum(v for _, v in neg)), base, fx)
    pad = 0.08 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.text(0.0, 0.98, "higher ⟶", transform=ax.transAxes, color=SHAP_POSITIVE, fontsize=9,
            va="top")
    ax.text(1.0, 0.98, "⟵ lower", transform=ax.transAxes, color=SHAP_NEGATIVE, fontsize=9,
            va="top", ha="right")
    if title:
        ax.set_title(title, family=text_families())
    return fig


def force_html(exp: Explanation, label: int | None = None, max_display: int = 8) -> str:
    """Force plot of one instance as self-contained HTML (inline CSS, no JavaScript).

    Parameters are those of :func:`force`.

    Returns
    -------
    str
        A ``<div>`` fragment: a band of red (raising) and blue (lowering)
        segments as wide as their share of the total contribution, with the
        feature names and values underneath.
    """
    base, fx, parts = _force_parts(exp, label, max_display)
    pos = sorted([p for p in parts if p[1] > 0], key=lambda p: p[1])
    neg = sorted([p for p in parts if p[1] < 0], key=lambda p: -p[1])
    total = sum(abs(w) for _, w in parts) or 1.0

    def seg(name: str, w: float, color: str) -> str:
        pct = 100.0 * abs(w) / total
        tip = _html.escape(f"{name}: {'+' if w > 0 else ''}{_fmt(w)}")
        label_html = (f"<span style='font-size:11px;color:#fff;white-space:nowrap;"
                      f"overflow:hidden;text-overflow:ellipsis;padding:0 3px'>{tip}</span>"
                      if pct > 9 else "")
        return (f"<div title='{tip}' style='flex:0 0 {pct:.3f}%;background:{color};"
                f"height:26px;display:flex;align-items:center;border-right:1px solid #fff;"
                f"box-sizing:border-box;overflow:hidden'>{label_html}</div>")

    band = "".join(seg(n, w, SHAP_POSITIVE) for n, w in pos)
    band += "<div style='flex:0 0 2px;background:#222'></div>"
    band += "".join(seg(n, w, SHAP_NEGATIVE) for n, w in neg)
    rows = "".join(
        f"<tr><td style='padding:1px 8px;color:{SHAP_POSITIVE if w > 0 else SHAP_NEGATIVE}'>"
        f"{'+' if w > 0 else '−'}{_html.escape(_fmt(abs(w)))}</td>"
        f"<td style='padding:1px 8px'>{_html.escape(n)}</td></tr>" for n, w in parts)
    return (
        "<div class='whylens-force' style='font-family:sans-serif;font-size:13px;"
        "max-width:900px'>"
        f"<div style='display:flex;justify-content:space-between'><span>base value "
        f"<b>{_html.escape(_fmt(base))}</b></span><span>f(x) <b>{_html.escape(_fmt(fx))}"
        f"</b></span></div>"
        f"<div style='display:flex;width:100%;margin:4px 0'>{band}</div>"
        f"<div style='font-size:11px;color:#555'><span style='color:{SHAP_POSITIVE}'>"
        f"■ raises the output</span> &nbsp; <span style='color:{SHAP_NEGATIVE}'>■ lowers "
        f"it</span></div><table style='border-collapse:collapse;margin-top:4px'>{rows}"
        "</table></div>"
    )


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
    V = _matrix(exp, label)
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
    V = _matrix(exp, label)
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
        points = ax.scatter(X[:, j], V[:, j], s=16, c=cv, cmap=_cmap(), vmin=lo, vmax=hi,
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
    V = _matrix(exp, label)
    n, d = V.shape
    top = _max_display(max_display, d)
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
        r = _row(exp, label)
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


# ------------------------------------------------------------------ text
def text(exp: Explanation, label: int | None = None, ax: Axes | None = None,
         width: float = 7.0, title: str | None = None) -> Figure:
    """A document with each token's background coloured by its SHAP value.

    Red raises the output, blue lowers it; opacity grows with ``|value|``.
    Lines wrap at the figure's width.

    Parameters
    ----------
    exp : Explanation
        One text explanation (``exp[i]`` of a text batch).
    width : float, default=7.0
        Figure width in inches (without ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    r = _row(exp, label)
    exp._single("text")
    if exp.features.kind != "text" or not exp.features.texts:
        raise InputError(describe("exp", "a text explanation",
                                  got_text=f"a {exp.features.kind} explanation"))
    from matplotlib.colors import to_rgb

    v = exp.values[0, r].reshape(-1)
    doc = exp.features.texts[0]
    spans = exp.features.spans[0] if exp.features.spans is not None else []
    owner = {}
    for j, occ in enumerate(spans):
        for start, end in occ:
            owner[(start, end)] = j
    pieces: list[tuple[str, int | None]] = []
    cursor = 0
    for (start, end), j in sorted(owner.items()):
        if start > cursor:
            pieces.append((doc[cursor:start], None))
        pieces.append((doc[start:end], j))
        cursor = end
    if cursor < len(doc):
        pieces.append((doc[cursor:], None))
    scale = float(np.abs(v).max()) or 1.0
    lines = len(doc) // max(int(width * 9), 1) + 1 + doc.count("\n")
    fig, ax = new_axes(ax, (width, 0.7 + 0.34 * lines))
    ax.set_axis_off()
    families = text_families()
    renderer = fig._get_renderer()  # an Agg renderer for a bare Figure
    ax_box = ax.get_window_extent(renderer)
    x, y, line_h = 0.0, 1.0, 0.0
    fontsize = 12
    placed = []
    for piece, j in pieces:
        for part in piece.split("\n"):
            if not part:
                continue
            artist = ax.text(x, y, part, fontsize=fontsize, family=families, va="top",
                             ha="left", transform=ax.transAxes)
            if j is not None:
                color = to_rgb(SHAP_POSITIVE if v[j] > 0 else SHAP_NEGATIVE)
                alpha = 0.1 + 0.8 * abs(v[j]) / scale
                artist.set_bbox({"facecolor": (*color, alpha), "edgecolor": "none",
                                 "pad": 1.0})
            box = artist.get_window_extent(renderer)
            w = box.width / ax_box.width
            line_h = max(line_h, box.height / ax_box.height)
            if x > 0 and x + w > 1.0:
                x, y = 0.0, y - line_h * 1.5
                artist.set_position((x, y))
            placed.append(artist)
            x += w
    ax.set_title(title or f"base value {_fmt(float(exp.base_values[0, r]))}   →   "
                 f"f(x) = {_fmt(float(exp.base_values[0, r] + v.sum()))}", fontsize=10,
                 family=families)
    return fig

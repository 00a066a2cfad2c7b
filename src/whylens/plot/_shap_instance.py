"""The SHAP plots of one instance: waterfall, force (figure and HTML), text.

Every function takes a single-instance :class:`~whylens.Explanation`
(``exp[i]``) or ``shap.Explanation`` (``sv[i]``), accepts shap's ``show=``
but never calls ``plt.show()``, and returns the
:class:`matplotlib.figure.Figure` it drew on (:func:`force_html`: an HTML
fragment). Feature names and texts use a CJK-capable font when one is
installed.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING

import numpy as np

from whylens.errors import InputError, InputTypeError, describe
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
    label_row,
    largest_with_rest,
    signed_value_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["force", "force_html", "text", "waterfall"]


# ------------------------------------------------------------------ waterfall
def waterfall(exp: Explanation, label: int | None = None, max_display: int = 10,
              ax: Axes | None = None, title: str | None = None, *,
              show: bool = False) -> Figure:
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
    exp = as_explanation(exp)
    v, base = instance_values(exp, label, "waterfall")
    items = largest_with_rest(v, feature_labels(exp, 0), max_display, "{n} other features")
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
        signed_value_label(ax, left + w, p, w, span, color)
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
    ax.set_xlabel(f"E[f(X)] = {format_value(base)}   →   f(x) = {format_value(fx)}")
    finish_axes(ax, title)
    return fig


# ------------------------------------------------------------------ force
def _force_parts(exp: Explanation, label: int | None, max_display: int
                 ) -> tuple[float, float, list[tuple[str, float]]]:
    exp = as_explanation(exp)
    v, base = instance_values(exp, label, "force")
    labels = feature_labels(exp, 0)
    order = np.argsort(-np.abs(v), kind="stable")
    top = display_count(max_display, v.shape[0])
    parts = [(labels[j], float(v[j])) for j in order[:top] if v[j] != 0]
    rest = float(v[order[top:]].sum()) if v.shape[0] > top else 0.0
    if rest != 0.0:
        parts.append((f"{v.shape[0] - top} other features", rest))
    return base, base + float(v.sum()), parts


def force(exp: Explanation, label: int | None = None, max_display: int = 8,
          ax: Axes | None = None, title: str | None = None, *, show: bool = False,
          **shap_arrays: object) -> Figure:
    """Static force plot of one instance.

    One horizontal band from the base value to ``f(x)``: red segments push the
    output up (drawn left of ``f(x)``), blue ones push it down (right of it),
    each as wide as its contribution, the largest labelled.

    shap's array call is accepted too: ``force(base_value, shap_values,
    features)`` (also by keyword, with ``feature_names=``), as
    :func:`whylens.shap.force_plot` with ``matplotlib=True``.

    Parameters
    ----------
    exp : Explanation, shap.Explanation or float
        A single instance (``exp[i]``), or the base value of shap's array call.
    label : int, optional
    max_display : int, default=8
        Features drawn one by one; the rest as one segment.
    show : bool, default=False
        Accepted for shap's code; whylens never calls ``plt.show()``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputTypeError
        An unexpected keyword argument.
    """
    exp, label, max_display = _force_arguments(exp, label, max_display, shap_arrays)
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
    ax.annotate(f"f(x) = {format_value(fx)}", (fx, 0.22), ha="center", va="bottom", fontsize=10,
                fontweight="bold")
    ax.axvline(base, color="#888888", linestyle=":", linewidth=1.0)
    ax.annotate(f"base value = {format_value(base)}", (base, 0.45), ha="center", va="bottom",
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


def _force_arguments(exp: object, label: object, max_display: object,
                     shap_arrays: dict[str, object]) -> tuple[Explanation, int | None, int]:
    """Explanation, label and count of a force call, shap's array order included."""
    unknown = set(shap_arrays) - {"shap_values", "features", "feature_names", "matplotlib"}
    if unknown:
        raise InputTypeError(describe(
            "force", "keywords label, max_display, ax, title, show (or shap's shap_values, "
            "features, feature_names)", got_text=", ".join(sorted(unknown))))
    from whylens._shap_interop import is_shap_explanation

    if is_shap_explanation(exp) or hasattr(exp, "features"):
        return as_explanation(exp), label, max_display  # type: ignore[return-value]
    from whylens.plot._arrays import force_explanation

    values = shap_arrays.get("shap_values")
    if values is None and label is not None and np.ndim(label) >= 1:
        values, label = label, None
    features = shap_arrays.get("features")
    if features is None and not isinstance(max_display, (int, np.integer)):
        features, max_display = max_display, 8
    if values is None:
        raise InputTypeError(describe("exp", "a whylens Explanation or a shap.Explanation "
                                      "(or shap's force(base_value, shap_values, features))",
                                      exp))
    return (force_explanation(exp, values, features, shap_arrays.get("feature_names")),
            label, max_display)  # type: ignore[return-value]


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
        tip = _html.escape(f"{name}: {'+' if w > 0 else ''}{format_value(w)}")
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
        f"{'+' if w > 0 else '−'}{_html.escape(format_value(abs(w)))}</td>"
        f"<td style='padding:1px 8px'>{_html.escape(n)}</td></tr>" for n, w in parts)
    return (
        "<div class='whylens-force' style='font-family:sans-serif;font-size:13px;"
        "max-width:900px'>"
        f"<div style='display:flex;justify-content:space-between'><span>base value "
        f"<b>{_html.escape(format_value(base))}</b></span><span>f(x) "
        f"<b>{_html.escape(format_value(fx))}</b></span></div>"
        f"<div style='display:flex;width:100%;margin:4px 0'>{band}</div>"
        f"<div style='font-size:11px;color:#555'><span style='color:{SHAP_POSITIVE}'>"
        f"■ raises the output</span> &nbsp; <span style='color:{SHAP_NEGATIVE}'>■ lowers "
        f"it</span></div><table style='border-collapse:collapse;margin-top:4px'>{rows}"
        "</table></div>"
    )


# ------------------------------------------------------------------ text
def text(exp: Explanation, label: int | None = None, ax: Axes | None = None,
         width: float = 7.0, title: str | None = None, *, show: bool = False) -> Figure:
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
    exp = as_explanation(exp)
    r = label_row(exp, label)
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
    ax.set_title(title or f"base value {format_value(float(exp.base_values[0, r]))}   →   "
                 f"f(x) = {format_value(float(exp.base_values[0, r] + v.sum()))}", fontsize=10,
                 family=families)
    return fig

"""What every HTML rendering of an explanation shares: colours, CSS, pages, panels.

The text/tabular renderer (:mod:`whylens.render.html`) and the image renderer
(:mod:`whylens.render._image`) both build on this module; it imports neither.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputTypeError, describe

if TYPE_CHECKING:
    from whylens.explanation import Explanation

__all__ = [
    "CSS",
    "FONT_STACK",
    "MAX_CLASSES",
    "NEGATIVE_COLOR",
    "POSITIVE_COLOR",
    "PROBA_COLOR",
    "ZERO_COLOR",
    "escape",
    "explanation_layout",
    "footer",
    "format_number",
    "format_weight",
    "legend_note",
    "page",
    "panel_headers",
    "proba_section",
    "ranked_features",
    "rgba",
    "shown_labels",
    "sign_color",
    "value_section",
    "weights_section",
]

#: Colour of features that push the output up (towards the explained class).
POSITIVE_COLOR = "#ff7f0e"
#: Colour of features that push the output down (away from the explained class).
NEGATIVE_COLOR = "#5b9bd5"
#: Colour of a zero weight.
ZERO_COLOR = "#9aa0a6"
#: Colour of the probability bars.
PROBA_COLOR = "#7b8ea8"

#: Fonts tried in order; the Korean ones make Hangul render on every platform.
FONT_STACK = (
    "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Nanum Gothic', NanumGothic, "
    "'Noto Sans CJK KR', 'Noto Sans KR', 'Malgun Gothic', 'Apple SD Gothic Neo', sans-serif"
)

#: Maximum number of classes in the probability chart; more are summed as "Other".
MAX_CLASSES = 6

CSS = f"""
.whylens-exp{{font-family:{FONT_STACK};font-size:14px;line-height:1.45;color:#1f2328;
 background:#fff;padding:12px;max-width:100%;box-sizing:border-box;text-align:left}}
.whylens-exp *{{box-sizing:border-box}}
.whylens-exp .wl-cols{{display:flex;flex-wrap:wrap;gap:18px 32px;align-items:flex-start}}
.whylens-exp .wl-col{{flex:1 1 320px;min-width:260px}}
.whylens-exp .wl-col-narrow{{flex:0 1 260px;min-width:200px}}
.whylens-exp .wl-h{{font-size:14px;font-weight:600;margin:0 0 6px;padding:0;border:0}}
.whylens-exp .wl-note{{font-size:12px;color:#57606a;margin:4px 0 0}}
.whylens-exp .wl-panel{{margin:0 0 18px}}
.whylens-exp .wl-row{{display:grid;grid-template-columns:minmax(5em,38%) 1fr 4.8em;
 align-items:center;column-gap:8px;min-height:22px;padding:1px 0}}
.whylens-exp .wl-name{{text-align:right;overflow-wrap:anywhere}}
.whylens-exp .wl-val{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}
.whylens-exp .wl-track{{display:flex;height:16px}}
.whylens-exp .wl-half{{flex:1 1 0;display:flex;min-width:0}}
.whylens-exp .wl-half.wl-neg{{justify-content:flex-end;border-right:1px solid #57606a}}
.whylens-exp .wl-bar{{height:100%}}
.whylens-exp .wl-head .wl-track{{height:auto}}
.whylens-exp .wl-head .wl-half{{border:0;font-size:12px;font-weight:600;padding:0 6px;
 overflow-wrap:anywhere}}
.whylens-exp .wl-prow{{display:grid;grid-template-columns:minmax(4em,40%) 1fr 3em;
 align-items:center;column-gap:8px;min-height:22px}}
.whylens-exp .wl-ptrack{{height:16px;background:#eef1f4}}
.whylens-exp .wl-range{{display:grid;grid-template-columns:auto 1fr auto;align-items:center;
 column-gap:8px;font-size:12px;color:#57606a}}
.whylens-exp .wl-big{{font-size:20px;font-weight:600;margin:0 0 4px}}
.whylens-exp .wl-text{{white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.9;
 border:1px solid #d0d7de;border-radius:4px;padding:8px 10px;margin:0}}
.whylens-exp .wl-hl{{border-radius:2px;padding:1px 0}}
.whylens-exp .wl-key{{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;
 vertical-align:baseline}}
.whylens-exp table.wl-table{{border-collapse:collapse;width:auto;min-width:60%;margin:0;
 font-size:14px;table-layout:auto}}
.whylens-exp table.wl-table th,.whylens-exp table.wl-table td{{padding:3px 8px;
 border:0;border-bottom:1px solid #d8dee4;text-align:left;vertical-align:top;
 overflow-wrap:anywhere}}
.whylens-exp table.wl-table th{{font-weight:600;background:#f6f8fa}}
""".strip()

_PAGE_CSS = (
    f"body{{margin:0;padding:16px 24px;background:#fff;color:#1f2328;font-family:{FONT_STACK}}}"
    "h1.wl-title{font-size:20px;font-weight:600;margin:0 0 12px}"
    ".wl-section{margin:0 0 24px}"
)


def escape(text: Any) -> str:
    """Return ``str(text)`` with ``&``, ``<``, ``>`` and quotes escaped for HTML.

    Parameters
    ----------
    text : object
        Anything; converted with ``str``.

    Returns
    -------
    str
        Safe to place in element content and in quoted attribute values.
    """
    return _html.escape(str(text), quote=True)


def page(title: str, sections: Sequence[str]) -> str:
    """Wrap HTML fragments into one standalone page (UTF-8, no external resources).

    Parameters
    ----------
    title : str
        Shown in the browser tab and as the page heading; escaped.
    sections : sequence of str
        HTML fragments (e.g. ``explanation_html(exp)``), inserted as they are,
        each in its own ``<section>``. They are trusted markup, not escaped.

    Returns
    -------
    str
        A complete ``<!doctype html>`` document.

    Raises
    ------
    InputTypeError
        If ``sections`` is a single string or holds something else than strings.
    """
    if isinstance(sections, str) or not all(isinstance(s, str) for s in sections):
        raise InputTypeError(
            describe("sections", "a list of HTML strings", sections,
                     "Wrap a single fragment in a list: page(title, [fragment]).")
        )
    body = "\n".join(f'<section class="wl-section">{s}</section>' for s in sections)
    return (
        "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n<body>\n"
        f'<h1 class="wl-title">{escape(title)}</h1>\n{body}\n</body>\n</html>\n'
    )


# ---------------------------------------------------------------- panels
def shown_labels(exp: Explanation, labels: Sequence[int] | int | None) -> list[int]:
    """The lime labels to draw a chart for."""
    if exp.mode == "regression" and exp.labels.shape[0] == 1:
        return [1]  # lime's label of the output in regression mode
    if labels is None:
        if exp.top_labels:
            return [int(x) for x in exp.top_labels]
        return [int(x) for x in exp.labels]
    if isinstance(labels, (int, np.integer)) and not isinstance(labels, bool):
        return [int(labels)]
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise InputTypeError(describe("labels", "a sequence of int labels or None", labels))
    return list(labels)


def ranked_features(exp: Explanation, label: int) -> list[tuple[int, str, float]]:
    """``(feature index, description, weight)`` of the selected features."""
    described = exp.as_list(label)  # validates ``label``
    indices = exp.as_map()[label]
    return [(i, name, w) for (i, _), (name, w) in zip(indices, described, strict=True)]


def sign_color(weight: float) -> str:
    if weight > 0:
        return POSITIVE_COLOR
    if weight < 0:
        return NEGATIVE_COLOR
    return ZERO_COLOR


def rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3f})"


def format_number(x: float) -> str:
    """Short readable form of a data value."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if 0.01 <= abs(x) < 1e6:
        return f"{x:.2f}"
    return f"{x:.3g}"


def format_weight(w: float) -> str:
    """Signed weight with three decimals (scientific when that would show 0)."""
    if w == 0 or 0.001 <= abs(w) < 1e6:
        return f"{w:+.3f}"
    return f"{w:+.2e}"


def panel_headers(exp: Explanation, label: int) -> tuple[str, str, str]:
    """Panel title and the (negative, positive) side headers, as lime labels them."""
    if exp.mode == "regression":
        name = exp.output_name(0) if exp.output_names else "Local explanation"
        return name, "negative", "positive"
    name = exp.output_name(label)
    names = exp.output_names or []
    if len(names) == 2 and label in (0, 1):
        return name, str(names[1 - label]), name
    return name, f"NOT {name}", name


def proba_section(exp: Explanation) -> str:
    probs = np.asarray(exp.output, dtype=np.float64)[0].reshape(-1)
    order = np.argsort(-probs, kind="stable")
    rows = [(exp.output_name(int(k)), float(probs[k])) for k in order]
    if len(rows) > MAX_CLASSES:
        rest = sum(p for _, p in rows[MAX_CLASSES - 1 :])
        rows = [*rows[: MAX_CLASSES - 1], ("Other", rest)]
    html = ['<div class="wl-panel"><div class="wl-h">Prediction probabilities</div>']
    for name, p in rows:
        width = 100.0 * min(max(p, 0.0), 1.0) if math.isfinite(p) else 0.0
        html.append(
            f'<div class="wl-prow"><span class="wl-name" title="{escape(name)}">'
            f"{escape(name)}</span>"
            f'<div class="wl-ptrack"><div class="wl-bar" '
            f'style="width:{width:.1f}%;background:{PROBA_COLOR}"></div></div>'
            f'<span class="wl-val">{p:.2f}</span></div>'
        )
    html.append("</div>")
    return "".join(html)


def value_section(exp: Explanation) -> str:
    value = float(np.asarray(exp.output, dtype=np.float64)[0].reshape(-1)[int(exp.labels[0])])
    html = ['<div class="wl-panel"><div class="wl-h">Predicted value</div>',
            f'<div class="wl-big">{escape(format_number(value))}</div>']
    y_range = exp.params.get("y_range")
    if y_range is not None and len(y_range) == 2:
        lo, hi = float(y_range[0]), float(y_range[1])
        width = 100.0 * (value - lo) / (hi - lo) if hi > lo else 100.0
        width = min(max(width, 0.0), 100.0)
        html.append(
            f'<div class="wl-range"><span>min {escape(format_number(lo))}</span>'
            f'<div class="wl-ptrack"><div class="wl-bar" '
            f'style="width:{width:.1f}%;background:{PROBA_COLOR}"></div></div>'
            f'<span>max {escape(format_number(hi))}</span></div>'
            '<p class="wl-note">Range of the model output over the perturbed samples.</p>'
        )
    html.append("</div>")
    return "".join(html)


def weights_section(exp: Explanation, label: int, ranked: list[tuple[int, str, float]]
                     ) -> str:
    title, neg, pos = panel_headers(exp, label)
    html = [
        f'<div class="wl-panel" data-label="{label}">',
        f'<div class="wl-h">{escape(title)}</div>',
        '<div class="wl-row wl-head"><span></span><div class="wl-track">'
        '<div class="wl-half wl-neg" style="justify-content:flex-end">'
        f'<span style="border-bottom:3px solid {NEGATIVE_COLOR}">{escape(neg)}</span></div>'
        '<div class="wl-half wl-pos">'
        f'<span style="border-bottom:3px solid {POSITIVE_COLOR}">{escape(pos)}</span></div>'
        "</div><span></span></div>",
    ]
    top = max((abs(w) for _, _, w in ranked), default=0.0)
    for _, name, w in ranked:
        width = 100.0 * abs(w) / top if top > 0 else 0.0
        bar = f'<div class="wl-bar" style="width:{width:.1f}%;background:{sign_color(w)}"></div>'
        html.append(
            f'<div class="wl-row"><span class="wl-name">{escape(name)}</span>'
            '<div class="wl-track">'
            f'<div class="wl-half wl-neg">{bar if w < 0 else ""}</div>'
            f'<div class="wl-half wl-pos">{bar if w > 0 else ""}</div>'
            f'</div><span class="wl-val">{format_weight(w)}</span></div>'
        )
    if not ranked:
        html.append('<p class="wl-note">No features selected.</p>')
    if exp.surrogate is not None:
        score = exp.score[label]
        html.append(f'<p class="wl-note">Local surrogate: weighted R² {score:.2f}</p>')
    html.append("</div>")
    return "".join(html)


def legend_note(exp: Explanation, label: int) -> str:
    _, neg, pos = panel_headers(exp, label)
    return (
        f'<p class="wl-note"><span class="wl-key" style="background:{POSITIVE_COLOR}"></span>'
        f'{escape(pos)}<span class="wl-key" style="background:{NEGATIVE_COLOR}"></span>'
        f"{escape(neg)}</p>"
    )


def quality_section(exp: Explanation) -> str:
    """A small table of ``exp.quality`` (score, random control, direction), or ""."""
    figures = getattr(exp, "quality", None)
    if not isinstance(figures, dict) or not figures:
        return ""
    rows = []
    for name, fig in figures.items():
        if not isinstance(fig, dict):
            continue
        random = fig.get("random") if isinstance(fig.get("random"), dict) else {}
        label, score = str(name), fig.get("score")
        if "jaccard" in fig:  # stability: the top-k agreement across seeds
            label, score = f"{name} (top-k Jaccard)", fig["jaccard"]
            random = random.get("jaccard") if isinstance(random.get("jaccard"), dict) else {}
        elif isinstance(fig.get("spearman"), list) and fig["spearman"]:  # randomisation
            label, score = f"{name} (Spearman, last layer)", fig["spearman"][-1]
            random = random.get("spearman") if isinstance(random.get("spearman"), dict) else {}
        chance, spread = random.get("mean"), random.get("std")
        direction = {True: "higher is better", False: "lower is better"}.get(
            fig.get("higher_is_better"), "")
        control = _figure(chance) + (f" ± {_figure(spread)}" if spread is not None else "")
        rows.append(f"<tr><td>{escape(label)}</td><td>{_figure(score)}</td>"
                    f"<td>{control}</td><td>{escape(direction)}</td></tr>")
    if not rows:
        return ""
    return ('<table class="wl-table wl-quality"><tr><th>quality</th><th>score</th>'
            f'<th>random control</th><th></th></tr>{"".join(rows)}</table>')


def _figure(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return escape(f"{value:.4g}")


def footer(exp: Explanation) -> str:
    parts = [escape(exp.method)]
    if exp.n_evals:
        parts.append(f"{exp.n_evals} model evaluations")
    seed = exp.params.get("random_state")
    if isinstance(seed, int):
        parts.append(f"random_state={seed}")
    return f'{quality_section(exp)}<p class="wl-note">{" · ".join(parts)}</p>'


def explanation_layout(exp: Explanation, side: Sequence[str], columns: Sequence[str],
                       standalone: bool) -> str:
    """One explanation's HTML: the ``side`` sections in a narrow first column, ``columns``
    (whole ``wl-col`` blocks), then the footer; a whole :func:`page` when ``standalone``."""
    cols = [f'<div class="wl-col wl-col-narrow">{"".join(side)}</div>'] if side else []
    cols.extend(columns)
    fragment = (
        f'<div class="whylens-exp"><style>{CSS}</style>'
        f'<div class="wl-cols">{"".join(cols)}</div>{footer(exp)}</div>'
    )
    if standalone:
        return page(f"whylens: {exp.method} explanation", [fragment])
    return fragment

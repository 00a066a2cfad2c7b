"""HTML rendering of an :class:`~whylens.Explanation`, without JavaScript.

The output is plain HTML with CSS: it shows in a Jupyter notebook (trusted or
not, since bar widths and colours are inline styles), in a browser from a file,
and in the ``whylens demo`` report. All CSS is scoped under ``.whylens-exp`` so
nothing leaks into the page around it. Every piece of user text (documents,
feature names, class names) is HTML-escaped.

What it shows, as lime's ``show_in_notebook`` does:

- the prediction probabilities (classification) or the predicted value with
  the range of the perturbed outputs (regression);
- per label, a signed bar chart of ``exp.as_list(label)``;
- for text, the document with each selected word highlighted;
- for tables, the instance's values of the selected features.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe, short_repr

if TYPE_CHECKING:
    from whylens.explanation import Explanation

__all__ = [
    "CSS",
    "FONT_STACK",
    "NEGATIVE_COLOR",
    "POSITIVE_COLOR",
    "escape",
    "explanation_html",
    "page",
]

#: Colour of features that push the output up (towards the explained class).
POSITIVE_COLOR = "#ff7f0e"
#: Colour of features that push the output down (away from the explained class).
NEGATIVE_COLOR = "#5b9bd5"
_ZERO_COLOR = "#9aa0a6"
_PROBA_COLOR = "#7b8ea8"

#: Fonts tried in order; the Korean ones make Hangul render on every platform.
FONT_STACK = (
    "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Nanum Gothic', NanumGothic, "
    "'Noto Sans CJK KR', 'Noto Sans KR', 'Malgun Gothic', 'Apple SD Gothic Neo', sans-serif"
)

#: Maximum number of classes in the probability chart; more are summed as "Other".
MAX_CLASSES = 6

_OPTIONS = (
    "labels", "predict_proba", "show_predicted_value", "standalone",
    "text", "opacity", "show_table", "show_all",
)

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


def explanation_html(
    exp: Explanation,
    labels: Sequence[int] | int | None = None,
    predict_proba: bool = True,
    show_predicted_value: bool = True,
    standalone: bool = False,
    text: bool | str = True,
    opacity: bool = True,
    show_table: bool = True,
    show_all: bool = False,
    **kwargs: Any,
) -> str:
    """Render a single-instance Explanation as HTML, without JavaScript.

    Parameters
    ----------
    exp : Explanation
        A single-instance explanation (``exp.n_instances == 1``).
    labels : sequence of int or int, optional
        Labels to show a bar chart for. Default: ``exp.top_labels`` when set,
        else every explained label. Ignored in regression mode (one chart).
    predict_proba : bool, default=True
        Classification: show the model's class probabilities.
    show_predicted_value : bool, default=True
        Regression: show the predicted value and the range of the outputs on
        the perturbed samples (``exp.params["y_range"]``).
    standalone : bool, default=False
        Return a complete page (``<!doctype html>``) instead of a fragment.
    text : bool or str, default=True
        Text explanations: show the document with the selected words
        highlighted for the first shown label. Only its truth value counts (as
        in lime, a non-empty string means yes).
    opacity : bool, default=True
        Text explanations: highlight alpha is ``|weight| / max |weight|``;
        ``False`` gives every highlight full colour.
    show_table : bool, default=True
        Tabular explanations: show the instance's values of the selected features.
    show_all : bool, default=False
        Tabular explanations: list every feature, not only the selected ones
        (the others uncoloured).
    **kwargs
        Refused: any other keyword raises :class:`~whylens.errors.InputError`.

    Returns
    -------
    str
        An HTML fragment with its own scoped ``<style>``, or a full page.

    Raises
    ------
    BatchExplanationError
        If ``exp`` holds several instances (select one with ``exp[i]``).
    InputError
        For an unknown keyword argument or a label that was not explained.
    """
    if kwargs:
        name = next(iter(kwargs))
        raise InputError(
            describe(name, f"one of the keyword arguments {', '.join(_OPTIONS)}",
                     got_text=f"unknown keyword argument {name}={short_repr(kwargs[name])}",
                     fix="Check the spelling; lime's show_in_notebook options are supported.")
        )
    exp._single("as_html")
    if exp.features.kind in ("image", "sequence"):
        from whylens.render._image import image_html

        return image_html(exp, labels=labels, predict_proba=predict_proba,
                          standalone=standalone)
    shown = _shown_labels(exp, labels)
    ranked = {label: _ranked(exp, label) for label in shown}  # validates the labels

    side = []
    if exp.mode == "classification" and predict_proba and exp.output is not None:
        side.append(_proba_section(exp))
    if exp.mode == "regression" and show_predicted_value and exp.output is not None:
        side.append(_value_section(exp))
    bars = [_weights_section(exp, label, ranked[label]) for label in shown]
    detail = []
    first = shown[0] if shown else None
    if exp.features.kind == "text" and text and exp.features.texts is not None:
        detail.append(_text_section(exp, first, ranked.get(first, []), bool(opacity)))
    if exp.features.kind == "tabular" and show_table:
        detail.append(_table_section(exp, first, ranked.get(first, []), bool(show_all)))

    columns = []
    if side:
        columns.append(f'<div class="wl-col wl-col-narrow">{"".join(side)}</div>')
    if bars:
        columns.append(f'<div class="wl-col">{"".join(bars)}</div>')
    if detail:
        columns.append(f'<div class="wl-col">{"".join(detail)}</div>')
    fragment = (
        f'<div class="whylens-exp"><style>{CSS}</style>'
        f'<div class="wl-cols">{"".join(columns)}</div>{_footer(exp)}</div>'
    )
    if standalone:
        return page(f"whylens: {exp.method} explanation", [fragment])
    return fragment


# ---------------------------------------------------------------- internals
def _shown_labels(exp: Explanation, labels: Sequence[int] | int | None) -> list[int]:
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


def _ranked(exp: Explanation, label: int) -> list[tuple[int, str, float]]:
    """``(feature index, description, weight)`` of the selected features."""
    described = exp.as_list(label)  # validates ``label``
    indices = exp.as_map()[label]
    return [(i, name, w) for (i, _), (name, w) in zip(indices, described, strict=True)]


def _class_name(exp: Explanation, label: int) -> str:
    names = exp.output_names
    if names and 0 <= label < len(names):
        return str(names[label])
    return str(label)


def _sign_color(weight: float) -> str:
    if weight > 0:
        return POSITIVE_COLOR
    if weight < 0:
        return NEGATIVE_COLOR
    return _ZERO_COLOR


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3f})"


def _number(x: float) -> str:
    """Short readable form of a data value."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if 0.01 <= abs(x) < 1e6:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _weight(w: float) -> str:
    """Signed weight with three decimals (scientific when that would show 0)."""
    if w == 0 or 0.001 <= abs(w) < 1e6:
        return f"{w:+.3f}"
    return f"{w:+.2e}"


def _headers(exp: Explanation, label: int) -> tuple[str, str, str]:
    """Panel title and the (negative, positive) side headers, as lime labels them."""
    if exp.mode == "regression":
        name = _class_name(exp, 0) if exp.output_names else "Local explanation"
        return name, "negative", "positive"
    name = _class_name(exp, label)
    names = exp.output_names or []
    if len(names) == 2 and label in (0, 1):
        return name, str(names[1 - label]), name
    return name, f"NOT {name}", name


def _proba_section(exp: Explanation) -> str:
    probs = np.asarray(exp.output, dtype=np.float64)[0].reshape(-1)
    order = np.argsort(-probs, kind="stable")
    rows = [(_class_name(exp, int(k)), float(probs[k])) for k in order]
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
            f'style="width:{width:.1f}%;background:{_PROBA_COLOR}"></div></div>'
            f'<span class="wl-val">{p:.2f}</span></div>'
        )
    html.append("</div>")
    return "".join(html)


def _value_section(exp: Explanation) -> str:
    value = float(np.asarray(exp.output, dtype=np.float64)[0].reshape(-1)[int(exp.labels[0])])
    html = ['<div class="wl-panel"><div class="wl-h">Predicted value</div>',
            f'<div class="wl-big">{escape(_number(value))}</div>']
    y_range = exp.params.get("y_range")
    if y_range is not None and len(y_range) == 2:
        lo, hi = float(y_range[0]), float(y_range[1])
        width = 100.0 * (value - lo) / (hi - lo) if hi > lo else 100.0
        width = min(max(width, 0.0), 100.0)
        html.append(
            f'<div class="wl-range"><span>min {escape(_number(lo))}</span>'
            f'<div class="wl-ptrack"><div class="wl-bar" '
            f'style="width:{width:.1f}%;background:{_PROBA_COLOR}"></div></div>'
            f'<span>max {escape(_number(hi))}</span></div>'
            '<p class="wl-note">Range of the model output over the perturbed samples.</p>'
        )
    html.append("</div>")
    return "".join(html)


def _weights_section(exp: Explanation, label: int, ranked: list[tuple[int, str, float]]
                     ) -> str:
    title, neg, pos = _headers(exp, label)
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
        bar = f'<div class="wl-bar" style="width:{width:.1f}%;background:{_sign_color(w)}"></div>'
        html.append(
            f'<div class="wl-row"><span class="wl-name">{escape(name)}</span>'
            '<div class="wl-track">'
            f'<div class="wl-half wl-neg">{bar if w < 0 else ""}</div>'
            f'<div class="wl-half wl-pos">{bar if w > 0 else ""}</div>'
            f'</div><span class="wl-val">{_weight(w)}</span></div>'
        )
    if not ranked:
        html.append('<p class="wl-note">No features selected.</p>')
    if exp.surrogate is not None:
        score = exp.score[label]
        html.append(f'<p class="wl-note">Local surrogate: weighted R² {score:.2f}</p>')
    html.append("</div>")
    return "".join(html)


def _legend(exp: Explanation, label: int) -> str:
    _, neg, pos = _headers(exp, label)
    return (
        f'<p class="wl-note"><span class="wl-key" style="background:{POSITIVE_COLOR}"></span>'
        f'{escape(pos)}<span class="wl-key" style="background:{NEGATIVE_COLOR}"></span>'
        f"{escape(neg)}</p>"
    )


def _text_section(exp: Explanation, label: int | None,
                  ranked: list[tuple[int, str, float]], opacity: bool) -> str:
    document = exp.features.texts[0]
    spans = exp.features.spans[0] if exp.features.spans is not None else None
    top = max((abs(w) for _, _, w in ranked), default=0.0)
    marks: list[tuple[int, int, int, float]] = []
    if spans is not None:
        for i, _, w in ranked:
            marks.extend((int(s), int(e), i, w) for s, e in spans[i])
    marks.sort()
    out: list[str] = []
    pos = 0
    for start, end, i, w in marks:
        if start < pos or end <= start:  # overlapping or empty span: keep the first
            continue
        out.append(escape(document[pos:start]))
        alpha = (abs(w) / top if top > 0 else 0.0) if opacity else 1.0
        color = _sign_color(w)
        word = exp.features.names[i]
        out.append(
            f'<span class="wl-hl" data-feature="{i}" title="{escape(word)}: {_weight(w)}" '
            f'style="background-color:{_rgba(color, alpha)};'
            f'box-shadow:inset 0 -2px 0 {color}">{escape(document[start:end])}</span>'
        )
        pos = end
    out.append(escape(document[pos:]))
    legend = _legend(exp, label) if label is not None else ""
    return (
        '<div class="wl-panel"><div class="wl-h">Text with highlighted words</div>'
        f'<div class="wl-text">{"".join(out)}</div>{legend}</div>'
    )


def _table_value(exp: Explanation, i: int) -> str:
    name = exp.features.names[i]
    if exp.features.descriptions is not None:
        desc = str(exp.features.descriptions[0][i])
        if desc.startswith(f"{name}="):  # a categorical feature: show its category
            return desc[len(name) + 1 :]
    if exp.features.data is not None:
        return _number(np.asarray(exp.features.data)[0].reshape(-1)[i])
    return ""


def _table_section(exp: Explanation, label: int | None,
                   ranked: list[tuple[int, str, float]], show_all: bool) -> str:
    rows = [(i, w) for i, _, w in ranked]
    if show_all:
        chosen = {i for i, _ in rows}
        rows += [(i, None) for i in range(len(exp.features.names)) if i not in chosen]
    html = ['<div class="wl-panel"><table class="wl-table"><thead><tr><th>Feature</th>'
            "<th>Value</th></tr></thead><tbody>"]
    for i, w in rows:
        style = ""
        if w is not None:
            color = _sign_color(w)
            style = (f' style="background:{_rgba(color, 0.28)};'
                     f'box-shadow:inset 4px 0 0 {color}"')
        html.append(
            f'<tr data-feature="{i}"{style}><td>{escape(exp.features.names[i])}</td>'
            f"<td>{escape(_table_value(exp, i))}</td></tr>"
        )
    html.append("</tbody></table>")
    if label is not None:
        html.append(_legend(exp, label))
    html.append("</div>")
    return "".join(html)


def _footer(exp: Explanation) -> str:
    parts = [escape(exp.method)]
    if exp.n_evals:
        parts.append(f"{exp.n_evals} model evaluations")
    seed = exp.params.get("random_state")
    if isinstance(seed, int):
        parts.append(f"random_state={seed}")
    return f'<p class="wl-note">{" · ".join(parts)}</p>'

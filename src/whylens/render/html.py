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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputError, describe, short_repr
from whylens.render._common import (
    CSS,
    FONT_STACK,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    escape,
    explanation_layout,
    format_number,
    format_weight,
    legend_note,
    page,
    proba_section,
    ranked_features,
    rgba,
    shown_labels,
    sign_color,
    value_section,
    weights_section,
)
from whylens.render._image import image_html

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

_OPTIONS = (
    "labels", "predict_proba", "show_predicted_value", "standalone",
    "text", "opacity", "show_table", "show_all",
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
        return image_html(exp, labels=labels, predict_proba=predict_proba,
                          standalone=standalone)
    shown = shown_labels(exp, labels)
    ranked = {label: ranked_features(exp, label) for label in shown}  # validates the labels

    side = []
    if exp.mode == "classification" and predict_proba and exp.output is not None:
        side.append(proba_section(exp))
    if exp.mode == "regression" and show_predicted_value and exp.output is not None:
        side.append(value_section(exp))
    bars = [weights_section(exp, label, ranked[label]) for label in shown]
    detail = []
    first = shown[0] if shown else None
    if exp.features.kind == "text" and text and exp.features.texts is not None:
        detail.append(_text_section(exp, first, ranked.get(first, []), bool(opacity)))
    if exp.features.kind == "tabular" and show_table:
        detail.append(_table_section(exp, first, ranked.get(first, []), bool(show_all)))

    columns = [f'<div class="wl-col">{"".join(part)}</div>' for part in (bars, detail) if part]
    return explanation_layout(exp, side, columns, standalone)


# ---------------------------------------------------------------- sections
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
        color = sign_color(w)
        word = exp.features.names[i]
        out.append(
            f'<span class="wl-hl" data-feature="{i}" title="{escape(word)}: {format_weight(w)}" '
            f'style="background-color:{rgba(color, alpha)};'
            f'box-shadow:inset 0 -2px 0 {color}">{escape(document[start:end])}</span>'
        )
        pos = end
    out.append(escape(document[pos:]))
    key = legend_note(exp, label) if label is not None else ""
    return (
        '<div class="wl-panel"><div class="wl-h">Text with highlighted words</div>'
        f'<div class="wl-text">{"".join(out)}</div>{key}</div>'
    )


def _table_value(exp: Explanation, i: int) -> str:
    name = exp.features.names[i]
    if exp.features.descriptions is not None:
        desc = str(exp.features.descriptions[0][i])
        if desc.startswith(f"{name}="):  # a categorical feature: show its category
            return desc[len(name) + 1 :]
    if exp.features.data is not None:
        return format_number(np.asarray(exp.features.data)[0].reshape(-1)[i])
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
            color = sign_color(w)
            style = (f' style="background:{rgba(color, 0.28)};'
                     f'box-shadow:inset 4px 0 0 {color}"')
        html.append(
            f'<tr data-feature="{i}"{style}><td>{escape(exp.features.names[i])}</td>'
            f"<td>{escape(_table_value(exp, i))}</td></tr>"
        )
    html.append("</tbody></table>")
    if label is not None:
        html.append(legend_note(exp, label))
    html.append("</div>")
    return "".join(html)

"""HTML of image and sequence explanations: figures embedded as PNG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputError, describe
from whylens.render._common import (
    escape,
    explanation_layout,
    proba_section,
    ranked_features,
    shown_labels,
    weights_section,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = ["MAX_IMAGE_LABELS", "figure_data_uri", "image_html"]

#: Labels drawn at most in one explanation's HTML.
MAX_IMAGE_LABELS = 3
_BARS = 10


def figure_data_uri(fig: Figure, dpi: int = 90) -> str:
    """Return ``data:image/png;base64,...`` of a matplotlib figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(fig: Figure, alt: str) -> str:
    return (f'<img src="{figure_data_uri(fig)}" alt="{escape(alt)}" '
            'style="max-width:100%;height:auto;display:block">')


def _sequence_figure(exp: Explanation, row: int) -> Figure:
    from matplotlib.figure import Figure

    values = exp.values[0, row].reshape(1, -1)
    fig = Figure(figsize=(6.4, 1.2), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(values, aspect="auto", cmap="jet", interpolation="nearest")
    ax.set_yticks([])
    ax.set_xlabel("position")
    fig.colorbar(im, ax=ax)
    return fig


def image_html(exp: Explanation, labels: Sequence[int] | int | None = None,
               predict_proba: bool = True, standalone: bool = False, **_: Any) -> str:
    """Render a single-instance image (or 1-D sequence) explanation as HTML.

    LIME image explanations show the class probabilities, the strongest
    superpixels as bars, the lime mask and the weights painted over the image;
    CAMs and other pixel maps show the map over the image, per label (at most
    :data:`MAX_IMAGE_LABELS`).

    Returns
    -------
    str
    """
    from whylens.plot import image_mask, image_overlay

    exp._single("as_html")
    is_lime = exp.features.segments is not None
    if labels is None and not is_lime:
        shown = [int(x) for x in exp.labels]
    else:
        shown = shown_labels(exp, labels)
    shown = shown[:MAX_IMAGE_LABELS]
    side, panels = [], []
    if is_lime and predict_proba and exp.output is not None:
        side.append(proba_section(exp))
    for label in shown:
        row_index = np.flatnonzero(exp.labels == label)
        if row_index.size == 0:
            raise InputError(describe("labels", f"explained labels {exp.labels.tolist()}",
                                      label))
        figures = []
        if exp.features.kind == "sequence":
            figures.append(_img(_sequence_figure(exp, int(row_index[0])), f"map {label}"))
        else:
            if is_lime:
                figures.append(_img(image_mask(exp, label), f"LIME mask for {label}"))
            figures.append(_img(image_overlay(exp, label), f"{exp.method} for {label}"))
        bars = ""
        if is_lime:
            bars = weights_section(exp, label, ranked_features(exp, label)[:_BARS])
        panels.append(
            f'<div class="wl-col">{bars}<div class="wl-cols">'
            + "".join(f'<div class="wl-col">{f}</div>' for f in figures)
            + "</div></div>"
        )
    return explanation_layout(exp, side, panels, standalone)

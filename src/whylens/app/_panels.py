"""What the text and tabular views share: their modes' schema, class lists, targets, PNGs.

The vision view draws its panels as pictures in the server; the text and
tabular views send numbers (token weights, a waterfall's steps) that the page
draws itself, and draw a matplotlib figure only when a panel is exported.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens.app._params import Param
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["PanelMode", "check_mode", "check_target", "figure_png", "top_classes"]


@dataclass(frozen=True)
class PanelMode:
    """One explanation method of a text or tabular view.

    Attributes
    ----------
    name, title : str
    long : bool
        Whether the page should expect progress events (and offer Cancel).
    params : tuple of Param
    """

    name: str
    title: str
    long: bool
    params: tuple[Param, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The mode as the page sees it (the vision modes' shape; no layer)."""
        return {"name": self.name, "title": self.title, "uses_layer": False,
                "uses_target": True, "long": self.long,
                "params": [p.schema() for p in self.params]}

    def compute_params(self, params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """The parameters that change the computation (the rest only change the drawing)."""
        views = {p.name for p in self.params if p.view}
        return tuple((k, v) for k, v in params.items() if k not in views)


def check_mode(mode: Any, modes: Mapping[str, PanelMode]) -> PanelMode | None:
    """The mode named ``mode`` (None for ``"predict"``), else raise :class:`InputError`."""
    if mode == "predict":
        return None
    found = modes.get(mode) if isinstance(mode, str) else None
    if found is None:
        raise InputError(describe("mode", f"one of {['predict', *modes]}", mode))
    return found


def check_target(target: Any, n_classes: int) -> int | None:
    """``target`` (None: the predicted class) checked as a class index.

    Raises
    ------
    InputTypeError
        Not an int.
    InputError
        Outside ``[0, n_classes)``.
    """
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, int):
        raise InputTypeError(describe("target", "a class index (int)", target))
    if not 0 <= target < n_classes:
        raise InputError(describe("target", f"a class index in [0, {n_classes})", target))
    return int(target)


def top_classes(p: np.ndarray, labels: Sequence[str], k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` most probable classes of one probability row: ``[{"index", "label", "p"}]``."""
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    order = np.argsort(-p, kind="stable")[:k]
    return [{"index": int(i), "label": str(labels[i]), "p": float(p[i])} for i in order]


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib Figure as PNG bytes (Agg, never pyplot)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()

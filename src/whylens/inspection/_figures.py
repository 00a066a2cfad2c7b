"""What the inspection displays share: the result check, the panel grid, category labels.

Nothing here calls ``plt.show()`` or touches pyplot's state: without ``ax`` a
new ``matplotlib.figure.Figure`` is made.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["ResultDisplay", "category_label", "is_axes", "panels"]

R = TypeVar("R")


class ResultDisplay(Generic[R]):
    """Base of the displays: holds one result of the type the display draws
    (``ResultDisplay[ImportanceResult]``, ...).

    Raises
    ------
    InputTypeError
        ``result`` is not a ``RESULT``.
    """

    #: The result type the display draws.
    RESULT: ClassVar[type]
    #: How to get one, said when something else came (None: nothing said).
    RESULT_FIX: ClassVar[str | None] = None

    def __init__(self, result: R) -> None:
        if not isinstance(result, self.RESULT):
            name = self.RESULT.__name__
            article = "an" if name[0] in "AEIOU" else "a"
            raise InputTypeError(describe("result", f"{article} {name}", result,
                                          self.RESULT_FIX))
        self.result: R = result

    @classmethod
    def from_result(cls, result: R, **plot_kw: Any) -> Self:
        """Plot a result already computed (or read back with ``from_json``); ``plot_kw`` are
        :meth:`plot`'s arguments.

        Returns
        -------
        The display, drawn.
        """
        return cls(result).plot(**plot_kw)

    def plot(self, **plot_kw: Any) -> Self:  # pragma: no cover - every display defines it
        """Draw the result (each display documents its arguments)."""
        raise NotImplementedError


def is_axes(obj: Any) -> bool:
    """Whether ``obj`` is a matplotlib Axes (duck-typed: matplotlib is imported lazily)."""
    return hasattr(obj, "plot") and hasattr(obj, "get_subplotspec")


def panels(ax: Any, n: int, n_cols: int, size: tuple[float, float], *,
           exact: bool = False) -> tuple[Any, np.ndarray]:
    """The figure and an (n_rows, n_cols) array of Axes for ``n`` panels.

    ``ax`` None: a new Figure, ``size`` inches a panel. One Axes: its area is
    split into the panels (scikit-learn's rule). A sequence of Axes: used in
    order, at least ``n`` of them (exactly ``n`` with ``exact``); then the
    array has shape (1, len(ax)).

    Raises
    ------
    InputError
        ``n_cols`` < 1, or too few (or with ``exact``, not ``n``) Axes.
    InputTypeError
        ``ax`` is neither None, an Axes nor a sequence; with ``exact``, a
        sequence holding something else than Axes.
    """
    n_cols = min(check_positive_int("n_cols", n_cols), n)
    n_rows = -(-n // n_cols)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(size[0] * n_cols, size[1] * n_rows), layout="constrained")
        axes = fig.subplots(n_rows, n_cols, squeeze=False)
    elif is_axes(ax):
        fig = getattr(ax.figure, "figure", ax.figure)
        if n == 1:
            axes = np.array([[ax]], dtype=object)
        else:
            spec = ax.get_subplotspec().subgridspec(n_rows, n_cols)
            ax.set_axis_off()
            axes = np.empty((n_rows, n_cols), dtype=object)
            for i in range(n_rows):
                for j in range(n_cols):
                    axes[i, j] = fig.add_subplot(spec[i, j])
    else:
        expected = "a matplotlib Axes, a sequence of Axes or None"
        try:
            flat = list(np.asarray(ax, dtype=object).ravel())
        except TypeError as exc:
            raise InputTypeError(describe("ax", expected, ax)) from exc
        all_axes = all(is_axes(a) for a in flat)
        if exact and not all_axes:
            raise InputTypeError(describe("ax", expected, ax))
        if (len(flat) != n if exact else len(flat) < n) or not all_axes:
            raise InputError(describe("ax", f"{n} matplotlib Axes (one per panel)",
                                      got_text=f"{len(flat)} objects"))
        fig = getattr(flat[0].figure, "figure", flat[0].figure)
        axes = np.empty((1, len(flat)), dtype=object)
        axes[0, :] = flat
        return fig, axes
    for extra in axes.ravel()[n:]:
        extra.set_axis_off()
    return fig, axes


def category_label(value: Any) -> str:
    """A category's tick label: an integer without ``.0``, else three significant digits."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.3g}"

"""What every plot of whylens shares: the argument names, the figure, the checks.

One name per concept across :mod:`whylens.plot` (shap's names):

- ``max_display``: how many features (tokens, superpixels, channels) a plot
  shows. The names some plots took before (``max_features`` in :func:`bar`,
  ``num_features`` in :func:`image_mask` as lime's ``get_image_and_mask``,
  ``max_channels`` in :func:`feature_map_grid`) stay accepted there as
  keyword aliases (:func:`max_display_alias`).
- the names of the model outputs come from the Explanation's
  ``output_names`` (:meth:`whylens.Explanation.output_name`); no plot takes a
  ``class_names`` argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["as_explanation", "check_explanation", "max_display_alias", "new_axes"]

#: What a plot reads from an Explanation; an object without them is refused.
_EXPLANATION_ATTRIBUTES = ("values", "labels", "features", "output_names", "method")


def check_explanation(exp: Any, argument: str = "exp") -> None:
    """Raise unless ``exp`` looks like a :class:`whylens.Explanation`.

    The check is structural (the attributes a plot reads), so the plots need
    not import the result type.

    Raises
    ------
    InputTypeError
        Naming what came instead.
    """
    if not all(hasattr(exp, name) for name in _EXPLANATION_ATTRIBUTES):
        raise InputTypeError(describe(argument, "a whylens Explanation", exp))


def as_explanation(exp: Any, argument: str = "exp") -> Any:
    """``exp`` as a whylens Explanation: a ``shap.Explanation`` is converted
    (:meth:`whylens.Explanation.from_shap`), a whylens one passes as it is.

    Raises
    ------
    InputTypeError
        Neither, naming ``argument`` and what came.
    """
    from whylens._shap_interop import is_shap_explanation

    if is_shap_explanation(exp):
        from whylens._types import result_type

        return result_type("Explanation").from_shap(exp)
    if not all(hasattr(exp, name) for name in _EXPLANATION_ATTRIBUTES):
        raise InputTypeError(describe(argument, "a whylens Explanation or a shap.Explanation",
                                      exp))
    return exp


def max_display_alias(max_display: int | None, alias: int | None, alias_name: str,
                      default: int | None) -> int | None:
    """Resolve ``max_display`` and its older spelling ``alias_name`` into one count.

    Parameters
    ----------
    max_display : int or None
        The count under its name in whylens' plots (shap's).
    alias : int or None
        The count under ``alias_name``, accepted for compatibility.
    alias_name : str
        The alias's argument name, for error messages.
    default : int or None
        Used when neither is given (None: no limit).

    Returns
    -------
    int or None
        A positive int, or None when neither is given and ``default`` is None.

    Raises
    ------
    InputError
        Both names given with different values, or a count < 1.
    InputTypeError
        A count that is not an int.
    """
    if alias is not None and max_display is not None and alias != max_display:
        raise InputError(
            describe(alias_name, f"either max_display or its alias {alias_name}",
                     got_text=f"max_display={max_display!r} and {alias_name}={alias!r}",
                     fix="Pass max_display only.")
        )
    if alias is not None:
        return check_positive_int(alias_name, alias)
    if max_display is not None:
        return check_positive_int("max_display", max_display)
    return default


def new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and Axes to draw on: ``ax``'s (root) figure, or a new bare Figure.

    Never touches pyplot's state.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    InputTypeError
        If ``ax`` is not a matplotlib Axes.
    """
    if ax is not None:
        if not (hasattr(ax, "barh") and hasattr(ax, "imshow")):
            raise InputTypeError(describe("ax", "a matplotlib Axes or None", ax))
        return getattr(ax.figure, "figure", ax.figure), ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()

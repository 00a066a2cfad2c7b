"""The result types, registered by :mod:`whylens.explanation` when it loads.

Plots build Explanations (from a ``shap.Explanation`` or from shap's arrays)
but must not import :mod:`whylens.explanation`: the result type imports the
plots for its views (``show_in_notebook``, ``as_pyplot_figure``), and the two
would form an import cycle. They ask this registry instead. Importing any
``whylens`` module runs ``whylens/__init__.py``, which imports the result
type, so the classes are always registered before a plot runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["register", "result_type"]

_CLASSES: dict[str, Any] = {}


def register(**classes: Any) -> None:
    """Record the result classes by name (``Explanation=..., Features=...``)."""
    _CLASSES.update(classes)


def result_type(name: str) -> Any:
    """The registered class ``name`` (``"Explanation"`` or ``"Features"``).

    Raises
    ------
    LookupError
        Nothing registered under that name (``whylens.explanation`` not loaded).
    """
    try:
        return _CLASSES[name]
    except KeyError:
        raise LookupError(f"whylens result type {name!r} is not registered; "
                          "import whylens first") from None

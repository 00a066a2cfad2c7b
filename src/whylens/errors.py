"""One exception hierarchy for whylens.

Every error a user can cause derives from :class:`WhylensError`. Where a user
would naturally catch a built-in exception, the whylens class derives from it
too (``InputError`` is a ``ValueError``, ``InputTypeError`` a ``TypeError``,
``MissingDependencyError`` an ``ImportError``), so existing ``except`` clauses
keep working.

Messages follow one pattern: the argument, what was expected, what came, and
how to fix it. Build them with :func:`describe` so they read alike everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BatchExplanationError",
    "Cancelled",
    "InputError",
    "InputTypeError",
    "MissingDependencyError",
    "ModelError",
    "ModelOutputError",
    "NotSupportedError",
    "SerializationError",
    "WhylensError",
    "describe",
    "short_repr",
]


class WhylensError(Exception):
    """Base class of every exception raised by whylens on purpose."""


class InputError(WhylensError, ValueError):
    """An argument has the right type but a wrong value or shape."""


class InputTypeError(WhylensError, TypeError):
    """An argument has a type whylens cannot use."""


class ModelError(WhylensError, RuntimeError):
    """The user's model raised while whylens called it.

    The model's own exception is chained as ``__cause__``; its traceback is
    shown above this one.
    """


class ModelOutputError(WhylensError, ValueError):
    """The user's model returned something whylens cannot use (wrong shape,
    NaN, strings, wrong number of rows)."""


class NotSupportedError(WhylensError, NotImplementedError):
    """A valid request that this version of whylens does not implement."""


class MissingDependencyError(WhylensError, ImportError):
    """An optional dependency (an extra) is needed and not installed."""


class BatchExplanationError(WhylensError, ValueError):
    """A single-instance view (``as_list``, ``show_in_notebook``, ...) was
    asked of an Explanation that holds several instances."""


class Cancelled(WhylensError):
    """The work was stopped by its ``callback`` (which raised this, or returned
    ``False``) between two chunks of model evaluations.

    Raised out of the explainer; the partial work is dropped, hooks are
    removed and the model is left as it was.
    """


class SerializationError(WhylensError, ValueError):
    """A JSON document is not a whylens Explanation or is corrupted."""


def short_repr(value: Any, limit: int = 80) -> str:
    """Return a short, readable description of ``value`` for error messages.

    Arrays are described by type, shape and dtype rather than printed.

    Parameters
    ----------
    value : object
        Anything a user passed.
    limit : int, default=80
        Longest text returned for plain objects.

    Returns
    -------
    str
    """
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def describe(
    argument: str, expected: str, got: Any = None, fix: str | None = None, *,
    got_text: str | None = None,
) -> str:
    """Build an error message in the project's pattern.

    Parameters
    ----------
    argument : str
        Name of the offending argument, as the user typed it.
    expected : str
        What whylens needed.
    got : object
        What came; described with :func:`short_repr`.
    fix : str, optional
        How to fix it.
    got_text : str, optional
        A ready description of what came, used instead of ``got``.

    Returns
    -------
    str
        ``"<argument>: expected <expected>, got <got>. <fix>"``
    """
    got_text = short_repr(got) if got_text is None else got_text
    message = f"{argument}: expected {expected}, got {got_text}."
    if fix:
        message += f" {fix}"
    return message

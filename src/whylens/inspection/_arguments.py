"""Argument checks the global views share: feature sets, categorical columns, row counts,
targets, options and numeric arrays, each refused with a message naming the argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._convention import resolve_labels_argument
from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe
from whylens.inspection._tables import column_index

__all__ = ["categorical_mask", "choice", "feature_sets", "float_array", "output_indices",
           "row_count"]


def _is_column_key(item: Any) -> bool:
    return isinstance(item, (str, np.str_, int, np.integer)) and not isinstance(item, bool)


def feature_sets(features: Any, names: Sequence[str]) -> list[tuple[int, ...]]:
    """``features`` as a list of 1- or 2-column tuples (indices into ``names``).

    A column (index or name) or a tuple is one set (a tuple of two is a pair);
    any other iterable holds several sets, each a column or a pair, so
    ``[0, 1]`` is two 1-way sets and ``[(0, 1)]`` one 2-way set.

    Raises
    ------
    InputError
        No set, an unknown column, a set of more than two or of a repeated column.
    InputTypeError
        Neither columns nor pairs of them.
    """
    def one(item: Any) -> tuple[int, ...]:
        if _is_column_key(item):
            return (column_index(item, names, "features"),)
        if isinstance(item, (tuple, list, np.ndarray)):
            cols = tuple(column_index(c, names, "features") for c in item)
            if len(cols) not in (1, 2) or len(set(cols)) != len(cols):
                raise InputError(describe(
                    "features", "one column or a pair of two different columns per entry",
                    item, "Pass e.g. features=[0, 'age', (0, 'age')]: each entry is one "
                    "column, or a pair (a tuple or list of two) for a 2-way effect."))
            return cols
        raise InputTypeError(describe("features", "column indices or names, or pairs of them",
                                      item))

    if _is_column_key(features) or isinstance(features, tuple):
        return [one(features)]
    try:
        items = list(features)
    except TypeError as exc:
        raise InputTypeError(describe("features", "a column, or a list of columns and pairs",
                                      features)) from exc
    if not items:
        raise InputError(describe("features", "at least one column", features))
    return [one(item) for item in items]


def categorical_mask(categorical_features: Any, names: Sequence[str],
                     always: Sequence[bool] | None = None) -> np.ndarray:
    """Which columns are categorical: ``categorical_features`` (columns or a boolean mask)
    or'ed with ``always`` (columns categorical whatever was asked).

    Returns
    -------
    ndarray of bool, shape (n_features,)

    Raises
    ------
    InputError
        An empty list (None says "no categorical column"), a mask of another
        length, an unknown column.
    InputTypeError
        A column that is neither an index nor a name.
    """
    d = len(names)
    mask = np.zeros(d, dtype=bool) if always is None else np.array(always, dtype=bool)
    if categorical_features is None:
        return mask
    items = list(categorical_features) if isinstance(categorical_features, (list, tuple)) \
        else list(np.asarray(categorical_features).ravel())
    if not items:
        raise InputError(describe("categorical_features", "None or a non-empty list",
                                  categorical_features, "Pass None when no feature is "
                                  "categorical."))
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        if len(items) != d:
            raise InputError(describe("categorical_features", f"a boolean mask of {d} values",
                                      got_text=f"{len(items)} values"))
        return mask | np.asarray(items, dtype=bool)
    for item in items:
        mask[column_index(item, names, "categorical_features")] = True
    return mask


def row_count(value: Any, n: int, argument: str, *, at_most_n: bool = False) -> int:
    """Rows to use of ``n``: all for None, a fraction in (0, 1], or a count.

    A count above ``n`` is refused with ``at_most_n``, else it means all rows.

    Raises
    ------
    InputError
        A fraction out of (0, 1], a count < 1 (or > ``n`` with ``at_most_n``).
    """
    if value is None:
        return n
    if isinstance(value, (float, np.floating)):
        if not 0.0 < value <= 1.0:
            raise InputError(describe(argument, "a fraction in (0, 1] or a row count", value))
        return max(1, round(float(value) * n))
    count = check_positive_int(argument, value)
    if count > n and at_most_n:
        raise InputError(describe(argument, f"at most the {n} rows of X", value,
                                  "Pass None to use every row."))
    return min(count, n)


def output_indices(target: Any, n_outputs: int, output_names: Sequence[str] | None
                   ) -> list[int]:
    """The model outputs ``target`` names: every one for None or ``"all"``, else indices
    or output names (:func:`whylens._convention.resolve_labels_argument`)."""
    if target is None or (isinstance(target, str) and target == "all"):
        return list(range(n_outputs))
    return [int(t) for t in resolve_labels_argument(target, n_outputs,
                                                    output_names=output_names,
                                                    argument="target")]


def choice(value: Any, allowed: Sequence[str], argument: str) -> str:
    """``value`` if it is one of ``allowed``; InputError naming ``argument`` otherwise."""
    if not isinstance(value, str) or value not in allowed:
        raise InputError(describe(argument, f"one of {tuple(allowed)}", value))
    return value


def float_array(value: Any, argument: str, expected: str, fix: str | None = None
                ) -> np.ndarray:
    """``value`` as a float64 array; InputTypeError naming ``argument`` when not numeric."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(argument, expected, value, fix)) from exc

"""Tables for the global views: X as an array or a DataFrame, columns by index or name."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._validation import check_names
from whylens.errors import InputError, InputTypeError, describe
from whylens.models._frames import is_dataframe

__all__ = ["as_table", "column_index", "cycled_rows", "n_rows_of", "take_rows"]


def as_table(X: Any) -> tuple[Any, list[str]]:
    """``X`` as a 2-D array (or the DataFrame itself) and its column names."""
    if is_dataframe(X):
        return X, [str(c) for c in X.columns]
    if hasattr(X, "detach") and hasattr(X, "cpu"):
        X = X.detach().cpu().numpy()
    try:
        array = np.asarray(X)
    except Exception as exc:
        raise InputTypeError(describe("X", "a 2-D array or a DataFrame", X)) from exc
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(describe("X", "a non-empty 2-D array (n_samples, n_features)",
                                  got_text=f"shape {array.shape}",
                                  fix="Pass one row per sample, e.g. X.reshape(-1, 1) for one "
                                      "feature."))
    return array, check_names("feature_names", None, array.shape[1], "x")


def column_index(item: Any, names: Sequence[str], argument: str) -> int:
    """The column of ``item`` (an index, negative from the end, or a column name) among
    ``names``, as an index in ``[0, len(names))``.

    Raises
    ------
    InputError
        A name not among the columns or an index out of range.
    InputTypeError
        Neither an int nor a str.
    """
    d = len(names)
    if isinstance(item, (str, np.str_)):
        if str(item) not in names:
            raise InputError(describe(argument, f"a column of X (one of {list(names)[:10]}"
                                      + ("..." if d > 10 else "") + ")", item,
                                      "Check the spelling, or pass a column index."))
        return list(names).index(str(item))
    if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
        raise InputTypeError(describe(argument, "a column index (int) or name (str)", item))
    if not -d <= int(item) < d:
        raise InputError(describe(argument, f"a column index in [-{d}, {d})", item,
                                  f"X has {d} columns."))
    return int(item) % d


def n_rows_of(value: Any) -> int:
    shape = getattr(value, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(value)


def take_rows(data: Any, rows: np.ndarray) -> Any:
    """Rows of an array, a DataFrame or a Series (positions)."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    return np.asarray(data)[rows]


def cycled_rows(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``i % len(values)`` for i in ``start..stop`` of an array, as a fresh array.

    The rows come in runs of consecutive rows of ``values``, copied whole (faster
    than a gather by index).
    """
    period = values.shape[0]
    pieces, at = [], start
    while at < stop:
        first = at % period
        take = min(period - first, stop - at)
        pieces.append(values[first:first + take])
        at += take
    return np.concatenate(pieces)

"""Validation of tables and rows at the public boundary of the table explainers."""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

__all__ = ["check_rows", "check_table"]


def _as_float(data: Any, argument: str, expected: str) -> np.ndarray:
    """``data`` (array-like or pandas) as a float64 array; InputTypeError if not numeric."""
    if hasattr(data, "to_numpy"):  # a pandas object
        data = data.to_numpy()
    try:
        return np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(argument, expected, data, "Encode categorical columns "
                                      "as numbers first, as when the model was fitted.")
                             ) from exc


def check_table(data: Any, argument: str = "background") -> np.ndarray:
    """Return ``data`` as a finite float64 matrix (n_rows, n_features), C-contiguous.

    Raises
    ------
    InputTypeError
        Not numeric.
    InputError
        Not 2-D, empty, or with NaN / infinity.
    """
    A = _as_float(data, argument, "a numeric 2-D array (n_rows, n_features)")
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise InputError(
            describe(argument, "a 2-D array with at least one row and one column",
                     got_text=f"shape {A.shape}",
                     fix="Pass e.g. X_train[:100] or whylens.shap.summarize_background(X, 10).")
        )
    bad = ~np.isfinite(A)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        raise InputError(
            describe(argument, "finite values", got_text=f"NaN or infinity in column(s) "
                     f"{cols[:10].tolist()}", fix="Impute missing values first.")
        )
    return np.ascontiguousarray(A)


def check_rows(X: Any, d: int, argument: str = "X", *, allow_nan: bool = False,
               what: str = "the background's") -> tuple[np.ndarray, bool]:
    """Rows to explain as C-contiguous float64 (n, d), and whether a single 1-D row came.

    Parameters
    ----------
    X : array-like or DataFrame
    d : int
        Number of columns expected.
    argument : str, default="X"
        Name used in messages.
    allow_nan : bool, default=False
        Accept NaN (a tree routes missing values); infinity is refused either way.
    what : str
        Whose columns ``X`` must have, for the message.

    Raises
    ------
    InputTypeError
        Non-numeric values.
    InputError
        Another number of columns, no row, NaN (unless allowed) or infinity.
    """
    A = _as_float(X, argument, f"a numeric array of shape (n, {d})")
    single = A.ndim == 1
    if single:
        A = A[None, :]
    if A.ndim != 2 or A.shape[1] != d or A.shape[0] == 0:
        raise InputError(
            describe(argument, f"rows of {d} features, shape (n, {d})",
                     got_text=f"shape {A.shape}",
                     fix=f"Pass rows with {what} columns; X[i:i+1] for one row.")
        )
    bad = np.isinf(A) if allow_nan else ~np.isfinite(A)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputError(
            describe(argument, "finite values or NaN" if allow_nan else "finite values",
                     got_text=f"{'infinity' if allow_nan else 'NaN or infinity'} in row(s) "
                     f"{rows[:10].tolist()}", fix="Impute or replace them first.")
        )
    return np.ascontiguousarray(A), single

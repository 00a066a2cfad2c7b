"""Tables stay tables: a pandas DataFrame's columns and dtypes, kept for the model.

When a user explains a model with a DataFrame, every chunk of perturbed rows
reaches the model as a DataFrame with the same columns and dtypes (no "X does
not have valid feature names" warning on every call, and models that look
columns up by name work), and feature names default to the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens.errors import InputTypeError, describe

__all__ = ["TableSchema", "is_dataframe", "row_values", "table_values"]


def is_dataframe(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (without importing pandas)."""
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns") \
        and hasattr(data, "dtypes")


def row_values(data: Any, argument: str) -> Any:
    """The numbers of a pandas Series or DataFrame row; anything else unchanged.

    Parameters
    ----------
    data : pandas Series, pandas DataFrame or array-like
    argument : str
        Name used in messages.

    Returns
    -------
    ndarray of float64 (the Series' or DataFrame's values) or ``data`` unchanged

    Raises
    ------
    InputTypeError
        Naming the entries (Series) or columns (DataFrame) that are not
        numbers, instead of showing the table itself.
    """
    if not type(data).__module__.startswith("pandas") or not hasattr(data, "to_numpy"):
        return data
    try:
        return data.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if is_dataframe(data):
            bad = [str(c) for c, t in zip(data.columns, data.dtypes, strict=True)
                   if not isinstance(t, np.dtype) or t.kind not in "biuf"]
            what = "column(s)"
        else:
            bad = []
            for label, value in data.items():
                try:
                    float(value)
                except (TypeError, ValueError):
                    bad.append(str(label))
            what = "entry(ies)"
        raise InputTypeError(describe(
            argument, "numeric values", got_text=f"non-numeric {what} {bad[:5]}",
            fix="Encode categorical values as numbers, as in the training data.")) from exc


@dataclass(frozen=True)
class TableSchema:
    """The columns and dtypes of a DataFrame, to rebuild one from float rows.

    Attributes
    ----------
    columns : list
        Column labels, in order.
    dtypes : list of numpy dtypes
        One per column.
    """

    columns: list[Any]
    dtypes: list[np.dtype]

    @property
    def names(self) -> list[str]:
        """The column labels as feature names."""
        return [str(c) for c in self.columns]

    def to_frame(self, rows: Any) -> Any:
        """A DataFrame of ``rows`` with this schema.

        Parameters
        ----------
        rows : ndarray of shape (n, n_columns)
            Float rows, as the samplers and maskers build them.

        Returns
        -------
        pandas.DataFrame of shape (n, n_columns)
            Integer columns are rounded to the nearest integer (a model
            trained on integers sees integers); bool columns are ``!= 0``;
            float columns keep their dtype.
        """
        import pandas as pd

        rows = np.asarray(rows)
        if rows.ndim == 1:
            rows = rows[None]
        data = {}
        for j, (column, dtype) in enumerate(zip(self.columns, self.dtypes, strict=True)):
            values = rows[:, j]
            if dtype.kind in "iu":
                values = np.rint(values).astype(dtype)
            elif dtype.kind == "b":
                values = values != 0
            else:
                values = values.astype(dtype, copy=False)
            data[column] = values
        return pd.DataFrame(data, columns=self.columns, copy=False)


def table_values(data: Any, argument: str) -> tuple[Any, TableSchema | None]:
    """The numbers of a table and, for a DataFrame, its schema.

    Parameters
    ----------
    data : DataFrame, array-like
    argument : str
        Name used in messages.

    Returns
    -------
    values : ndarray of float64 for a DataFrame, else ``data`` unchanged
    schema : TableSchema or None
        None when ``data`` is not a DataFrame.

    Raises
    ------
    InputTypeError
        A DataFrame with non-numeric columns.
    """
    if not is_dataframe(data):
        return data, None
    bad = [str(c) for c, t in zip(data.columns, data.dtypes, strict=True)
           if not isinstance(t, np.dtype) or t.kind not in "biuf"]
    if bad:
        raise InputTypeError(describe(
            argument, "a DataFrame of numeric columns", got_text=f"non-numeric column(s) "
            f"{bad[:5]}", fix="Encode categorical columns as integers first (e.g. "
            "OrdinalEncoder), or pass a numeric array."))
    schema = TableSchema(columns=list(data.columns), dtypes=[np.dtype(t) for t in data.dtypes])
    return data.to_numpy(dtype=np.float64), schema

"""The grids of partial dependence and the rows brute force evaluates on them.

A column's grid is scikit-learn's (its unique values, or evenly spaced points
between two percentiles); a 2-way set's grid is the product of its columns'.
:class:`GridRows` builds the rows of every feature set and grid point chunk by
chunk for one chunked model call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, describe
from whylens.inspection._tables import cycled_rows
from whylens.models._frames import TableSchema

__all__ = ["DECILES", "GridRows", "cartesian", "center", "check_percentiles", "deciles_of",
           "frame_schema", "grid_values"]


#: Probabilities of the deciles drawn as a rug under a PD plot.
DECILES = np.arange(0.1, 1.0, 0.1)


def check_percentiles(percentiles: Any) -> tuple[float, float]:
    """``(low, high)`` of the grid's percentile range.

    Raises
    ------
    InputError
        Not two numbers with ``0 <= low < high <= 1``.
    """
    try:
        low, high = (float(p) for p in percentiles)
    except (TypeError, ValueError) as exc:
        raise InputError(describe("percentiles", "two numbers (low, high) in [0, 1]",
                                  percentiles)) from exc
    if not 0.0 <= low < high <= 1.0:
        raise InputError(describe("percentiles", "0 <= low < high <= 1", percentiles,
                                  "Pass e.g. percentiles=(0.05, 0.95)."))
    return low, high


def grid_values(column: np.ndarray, categorical: bool, grid_resolution: int,
                percentiles: tuple[float, float], name: str) -> np.ndarray:
    """scikit-learn's grid: the unique values when categorical or fewer than the
    resolution, else evenly spaced between the percentiles (``mquantiles``)."""
    from scipy.stats.mstats import mquantiles

    uniques = np.unique(column)
    if categorical or uniques.size < grid_resolution:
        return uniques
    low, high = mquantiles(column, prob=percentiles, axis=0)
    if np.allclose(low, high):
        raise InputError(describe(
            "percentiles", f"percentiles of column {name!r} that differ", percentiles,
            got_text=f"{percentiles}, which give the same value {low!r}",
            fix="Widen the percentiles, or mark the column categorical."))
    return np.linspace(low, high, num=grid_resolution, endpoint=True)


def cartesian(values: list[np.ndarray]) -> np.ndarray:
    """Every combination of the grids' values, shape (prod of lengths, len(values)), the
    last grid varying fastest."""
    mesh = np.meshgrid(*values, indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


class GridRows:
    """Rows of every feature set and grid point, point-major: row ``off + p * m + i`` is row
    i of ``X`` with the set's columns at grid point p."""

    def __init__(self, values: np.ndarray, schema: TableSchema | None,
                 grids: list[np.ndarray], cols: list[tuple[int, ...]]) -> None:
        self.values, self.schema, self.grids, self.cols = values, schema, grids, cols
        self.m = values.shape[0]
        sizes = [g.shape[0] * self.m for g in grids]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.total = int(self.offsets[-1])

    def __call__(self, start: int, stop: int) -> Any:
        """Rows ``start..stop`` of the job, as ``X``'s rows with the grid values set."""
        # row i of a set is (global - offset) % m, and every offset is a multiple of m
        chunk = cycled_rows(self.values, start, stop)
        for s, (grid, cols) in enumerate(zip(self.grids, self.cols, strict=True)):
            lo, hi = max(start, self.offsets[s]), min(stop, self.offsets[s + 1])
            if lo >= hi:
                continue
            points = (np.arange(lo, hi) - self.offsets[s]) // self.m
            chunk[lo - start:hi - start, list(cols)] = grid[points]
        return chunk if self.schema is None else self.schema.to_frame(chunk)


def frame_schema(schema: TableSchema, sets: list[tuple[int, ...]],
                 categorical: np.ndarray) -> TableSchema:
    """The DataFrame's schema with the non-categorical grid columns as float64 (a grid
    value between two integers reaches the model as it is, not rounded)."""
    dtypes = list(schema.dtypes)
    for cols in sets:
        for j in cols:
            if not categorical[j] and dtypes[j].kind in "biu":
                dtypes[j] = np.dtype(np.float64)
    return TableSchema(columns=schema.columns, dtypes=dtypes)


def deciles_of(values: np.ndarray, sets: list[tuple[int, ...]]) -> dict[int, np.ndarray]:
    """``{column: its deciles (9,)}`` for every column of the feature sets (the rug)."""
    from scipy.stats.mstats import mquantiles

    columns = sorted({j for cols in sets for j in cols})
    return {j: np.asarray(mquantiles(values[:, j], prob=DECILES), dtype=np.float64)
            for j in columns}


def center(curves: np.ndarray, lead: int) -> np.ndarray:
    """``curves`` minus their value at the first grid point (after ``lead`` axes)."""
    first = curves[(slice(None),) * lead + (0,) * (curves.ndim - lead)]
    return curves - first.reshape(first.shape + (1,) * (curves.ndim - lead))

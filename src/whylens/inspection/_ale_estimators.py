"""ALE's estimators: the evaluation plan, the local differences and their accumulation.

One :class:`Job` per requested effect says which rows to move where (a
continuous feature to its bin edges, a category to its neighbours, a pair to
its cell corners), and how to turn the model's outputs into a centred curve;
:class:`Plan` stacks every job's rows into one chunked model call
(:func:`whylens.inspection.accumulated_local_effects` runs it). The estimator
formulas are described in :mod:`whylens.inspection._ale`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens.errors import InputError, describe

__all__ = ["Job", "Plan", "bin_index", "categorical_job", "continuous_job",
           "order_categories", "pair_job"]


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: ``(z_{k-1}, z_k]``, the first bin closed on the left."""
    return np.clip(np.searchsorted(edges, x, side="left") - 1, 0, edges.size - 2)


# ---------------------------------------------------------------- categories
def order_categories(C: np.ndarray, column: int, categorical: np.ndarray
                     ) -> np.ndarray:
    """Categories of ``C[:, column]`` ordered by the similarity of the other features.

    The distance between two categories is the sum over the other columns of
    the Kolmogorov-Smirnov distance between the column's distributions within
    the two categories (numeric columns, ECDFs compared at 100 quantiles) or
    the total-variation distance of its category frequencies (categorical
    columns). Classical multidimensional scaling to one dimension gives the
    order (as R's ``iml`` and PyALE), oriented so that it runs from the
    smallest towards the largest category value.

    Parameters
    ----------
    C : ndarray of shape (n, d)
    column : int
    categorical : ndarray of bool, shape (d,)
        Which columns are categorical.

    Returns
    -------
    ndarray of shape (K,)
        The K categories (values of the column) in order.
    """
    cats, codes = np.unique(C[:, column], return_inverse=True)
    K = cats.size
    if K < 3:
        return cats
    counts = np.bincount(codes, minlength=K).astype(float)
    D = np.zeros((K, K))
    for j in range(C.shape[1]):
        if j == column:
            continue
        x = C[:, j]
        if categorical[j]:
            levels, lcodes = np.unique(x, return_inverse=True)
            table = np.zeros((K, levels.size))
            np.add.at(table, (codes, lcodes), 1.0)
            props = table / counts[:, None]
            D += 0.5 * np.abs(props[:, None, :] - props[None, :, :]).sum(axis=2)
        else:
            q = np.quantile(x, np.linspace(0.0, 1.0, 100, endpoint=False))
            ecdf = np.empty((K, q.size))
            for k in range(K):
                xs = np.sort(x[codes == k])
                ecdf[k] = np.searchsorted(xs, q, side="right") / xs.size
            D += np.abs(ecdf[:, None, :] - ecdf[None, :, :]).max(axis=2)
    J = np.eye(K) - 1.0 / K
    B = -0.5 * J @ (D**2) @ J
    vals, vecs = np.linalg.eigh(B)
    coord = vecs[:, np.argmax(vals)] * np.sqrt(max(vals.max(), 0.0))
    if np.ptp(coord) > 0 and np.corrcoef(coord, np.arange(K))[0, 1] < 0:
        coord = -coord
    return cats[np.argsort(coord, kind="stable")]


# ---------------------------------------------------------------- evaluation plan
class Plan:
    """The rows to evaluate: a data row with one or two of its columns replaced."""

    def __init__(self, C: np.ndarray) -> None:
        self.C = C
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.total = 0

    def add(self, rows: np.ndarray, col_a: int, val_a: np.ndarray, col_b: int = -1,
            val_b: np.ndarray | None = None) -> slice:
        m = rows.size
        self.parts.append((rows.astype(np.int64), np.full(m, col_a, np.int64), val_a,
                           np.full(m, col_b, np.int64),
                           np.zeros(m) if val_b is None else val_b))
        out = slice(self.total, self.total + m)
        self.total += m
        return out

    def freeze(self) -> None:
        self.rows, self.col_a, self.val_a, self.col_b, self.val_b = (
            np.concatenate(p) for p in zip(*self.parts, strict=True))
        self.parts = []

    def chunk(self, start: int, stop: int) -> np.ndarray:
        rows = self.C[self.rows[start:stop]]  # a new array: the model may keep it
        at = np.arange(rows.shape[0])
        rows[at, self.col_a[start:stop]] = self.val_a[start:stop]
        cb = self.col_b[start:stop]
        second = cb >= 0
        if second.any():
            rows[at[second], cb[second]] = self.val_b[start:stop][second]
        return rows


def _indicator(groups: np.ndarray, n_groups: int, keep: np.ndarray | None = None) -> Any:
    """Sparse (n_groups, n) matrix with a one at (groups[i], i) for every kept row."""
    from scipy.sparse import csr_matrix

    n = groups.size
    cols = np.arange(n) if keep is None else np.flatnonzero(keep)
    return csr_matrix((np.ones(cols.size), (groups[cols], cols)), shape=(n_groups, n))


# ---------------------------------------------------------------- estimators
def _fill(mean: np.ndarray, empty: np.ndarray, fallback: np.ndarray | None) -> np.ndarray:
    """Bins no row falls in take the full data's mean (0 when the full data has none)."""
    if not empty.any():
        return mean
    fill = 0.0 if fallback is None else np.broadcast_to(fallback[:, :, None], mean.shape)
    return np.where(empty, fill, mean)


def _curve_1d(A: Any, diff: np.ndarray, W: np.ndarray, fallback: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Centred 1-D ALE at the K+1 edges for each weight column: (b, T, K+1), and the
    bins' mean local effects (T, K, b)."""
    T = diff.shape[1]
    counts = A @ W  # (K, b)
    sums = np.stack([A @ (diff[:, t, None] * W) for t in range(T)])  # (T, K, b)
    empty = counts <= 0
    mean = _fill(sums / np.where(empty, 1.0, counts), empty, fallback)
    g = np.concatenate([np.zeros((T, 1, W.shape[1])), np.cumsum(mean, axis=1)], axis=1)
    centre = ((g[:, :-1] + g[:, 1:]) / 2 * counts).sum(axis=1) / counts.sum(axis=0)
    return np.moveaxis(g - centre[:, None, :], 2, 0), mean


def _curve_categorical(A_up: Any, A_down: Any, A_cat: Any, up: np.ndarray, down: np.ndarray,
                       W: np.ndarray, fallback: np.ndarray | None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Centred ALE at the K ordered categories for each weight column: (b, T, K), and
    the mean effect between neighbouring categories (T, K-1, b)."""
    T = up.shape[1]
    pair = A_up @ W + A_down @ W  # (K-1, b)
    sums = np.stack([A_up @ (up[:, t, None] * W) + A_down @ (down[:, t, None] * W)
                     for t in range(T)])  # (T, K-1, b)
    empty = pair <= 0
    mean = _fill(sums / np.where(empty, 1.0, pair), empty, fallback)
    g = np.concatenate([np.zeros((T, 1, W.shape[1])), np.cumsum(mean, axis=1)], axis=1)
    n_cat = A_cat @ W  # (K, b)
    centre = (g * n_cat).sum(axis=1) / n_cat.sum(axis=0)
    return np.moveaxis(g - centre[:, None, :], 2, 0), mean


def _fill_empty(mean: np.ndarray, counts: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Empty cells take the mean of the nearest non-empty cell (ALEPlot's rule)."""
    empty = counts.reshape(-1) <= 0
    if not empty.any():
        return mean
    from scipy.spatial import cKDTree

    flat = mean.reshape(-1, mean.shape[-1]).copy()
    full = np.flatnonzero(~empty)
    _, nearest = cKDTree(centres[full]).query(centres[empty], k=1)
    flat[empty] = flat[full[nearest]]
    return flat.reshape(mean.shape)


def _curve_2d(A: Any, d2: np.ndarray, w: np.ndarray, K1: int, K2: int, centres: np.ndarray
              ) -> np.ndarray:
    """Centred pure second-order ALE at the (K1+1, K2+1) edge grid, (T, K1+1, K2+1)."""
    T = d2.shape[1]
    counts = (A @ w).reshape(K1, K2)
    sums = (A @ (d2 * w[:, None])).reshape(K1, K2, T)
    mean = sums / np.where(counts > 0, counts, 1.0)[:, :, None]
    mean = _fill_empty(mean, counts, centres)
    h = np.zeros((K1 + 1, K2 + 1, T))
    h[1:, 1:] = np.cumsum(np.cumsum(mean, axis=0), axis=1)
    c = counts[:, :, None]
    # Remove the main effects ALE of each feature that h still contains (ALEPlot).
    d1 = h[1:] - h[:-1]
    n1 = counts.sum(axis=1)[:, None]
    avg1 = (c * (d1[:, :-1] + d1[:, 1:]) / 2).sum(axis=1) / np.where(n1 > 0, n1, 1.0)
    d2_ = h[:, 1:] - h[:, :-1]
    n2 = counts.sum(axis=0)[:, None]
    avg2 = (c * (d2_[:-1] + d2_[1:]) / 2).sum(axis=0) / np.where(n2 > 0, n2, 1.0)
    h = h - np.vstack([np.zeros((1, T)), np.cumsum(avg1, axis=0)])[:, None, :]
    h = h - np.vstack([np.zeros((1, T)), np.cumsum(avg2, axis=0)])[None, :, :]
    f0 = (c * (h[:-1, :-1] + h[:-1, 1:] + h[1:, :-1] + h[1:, 1:]) / 4).sum(axis=(0, 1))
    h = h - f0 / counts.sum()
    return np.moveaxis(h, 2, 0)


# ---------------------------------------------------------------- one effect each
@dataclass
class Job:
    """One requested effect: what to evaluate and how to turn outputs into a curve."""

    columns: tuple[int, ...]
    kind: str
    grid: list[np.ndarray]
    counts: np.ndarray
    slices: list[slice]
    #: ``estimate(W, state)``: the centred curves for each weight column of W (n, b),
    #: shape (b, *curve shape); ``state = setup(outputs of each slice)``.
    estimate: Callable[[np.ndarray, Any], np.ndarray]
    setup: Callable[[list[np.ndarray]], Any]


def continuous_job(C: np.ndarray, plan: Plan, j: int, edges: np.ndarray) -> Job:
    n = C.shape[0]
    b = bin_index(C[:, j], edges)
    K = edges.size - 1
    rows = np.arange(n)
    lo = plan.add(rows, j, edges[b])
    hi = plan.add(rows, j, edges[b + 1])
    A = _indicator(b, K)

    def setup(outs: list[np.ndarray]) -> Any:
        diff = outs[1] - outs[0]
        _, mean = _curve_1d(A, diff, np.ones((n, 1)), None)
        return diff, mean[:, :, 0]

    def estimate(w: np.ndarray, state: Any) -> np.ndarray:
        diff, mean = state
        return _curve_1d(A, diff, w, mean)[0]

    return Job((j,), "continuous", [edges], np.bincount(b, minlength=K), [lo, hi],
                estimate, setup)


def categorical_job(C: np.ndarray, plan: Plan, j: int, categorical: np.ndarray) -> Job:
    n = C.shape[0]
    cats = order_categories(C, j, categorical)
    K = cats.size
    if K < 2:
        raise InputError(describe("features", "a categorical feature with at least two "
                                  "categories in X", got_text=f"column {j}, which is constant"))
    # Position of each row's category in the similarity order.
    pos = np.argsort(cats)[np.searchsorted(np.sort(cats), C[:, j])]
    has_up = pos < K - 1
    has_down = pos > 0
    rows = np.arange(n)
    own = plan.add(rows, j, C[:, j].copy())
    up = plan.add(rows[has_up], j, cats[pos[has_up] + 1])
    down = plan.add(rows[has_down], j, cats[pos[has_down] - 1])
    A_up = _indicator(np.minimum(pos, K - 2), K - 1, has_up)
    A_down = _indicator(np.maximum(pos - 1, 0), K - 1, has_down)
    A_cat = _indicator(pos, K)

    def diffs(outs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        f_own, f_up, f_down = outs
        T = f_own.shape[1]
        d_up = np.zeros((n, T))
        d_up[has_up] = f_up - f_own[has_up]
        d_down = np.zeros((n, T))
        d_down[has_down] = f_own[has_down] - f_down
        return d_up, d_down

    def setup(outs: list[np.ndarray]) -> Any:
        d_up, d_down = diffs(outs)
        _, mean = _curve_categorical(A_up, A_down, A_cat, d_up, d_down, np.ones((n, 1)), None)
        return d_up, d_down, mean[:, :, 0]

    def estimate(w: np.ndarray, state: Any) -> np.ndarray:
        d_up, d_down, mean = state
        return _curve_categorical(A_up, A_down, A_cat, d_up, d_down, w, mean)[0]

    return Job((j,), "categorical", [cats], np.bincount(pos, minlength=K), [own, up, down],
                estimate, setup)


def pair_job(C: np.ndarray, plan: Plan, j: int, k: int, e1: np.ndarray, e2: np.ndarray
              ) -> Job:
    n = C.shape[0]
    b1, b2 = bin_index(C[:, j], e1), bin_index(C[:, k], e2)
    K1, K2 = e1.size - 1, e2.size - 1
    rows = np.arange(n)
    corners = [plan.add(rows, j, e1[b1 + a], k, e2[b2 + c]) for a in (0, 1) for c in (0, 1)]
    A = _indicator(b1 * K2 + b2, K1 * K2)
    mid1 = (e1[:-1] + e1[1:]) / 2 / (np.ptp(e1) or 1.0)
    mid2 = (e2[:-1] + e2[1:]) / 2 / (np.ptp(e2) or 1.0)
    centres = np.column_stack([np.repeat(mid1, K2), np.tile(mid2, K1)])

    def setup(outs: list[np.ndarray]) -> Any:
        f00, f01, f10, f11 = outs
        return (f11 - f10) - (f01 - f00)

    def estimate(w: np.ndarray, d2: Any) -> np.ndarray:
        return np.stack([_curve_2d(A, d2, w[:, r], K1, K2, centres)
                         for r in range(w.shape[1])])

    counts = np.bincount(b1 * K2 + b2, minlength=K1 * K2).reshape(K1, K2)
    return Job((j, k), "interaction", [e1, e2], counts, corners, estimate, setup)

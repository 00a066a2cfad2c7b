"""Compiled :func:`whylens.representations.tabular.fill_categorical` (optional: numba).

The kernel performs, sample by sample, the same floating-point operations as
the numpy function, so both give bit-identical samples for the same uniforms;
numba only removes the passes over whole (n_columns, n_samples) arrays.
Imported lazily; when numba is missing the numpy function runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fill_categorical"]


@njit(cache=True, nogil=True)
def fill_categorical(u, tables, first, columns, Zt, inverse):  # pragma: no cover
    """Fill the categorical (and binned) columns of samples 1..n-1 (row 0 is
    the instance's, written by the caller); the arguments are those of
    :func:`whylens.representations.tabular.fill_categorical`.

    Each column is done in three passes over the samples: the value index of
    every sample (branch-free counting, which the compiler vectorises, or a
    binary search for columns of more than 17 values), the 0/1 interpretable
    feature, then the value given to the model. Separate passes keep each loop
    free of dependencies on the others' loads.
    """
    cum, n_values, values, low, knot_scale, knot_base, binned, quantiles, top_knot = tables
    k, n = u.shape
    idx = np.empty(n, dtype=np.int64)
    one = np.uint64(1)
    for j in range(k):
        last = n_values[j] - 1
        col = columns[j]
        uj = u[j]
        cj = cum[j]
        # A fixed number of comparisons (the table is padded with 2.0, above
        # every u) lets the compiler unroll and vectorise the count.
        if last <= 3:
            _count_below(uj, cj, 3, idx)
        elif last <= 7:
            _count_below(uj, cj, 7, idx)
        elif last <= 16:
            _count_below(uj, cj, 16, idx)
        else:  # binary search: first c with cum[c] > u, capped at last
            for s in range(1, n):
                uu = uj[s]
                lo, hi = 0, last
                while lo < hi:
                    mid = (lo + hi) // 2
                    if uu >= cj[mid]:
                        lo = mid + 1
                    else:
                        hi = mid
                idx[s] = lo
        zc = Zt[col]
        fj = first[j]
        for s in range(1, n):
            zc[s] = np.float64(idx[s] == fj)
        # Unsigned indices: numba then skips its negative-index wraparound,
        # which halves the time of these gathers.
        if binned[j]:
            lj = low[j]
            sj = knot_scale[j]
            bj = knot_base[j]
            for s in range(1, n):
                i_s = np.uint64(idx[s])
                t = min((uj[s] - lj[i_s]) * sj[i_s], top_knot)
                i = np.uint64(t)
                frac = t - i
                b = np.uint64(bj[i_s]) + i
                q0 = quantiles[b]
                inverse[s, col] = q0 + frac * (quantiles[b + one] - q0)
        else:
            vj = values[j]
            for s in range(1, n):
                inverse[s, col] = vj[np.uint64(idx[s])]


@njit(cache=True, nogil=True, inline="always")
def _count_below(uj, cj, width, idx):  # pragma: no cover
    """``idx[s]`` = how many of ``cj[:width]`` are at or below ``uj[s]``, s >= 1."""
    for s in range(1, uj.shape[0]):
        uu = uj[s]
        c = 0
        for m in range(width):
            c += uu >= cj[m]
        idx[s] = c

"""Compiled inner loop of :meth:`TabularSampler.sample` (optional: numba).

The kernel performs, sample by sample, the same floating-point operations as
the numpy path in :mod:`whylens.representations.tabular`, so both give
bit-identical samples for the same uniforms; numba only removes the per-column
array passes. Imported lazily; when numba is missing the numpy path runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["draw_categorical"]


@njit(cache=True, nogil=True)
def draw_categorical(bits, cum, values, n_values, cum_low, knot_scale, knot_base, disc_pos,
                     quantiles, top_knot, first, columns, Zt, inverse, idx, u
                     ):  # pragma: no cover
    """Fill the categorical (and binned) columns of samples 1..n-1.

    Each column is done in three passes over the samples: the category index
    of every sample (branch-free counting, which the compiler vectorises), the
    0/1 interpretable feature (vectorised), then the value given to the model
    (a table lookup). Separate passes keep each loop free of dependencies on
    the others' loads: one fused loop ran at half the speed.

    Parameters
    ----------
    bits : uint64 (ceil(k * n / 2),)
        Raw draws: the 32-bit halves, low half first, give numpy's float32
        uniforms ``(half >> 8) * 2**-24`` (see ``tabular._uniforms_from_bits``), one per
        categorical column and sample, column after column.
    cum : float64 (k, max(width, 17))
        Per column: cumulative frequencies, padded with 2.0 (above every u).
    values, cum_low, knot_scale : float64 (k, width)
        Per column: category codes or
        bin ids, lower end of each category's share of [0, 1) and the factor
        that turns a position in that share into quantile-table knots.
    n_values : int64 (k,)
    knot_base : int64 (k, width)
        Index of each bin's first knot in its column's row of ``quantiles``.
    disc_pos : int64 (k,)
        Row of ``quantiles`` of a binned column, -1 for a plain categorical one.
    quantiles : float64 (n_binned, n_bins * (knots + 1))
    top_knot : float
        Largest knot position (just below the number of knot intervals).
    first : int64 (k,)
        The instance's category index per column (-1 if unseen).
    columns : int64 (k,)
        Column of ``Zt``/``inverse`` each categorical column fills.
    Zt : float64 (d, n)
        Interpretable samples, one row per feature; written in place.
    inverse : float64 (n, d)
        Samples in input units; written in place.
    idx : int64 (n,)
        Work array for the category indices.
    u : float64 (n,)
        Work array for one column's uniforms.
    """
    k = columns.shape[0]
    n = idx.shape[0]
    for j in range(k):
        last = n_values[j] - 1
        col = columns[j]
        pos = disc_pos[j]
        fj = first[j]
        cj = cum[j]
        _unpack_uniforms(bits, j * n, u)
        if last <= 16:
            # Count the cumulative frequencies at or below u: no branches
            # (the category is random, so an early-exit loop mispredicts). A
            # fixed number of comparisons (the table is padded with 2.0, above
            # every u) lets the compiler unroll and vectorise the loop.
            if last <= 3:
                _count_below(u, cj, 3, idx)
            elif last <= 7:
                _count_below(u, cj, 7, idx)
            else:
                _count_below(u, cj, 16, idx)
        else:  # binary search: first c with cum[c] > u, capped at last
            for s in range(1, n):
                uu = u[s]
                lo, hi = 0, last
                while lo < hi:
                    mid = (lo + hi) // 2
                    if uu >= cj[mid]:
                        lo = mid + 1
                    else:
                        hi = mid
                idx[s] = lo
        zc = Zt[col]
        for s in range(1, n):
            zc[s] = np.float64(idx[s] == fj)
        if pos >= 0:
            lj = cum_low[j]
            sj = knot_scale[j]
            bj = knot_base[j]
            q = quantiles[pos]
            for s in range(1, n):
                i_s = idx[s]
                t = min((u[s] - lj[i_s]) * sj[i_s], top_knot)
                i = np.int64(t)
                frac = t - i
                b = bj[i_s] + i
                q0 = q[b]
                inverse[s, col] = q0 + frac * (q[b + 1] - q0)
        else:
            vj = values[j]
            for s in range(1, n):
                inverse[s, col] = vj[idx[s]]


@njit(cache=True, nogil=True, inline="always")
def _count_below(uj, cj, width, idx):  # pragma: no cover
    """``idx[s]`` = how many of ``cj[:width]`` are at or below ``uj[s]``, s >= 1."""
    for s in range(1, uj.shape[0]):
        uu = uj[s]
        c = 0
        for m in range(width):
            c += uu >= cj[m]
        idx[s] = c


@njit(cache=True, nogil=True, inline="always")
def _unpack_uniforms(bits, start, u):  # pragma: no cover
    """``u[s]`` = uniform number ``start + s`` of the raw draws ``bits`` (32-bit
    halves, low half first; ``(half >> 8) * 2**-24``)."""
    n = u.shape[0]
    scale = 5.9604644775390625e-08  # 2**-24
    lo_mask = np.uint64(0xFFFFFFFF)
    s = 0
    if start & 1:  # the column starts on a high half
        u[0] = np.float64(bits[start >> 1] >> np.uint64(40)) * scale
        s = 1
    w = (start + s) >> 1
    while s + 1 < n:
        word = bits[w]
        u[s] = np.float64((word & lo_mask) >> np.uint64(8)) * scale
        u[s + 1] = np.float64(word >> np.uint64(40)) * scale
        s += 2
        w += 1
    if s < n:  # the column ends on a low half
        u[s] = np.float64((bits[w] & lo_mask) >> np.uint64(8)) * scale

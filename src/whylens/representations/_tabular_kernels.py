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
def draw_categorical(u, cum, values, n_values, cum_low, knot_scale, knot_base, disc_pos,
                     quantiles, top_knot, first, columns, Z, inverse):  # pragma: no cover
    """Fill the categorical (and binned) columns of samples 1..n-1.

    Parameters
    ----------
    u : float32 (k, n)
        One uniform per categorical column and sample.
    cum, values, cum_low, knot_scale : float64 (k, width)
        Per column: cumulative frequencies (padded with 2.0), category codes or
        bin ids, lower end of each category's share of [0, 1) and the factor
        that turns a position in that share into quantile-table knots.
    knot_base : int64 (k, width)
        Index of each bin's first knot in its column's row of ``quantiles``.
    n_values : int64 (k,)
    disc_pos : int64 (k,)
        Row of ``quantiles`` of a binned column, -1 for a plain categorical one.
    quantiles : float64 (n_binned, n_bins * (knots + 1))
    top_knot : float
        Largest knot position (just below the number of knot intervals).
    first : int64 (k,)
        The instance's category index per column (-1 if unseen).
    columns : int64 (k,)
        Column of ``Z``/``inverse`` each categorical column fills.
    Z, inverse : float64 (n, d), written in place.
    """
    k, n = u.shape
    for j in range(k):
        last = n_values[j] - 1
        col = columns[j]
        pos = disc_pos[j]
        fj = first[j]
        for s in range(1, n):
            uu = u[j, s]
            idx = 0
            if last <= 16:
                # Count the cumulative frequencies at or below u without branches
                # (the bin is random, so an early-exit loop mispredicts).
                for c in range(last):
                    idx += uu >= cum[j, c]
            else:  # binary search: first c with cum[c] > u, capped at last
                lo, hi = 0, last
                while lo < hi:
                    mid = (lo + hi) // 2
                    if uu >= cum[j, mid]:
                        lo = mid + 1
                    else:
                        hi = mid
                idx = lo
            Z[s, col] = 1.0 if idx == fj else 0.0
            if pos >= 0:
                t = min((uu - cum_low[j, idx]) * knot_scale[j, idx], top_knot)
                i = np.int64(t)
                frac = t - i
                b = knot_base[j, idx] + i
                q0 = quantiles[pos, b]
                inverse[s, col] = q0 + frac * (quantiles[pos, b + 1] - q0)
            else:
                inverse[s, col] = values[j, idx]

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
def draw_categorical(u, cum, values, n_values, cum_low, share, disc_pos, quantiles, knots,
                     first, columns, Z, inverse):  # pragma: no cover - compiled
    """Fill the categorical (and binned) columns of samples 1..n-1.

    Parameters
    ----------
    u : float64 (k, n)
        One uniform per categorical column and sample.
    cum, values, cum_low, share : float64 (k, width)
        Per column: cumulative frequencies (padded), category codes or bin ids,
        lower end and width of each category's share of [0, 1).
    n_values : int64 (k,)
    disc_pos : int64 (k,)
        Row of ``quantiles`` of a binned column, -1 for a plain categorical one.
    quantiles : float64 (n_binned, n_bins * (knots + 1))
    knots : int
    first : int64 (k,)
        The instance's category index per column (-1 if unseen).
    columns : int64 (k,)
        Column of ``Z``/``inverse`` each categorical column fills.
    Z, inverse : float64 (n, d), written in place.
    """
    k, n = u.shape
    below_one = np.nextafter(1.0, 0.0)
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
            value = values[j, idx]
            if pos >= 0:
                v = min((uu - cum_low[j, idx]) / share[j, idx], below_one)
                t = v * knots
                i = min(np.int64(t), knots - 1)
                frac = t - i
                base = np.int64(value) * (knots + 1) + i
                q0 = quantiles[pos, base]
                value = q0 + frac * (quantiles[pos, base + 1] - q0)
            inverse[s, col] = value

"""Rank similarities of matching rows of two attribution arrays (stability, randomization).

Both take ``a`` and ``b`` of shape (..., F) and return one value per row, shape (...).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau, rankdata

__all__ = ["kendall", "rank_correlation"]


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman of matching rows (average ranks); identical rows 1, a constant row 0."""
    ra, rb = rankdata(a, axis=-1), rankdata(b, axis=-1)
    ra -= ra.mean(axis=-1, keepdims=True)
    rb -= rb.mean(axis=-1, keepdims=True)
    den = np.sqrt((ra * ra).sum(axis=-1) * (rb * rb).sum(axis=-1))
    out = np.divide((ra * rb).sum(axis=-1), den, out=np.zeros(den.shape), where=den > 0)
    return np.where((a == b).all(axis=-1), 1.0, out)


def kendall(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of matching rows; identical rows 1, an undefined tau 0."""
    flat_a, flat_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    out = np.empty(flat_a.shape[0])
    for r in range(flat_a.shape[0]):
        if np.array_equal(flat_a[r], flat_b[r]):
            out[r] = 1.0
            continue
        tau = kendalltau(flat_a[r], flat_b[r]).statistic
        out[r] = 0.0 if not np.isfinite(tau) else tau
    return out.reshape(a.shape[:-1])

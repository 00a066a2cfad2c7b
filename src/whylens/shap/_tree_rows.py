"""Row chunks of the TreeSHAP kernels in threads, and the ensemble's prediction (numba).

The kernels release the GIL (``nogil``), so :func:`map_rows` runs them on
chunks of rows in a thread pool. See :mod:`whylens.shap._tree_kernels` for the
flat ensemble layout.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

__all__ = ["in_threads", "map_rows", "n_threads", "predict", "spans"]


# ------------------------------------------------------------------------- threads


def n_threads(n_jobs):
    """Threads for ``n_jobs`` (None or -1: every core this process may use)."""
    if n_jobs is None or n_jobs == -1:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - macOS, Windows
            return max(1, os.cpu_count() or 1)
    return max(1, int(n_jobs))


def spans(n, threads, align):
    """Split range(n) into about 4 chunks per thread, boundaries multiples of ``align``."""
    if threads <= 1 or n <= align:
        return [(0, n)]
    size = -(-n // (4 * threads))
    size = max(align, -(-size // align) * align)
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def in_threads(fn, chunks, n_jobs):
    """Run ``fn(lo, hi)`` for every span; the kernels release the GIL (``nogil``)."""
    threads = n_threads(n_jobs)
    if threads <= 1 or len(chunks) <= 1:
        return [fn(a, z) for a, z in chunks]
    with ThreadPoolExecutor(max_workers=min(threads, len(chunks))) as pool:
        return list(pool.map(lambda span: fn(*span), chunks))


def map_rows(kernel, X, args, n_jobs=None, per_row=(), align=8):
    """``kernel(X[lo:hi], *per_row[lo:hi], *args)`` over row chunks in threads, stacked."""
    n = X.shape[0]
    parts = in_threads(lambda a, z: kernel(X[a:z], *[r[a:z] for r in per_row], *args),
                       spans(n, n_threads(n_jobs), align), n_jobs)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


# ----------------------------------------------------------------------- prediction


@njit(cache=True, inline="always", error_model="numpy")
def _leaf_of(x, root, left, right, feature, threshold, default_left):
    n = root
    while left[n] >= 0:
        xv = x[feature[n]]
        if xv != xv:
            go_left = default_left[n] != 0
        else:
            go_left = xv <= threshold[n]
        n = left[n] if go_left else right[n]
    return n


@njit(nogil=True, cache=True, error_model="numpy")
def predict(X, left, right, feature, threshold, default_left, value, roots, tree_out, n_out):
    """Sum of the trees' leaf values, (n, n_out)."""
    n = X.shape[0]
    V = value.shape[1]
    out = np.zeros((n, n_out))
    for i in range(n):
        for t in range(roots.shape[0]):
            leaf = _leaf_of(X[i], roots[t], left, right, feature, threshold, default_left)
            off = tree_out[t]
            for j in range(V):
                out[i, off + j] += value[leaf, j]
    return out

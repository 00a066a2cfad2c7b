"""Compiled inner loop of the text representation (optional: numba).

Copies the UTF-8 bytes of every perturbed document from a pool of the
document's pieces into one buffer, documents separated by one byte; the numpy
path in :mod:`whylens.representations.text` builds the same bytes with an index
array. Imported lazily; without numba the numpy path runs.
"""

from __future__ import annotations

from numba import njit

__all__ = ["gather_documents"]


@njit(cache=True, nogil=True)
def gather_documents(pool, gap_start, gap_len, word_start, word_len, mask_start, mask_len,
                     separator, keep, out):  # pragma: no cover - compiled
    """Write the documents of ``keep`` (bool (n, n_tokens)) into ``out`` (uint8).

    Document ``r`` is gap 0, word 0 (or the mask), gap 1, ..., gap n_tokens,
    then the ``separator`` byte. Returns the number of bytes written.
    """
    n, t = keep.shape
    k = 0
    for r in range(n):
        for i in range(t + 1):
            s = gap_start[i]
            for b in range(gap_len[i]):
                out[k + b] = pool[s + b]
            k += gap_len[i]
            if i < t:
                if keep[r, i]:
                    s = word_start[i]
                    length = word_len[i]
                else:
                    s = mask_start
                    length = mask_len
                for b in range(length):
                    out[k + b] = pool[s + b]
                k += length
        out[k] = separator
        k += 1
    return k

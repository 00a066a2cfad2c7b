"""Compiled inner loop of the image representation (optional: numba).

Builds a chunk of perturbed channels-first images in one pass: every value is
the image's where its pixel is shown and the fill's where it is hidden. The
numpy path in :mod:`whylens.representations.image` writes the fill and then
copies the shown pixels over it (two passes over the output); both give the
same values bit for bit. Imported lazily; without numba the numpy path runs.
"""

from __future__ import annotations

from numba import njit

__all__ = ["select_pixels"]


@njit(cache=True, nogil=True, boundscheck=False)
def select_pixels(mask, image, fill, out):  # pragma: no cover - compiled
    """``out[i, c, p] = image[c, p] if mask[i, p] else fill[c, p]``.

    ``mask`` is bool (n, P); ``image`` and ``fill`` are (C, P); ``out`` is
    (n, C, P), all C-contiguous and of one float dtype.
    """
    n, pixels = mask.shape
    channels = image.shape[0]
    for i in range(n):
        for c in range(channels):
            for p in range(pixels):
                out[i, c, p] = image[c, p] if mask[i, p] else fill[c, p]

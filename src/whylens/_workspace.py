"""Scratch arrays reused between calls, from one small pool shared by all threads.

A LIME explanation builds a few work arrays of ``num_samples x n_features``
floats (1.2 MB for 5000 x 30) and frees them when it returns. glibc hands
freed blocks of that size back to the system, so the next call pays a page
fault for every 4 KiB page it writes again (about 4 microseconds each on a
virtual machine: more than the arithmetic on them). Work arrays that never
leave whylens are therefore borrowed from here (:func:`scratch`); arrays given
to a user's model are always new memory, which the model may keep.

The pool holds only buffers that nobody uses: a borrower takes one out (or
gets new memory when none fits) and puts it back when its ``with`` block ends,
so two borrowers, in one thread or in several, never share a buffer. What the
pool keeps is bounded in total (:data:`MAX_POOL_BYTES`, least recently used
buffers go first), buffers unused for :data:`IDLE_SECONDS` are dropped at the
next borrow, and :func:`release` drops them all now.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["IDLE_SECONDS", "MAX_POOL_BYTES", "MAX_SCRATCH_BYTES", "pooled_bytes", "release",
           "scratch"]

#: Larger requests get a fresh array that is not pooled: holding it would cost
#: memory, and the faults are small next to the work on an array that large.
MAX_SCRATCH_BYTES = 32 * 2**20

#: Most bytes the pool keeps, over all threads, between borrows.
MAX_POOL_BYTES = 64 * 2**20

#: A buffer nobody borrowed for this long is dropped at the next borrow.
IDLE_SECONDS = 60.0

_lock = threading.Lock()
#: Free buffers, least recently returned first: (slot, buffer, time returned).
_free: list[tuple[str, bytearray, float]] = []


def _take(nbytes: int, slot: str) -> bytearray:
    """A free buffer of at least ``nbytes`` out of the pool (the one ``slot``
    last returned if it fits, else the smallest that fits), or new memory."""
    now = time.monotonic()
    with _lock:
        _free[:] = [entry for entry in _free if now - entry[2] <= IDLE_SECONDS]
        fits = [i for i, (_, buf, _) in enumerate(_free) if len(buf) >= nbytes]
        if fits:
            same = [i for i in fits if _free[i][0] == slot]
            best = same[-1] if same else min(fits, key=lambda i: len(_free[i][1]))
            return _free.pop(best)[1]
    # A bytearray, not an ndarray: nothing of numpy's stays alive in the pool
    # until interpreter shutdown.
    return bytearray(nbytes)


def _give_back(buf: bytearray, slot: str) -> None:
    with _lock:
        _free.append((slot, buf, time.monotonic()))
        total = sum(len(b) for _, b, _ in _free)
        while total > MAX_POOL_BYTES:
            total -= len(_free.pop(0)[1])


@contextmanager
def scratch(shape: tuple[int, ...], dtype: type = np.float64, slot: str = "default"
            ) -> Iterator[np.ndarray]:
    """Borrow an uninitialised C-contiguous array of ``shape`` for the ``with`` block.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype, default float64
    slot : str, default="default"
        What the array is for: a borrow prefers the buffer its slot used last
        (same size, likely still in the CPU's caches). Any free buffer that is
        large enough may serve it.

    Yields
    ------
    ndarray of ``shape``
        Its memory is this borrower's alone until the block ends; its contents
        are undefined on entry and it must not be used after the block. A
        request above :data:`MAX_SCRATCH_BYTES` gets a fresh array that is
        not pooled.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_SCRATCH_BYTES:
        yield np.empty(shape, dtype=dtype)
        return
    buf = _take(nbytes, slot)
    try:
        yield np.ndarray(shape, dtype=dtype, buffer=buf)
    finally:
        _give_back(buf, slot)


def pooled_bytes() -> int:
    """Bytes the pool holds now (free buffers only; borrowed ones are their
    borrowers' until returned).

    Returns
    -------
    int
    """
    with _lock:
        return sum(len(buf) for _, buf, _ in _free)


def release() -> int:
    """Drop every free buffer of the pool now (buffers being borrowed come
    back to it when their blocks end).

    Returns
    -------
    int
        Bytes dropped.
    """
    with _lock:
        dropped = sum(len(buf) for _, buf, _ in _free)
        _free.clear()
    return dropped

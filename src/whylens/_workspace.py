"""Scratch arrays reused between calls, one per thread.

A LIME explanation builds a few arrays of ``num_samples x n_features`` floats
(1.2 MB for 5000 x 30) and frees them when it returns. glibc hands freed
blocks of that size back to the system, so the next call pays a page fault
for every 4 KiB page it writes again (about 4 microseconds each on a virtual
machine: more than the arithmetic on them). Internal arrays that never leave
whylens are therefore borrowed from here instead. Arrays given to a user's
model are never borrowed: the model may keep them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["MAX_SCRATCH_BYTES", "scratch"]

#: Larger requests get a fresh array: holding them would cost memory, and the
#: faults are small next to the work on an array that large.
MAX_SCRATCH_BYTES = 32 * 2**20

_local = threading.local()


@contextmanager
def scratch(shape: tuple[int, ...], dtype: type = np.float64, slot: str = "default"
            ) -> Iterator[np.ndarray]:
    """Borrow an uninitialised C-contiguous array of ``shape`` for the ``with`` block.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype, default float64
    slot : str, default="default"
        Name of the buffer; arrays needed at the same time borrow different slots.

    Yields
    ------
    ndarray of ``shape``
        Its contents are undefined on entry and must not be used after the
        block. A nested borrow of a busy slot in the same thread (a model that
        calls whylens again) and a request above :data:`MAX_SCRATCH_BYTES` get a
        fresh array.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    nbytes = size * dtype.itemsize
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
        _local.busy = set()
    if slot in _local.busy or nbytes > MAX_SCRATCH_BYTES:
        yield np.empty(shape, dtype=dtype)
        return
    buf = buffers.get(slot)
    if buf is None or len(buf) < nbytes:
        # A bytearray, not an ndarray, so that nothing of numpy's lives in
        # thread-local storage until interpreter shutdown.
        buf = buffers[slot] = bytearray(nbytes)
    _local.busy.add(slot)
    try:
        yield np.frombuffer(buf, dtype=dtype, count=size).reshape(shape)
    finally:
        _local.busy.discard(slot)

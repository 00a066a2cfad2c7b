"""Scratch arrays reused between calls, one per thread.

A LIME explanation builds a few arrays of ``num_samples x n_features`` floats
(1.2 MB for 5000 x 30) and frees them when it returns. glibc hands freed
blocks of that size back to the system, so the next call pays a page fault
for every 4 KiB page it writes again (about 4 microseconds each on a virtual
machine: more than the arithmetic on them). Internal arrays that never leave
whylens are therefore borrowed from here instead. Arrays given to a user's
model are *lent* (:func:`lend`): the buffer is reused only if nothing kept a
reference to the array when the lease ends, so a model that stores its input
(or returns a view of it) keeps valid data and the next call gets new memory.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["MAX_SCRATCH_BYTES", "Lease", "lend", "scratch"]

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
        yield np.ndarray(shape, dtype=dtype, buffer=buf)
    finally:
        _local.busy.discard(slot)


class Lease:
    """An array lent out for one ``with lend(...)`` block.

    Attributes
    ----------
    array : ndarray
        The lent array. Drop every reference of your own to it before the
        block ends; if anything else still holds it then (a model that kept
        its input, an output that is a view of it, a traceback), its memory
        is left to that holder and the slot gets new memory next time.
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array: np.ndarray | None = array


@contextmanager
def lend(shape: tuple[int, ...], dtype: type = np.float64, slot: str = "default"
         ) -> Iterator[Lease]:
    """Like :func:`scratch`, for an array handed to code that may keep it.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype, default float64
    slot : str, default="default"

    Yields
    ------
    Lease
        ``lease.array`` has ``shape``; contents undefined on entry.
    """
    with scratch(shape, dtype, slot) as array:
        # ``array`` is the ndarray over the slot's bytearray: every view of it
        # (any slice, reshape, np.asarray or torch.from_numpy) references it.
        lease = Lease(array)
        ref = weakref.ref(array)
        del array
        failed = True
        try:
            yield lease
            failed = False
        finally:
            lease.array = None
            if failed or ref() is not None:
                # Kept by someone (or an exception is on its way with frames
                # that may hold it): leave the memory to them, take new next time.
                getattr(_local, "buffers", {}).pop(slot, None)

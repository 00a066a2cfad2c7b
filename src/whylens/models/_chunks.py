"""Chunk sizes by a timing probe: :func:`run_chunked` runs a job's rows in chunks.

Without a fixed size, a job of several chunks times a few chunk sizes on its
own first rows and goes on in the fastest (a CNN on a CPU often runs faster in
small batches that stay in the caches; a scikit-learn pipeline wants one big
call). :class:`whylens.models.Model` calls it for every chunked evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "PROBE_MARGIN",
    "PROBE_MIN_ROWS",
    "PROBE_OVERHEAD_RATIO",
    "PROBE_SMALL_CAP",
    "ChunkReport",
    "probe_sizes",
    "run_chunked",
]

#: Fewest rows for which a job without a fixed chunk size times a few chunk
#: sizes (see :func:`run_chunked`).
PROBE_MIN_ROWS = 128
#: Smallest chunk size the probe tries; the next ones double it.
PROBE_START = 4
#: When the memory budget allows fewer rows than this per chunk, the rows are large
#: (images of 512 px take 2 under the default budget) and the probe starts at one
#: row (a CNN on a CPU can run such images faster one at a time, its activations
#: staying in the caches). Smaller rows (tables, text) are never sent one at a time.
PROBE_SMALL_CAP = 16
#: The probe stops at the first size this much slower per row than the best so far.
PROBE_STOP_RATIO = 1.2
#: A larger size replaces the best so far only when its rows are this fraction
#: faster: two timed chunks cannot resolve smaller differences on a shared
#: machine, and a smaller chunk holds less memory and reports progress sooner.
PROBE_MARGIN = 0.03
#: Jobs estimated (from their first chunk) to take less than this many seconds
#: are not probed: the timings would be noise.
PROBE_MIN_SECONDS = 0.05
#: When rows in chunks of the first probe size cost this many times more than
#: in chunks four times larger, the per-call cost dominates (a scikit-learn
#: pipeline, a GPU) and the largest chunk is the fastest: the probe stops there
#: and the job runs at the cap. (A CNN on a CPU, whose rows cost about the same
#: at any small batch and more in large ones, stays well below it.)
PROBE_OVERHEAD_RATIO = 2.0

T = TypeVar("T")


def _clock() -> float:
    """The probe's clock (a module function so tests can replace it)."""
    return time.perf_counter()


def probe_sizes(cap: int, total: int, start: int = PROBE_START) -> list[int]:
    """Chunk sizes a timing probe tries: ``start, 2 start, 4 start, ... < cap``, then ``cap``.

    Parameters
    ----------
    cap : int
        Largest chunk allowed (the memory budget's).
    total : int
        Rows of the whole job.
    start : int, default=PROBE_START
        1 whatever is given when ``cap < PROBE_SMALL_CAP`` (large rows).

    Returns
    -------
    list of int
        Empty when the job is too small to probe (fewer than
        :data:`PROBE_MIN_ROWS` rows, or one chunk holds it all). A warm-up
        chunk of the first size and two chunks of every size cover at most
        half of the job; the largest sizes are dropped to fit.
    """
    if cap < PROBE_SMALL_CAP:
        start = 1
    if total < PROBE_MIN_ROWS or cap <= start or total <= cap:
        return []
    sizes = []
    size = start
    while size < cap:
        sizes.append(size)
        size *= 2
    sizes.append(cap)
    while sizes and sizes[0] + 2 * sum(sizes) > total // 2:
        sizes.pop()
    return sizes if len(sizes) > 1 else []


@dataclass
class ChunkReport:
    """How :func:`run_chunked` split a job.

    Attributes
    ----------
    chunk_size : int
        Rows per chunk after the probe (the last chunk may be shorter).
    cap : int
        Largest chunk allowed.
    probed : dict of int to float
        Seconds per row of each chunk size the probe timed (empty if none).
    max_rows : int
        Most rows given to one call of the work.
    """

    chunk_size: int
    cap: int
    probed: dict[int, float] = field(default_factory=dict)
    max_rows: int = 0


def run_chunked(
    total: int,
    work: Callable[[int, int], T],
    *,
    cap: int,
    chunk_size: int | None = None,
    known: int | None = None,
    on_chunk: Callable[[int], Any] | None = None,
    sync: Callable[[], Any] | None = None,
) -> tuple[list[T], ChunkReport]:
    """Run ``work(start, stop)`` over rows ``0..total`` in chunks sized by a timing probe.

    With ``chunk_size`` given, every chunk has that size. Otherwise, when the
    job needs several chunks of ``cap`` rows and has at least
    :data:`PROBE_MIN_ROWS` rows, its first chunks are a probe: one warm-up
    chunk (it pays one-off costs; its time only estimates the job's, and a
    job under :data:`PROBE_MIN_SECONDS` is not probed), then chunks of the
    :func:`probe_sizes`. The first size and the one four times larger are
    timed once: rows :data:`PROBE_OVERHEAD_RATIO` times cheaper in the larger
    chunk mean the per-call cost dominates; then one chunk of ``cap`` is
    timed, and when its rows cost no more, the rest runs at ``cap``.
    Otherwise every size is timed on two chunks, in increasing order, and
    the faster of the two counts (a chunk slowed by another process, or the
    first call at a new batch shape, does not decide); a larger size must be
    :data:`PROBE_MARGIN` faster per row to replace the best; the probe stops at the
    first size :data:`PROBE_STOP_RATIO` times slower per row than the best,
    and the rest of the job runs in the best. The probe's chunks are the
    first rows of the job, not extra work, and no chunk exceeds ``cap``. A
    model that evaluates rows independently gives the same results whatever
    the chunk sizes.

    Parameters
    ----------
    total : int
        Rows of the job.
    work : callable
        ``work(start, stop) -> result`` for rows ``start..stop``; called in
        order, with ``stop - start <= cap`` (or ``chunk_size``).
    cap : int
        Largest chunk (the memory budget's).
    chunk_size : int, optional
        A fixed chunk size (the user's ``batch_size``): no probe.
    known : int, optional
        A size an earlier probe chose for the same kind of rows: no probe.
    on_chunk : callable, optional
        ``on_chunk(rows_done)`` after every chunk (progress, cancellation).
    sync : callable, optional
        Called before each probe timing is read (``torch.cuda.synchronize`` for
        asynchronous devices).

    Returns
    -------
    results : list
        ``work``'s results in row order.
    report : ChunkReport
        ``probed`` holds the best seconds per row of every size timed twice.
    """
    parts: list[T] = []
    report = ChunkReport(chunk_size=cap, cap=cap)
    done = 0
    timings: dict[int, list[float]] = {}

    def step(size: int, timed: bool) -> float:
        nonlocal done
        stop = min(done + size, total)
        begin = _clock()
        parts.append(work(done, stop))
        if timed and sync is not None:
            sync()
        seconds = _clock() - begin
        rows = stop - done
        report.max_rows = max(report.max_rows, rows)
        done = stop
        if on_chunk is not None:
            on_chunk(done)
        if timed and rows == size:  # a short last chunk is no timing of its size
            timings.setdefault(size, []).append(seconds / rows)
        return seconds / rows

    def best_of(size: int, times: int) -> float | None:
        """The best seconds per row of ``times`` timed chunks of ``size`` (None: job done)."""
        while len(timings.get(size, ())) < times and done < total:
            step(size, timed=True)
        return min(timings[size]) if len(timings.get(size, ())) >= times else None

    if chunk_size is not None:
        size = report.chunk_size = int(chunk_size)
    elif known is not None:
        size = report.chunk_size = min(int(known), cap)
    else:
        sizes = probe_sizes(cap, total)
        size = cap
        first = step(sizes[0], timed=False) if sizes else 0.0
        if first * total >= PROBE_MIN_SECONDS:
            small = best_of(sizes[0], 1)
            large = best_of(sizes[2], 1) if len(sizes) > 2 else None
            top = None
            if small is not None and large is not None and small >= PROBE_OVERHEAD_RATIO * large:
                top = best_of(cap, 1)  # the cap, checked before it is chosen
            if top is not None and large is not None and top <= large:
                report.probed = {sizes[0]: small, sizes[2]: large, cap: top}
            else:
                best: int | None = None
                for candidate in sizes:
                    per_row = best_of(candidate, 2)
                    if per_row is None:
                        break
                    report.probed[candidate] = per_row
                    if best is None or per_row < (1 - PROBE_MARGIN) * report.probed[best]:
                        best = candidate
                    elif per_row > PROBE_STOP_RATIO * report.probed[best]:
                        break
                size = cap if best is None else best
        report.chunk_size = size
    while done < total:
        step(size, timed=False)
    return parts, report

"""Jobs of the workbench: one worker per served model, a bounded queue, a result cache.

Every computation the workbench runs (a prediction, a CAM, a LIME run ...) is
a :class:`Job`. Each served model has one :class:`Worker` thread, so one
computation per model runs at a time while different models run in parallel;
later requests wait in a bounded queue, and a full queue is refused
(:class:`QueueFull`, answered 503 with ``Retry-After``). Results live in a
:class:`ResultCache` keyed by what determines them (model, image digest,
layer, mode, parameters, target); a request for a key being computed joins
that job instead of starting another.

A job reports progress through the library's ``callback(done, total)``
convention; the callback raises :class:`~whylens.errors.Cancelled` once the
job is cancelled or past its deadline, so the library stops between chunks and
frees what it held.
"""

from __future__ import annotations

import collections
import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whylens.errors import Cancelled

__all__ = ["Job", "QueueFull", "ResultCache", "Worker", "WorkerPool"]


class QueueFull(Exception):
    """The model's queue is full; retry after :attr:`retry_after` seconds."""

    def __init__(self, model: str, retry_after: int) -> None:
        super().__init__(f"the queue of model {model!r} is full; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Job:
    """One computation: its state, progress and result.

    Attributes
    ----------
    id : str
    model : str
    key : tuple
        What determines the result (the cache key).
    state : str
        ``"queued"``, ``"running"``, ``"done"``, ``"error"`` or ``"cancelled"``.
    done, total : int
        Progress in the library's units (rows, samples, steps).
    result : Any
        Set when ``state == "done"``.
    error : str
        The message when ``state`` is ``"error"`` or ``"cancelled"``.
    status : int
        HTTP status of an error (400 for bad input, 500 for a bug).
    """

    id: str
    model: str
    key: tuple[Any, ...]
    fn: Callable[[Callable[[int, int], None]], Any]
    timeout: float
    state: str = "queued"
    done: int = 0
    total: int = 0
    result: Any = None
    error: str = ""
    status: int = 200
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    first_progress: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)

    @property
    def finished_flag(self) -> bool:
        """Whether the job has ended (done, error or cancelled)."""
        return self._finished.is_set()

    def cancel(self) -> None:
        """Ask the job to stop: a queued job never starts, a running one stops at its next chunk."""
        self._cancel.set()

    def wait(self, timeout: float | None) -> bool:
        """Block until the job ends or ``timeout`` seconds pass; return whether it ended."""
        return self._finished.wait(timeout)

    def report(self, done: int, total: int) -> None:
        """The library's ``callback(done, total)``: record progress, raise Cancelled if asked."""
        self.done, self.total = int(done), int(total)
        if self.first_progress is None:
            self.first_progress = time.monotonic()
        self.check()

    def check(self) -> None:
        """Raise :class:`Cancelled` when the job was cancelled or ran past its deadline."""
        if self._cancel.is_set():
            raise Cancelled("cancelled from the workbench")
        if self.started is not None and time.monotonic() - self.started > self.timeout:
            raise Cancelled(f"stopped after the workbench's time limit of {self.timeout:g} s")

    def view(self) -> dict[str, Any]:
        """The job as the API shows it (no result payload)."""
        return {"id": self.id, "model": self.model, "state": self.state, "done": self.done,
                "total": self.total, "error": self.error or None}

    def _finish(self, state: str) -> None:
        self.state = state
        self.finished = time.monotonic()
        self.fn = _spent  # drop the closure (and the arrays it holds)
        self._finished.set()


def _spent(report: Callable[[int, int], None]) -> Any:  # pragma: no cover - never called
    raise RuntimeError("job already ran")


class ResultCache:
    """Least-recently-used results, bounded by their total size in bytes.

    Parameters
    ----------
    max_bytes : int
        Total size kept; the least recently used results are dropped beyond it.
    size_of : callable
        ``size_of(result) -> int`` bytes.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[Any], int]) -> None:
        self.max_bytes = int(max_bytes)
        self._size_of = size_of
        self._items: collections.OrderedDict[tuple[Any, ...], tuple[Any, int]] = (
            collections.OrderedDict())
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        """The cached result for ``key`` (marked recently used), or ``None``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key``, dropping the oldest results beyond ``max_bytes``."""
        size = int(self._size_of(value))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


class Worker:
    """One thread running one model's jobs in order, from a bounded queue.

    Parameters
    ----------
    model : str
    max_queue : int
        Jobs waiting beyond the running one; more are refused with :class:`QueueFull`.
    on_done : callable
        ``on_done(job)`` in the worker thread once a job has a result (to cache it).
    """

    def __init__(self, model: str, max_queue: int, on_done: Callable[[Job], None]) -> None:
        self.model = model
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self._on_done = on_done
        self.running: Job | None = None
        self._thread = threading.Thread(target=self._run, name=f"whylens-app-{model}",
                                        daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job``; raise :class:`QueueFull` when the queue is full."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull(self.model, retry_after=self._retry_after()) from None

    def _retry_after(self) -> int:
        running = self.running
        if running is None or running.started is None:
            return 1
        return max(1, min(60, round(time.monotonic() - running.started)))

    def stop(self) -> None:
        """Cancel what is queued and running and end the thread."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.error = "the workbench is shutting down"
                job._finish("cancelled")
        if self.running is not None:
            self.running.cancel()
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job._cancel.is_set():
                job.error = "cancelled before it started"
                job._finish("cancelled")
                continue
            self.running = job
            job.state = "running"
            job.started = time.monotonic()
            try:
                job.result = job.fn(job.report)
            except Cancelled as exc:
                job.error = str(exc)
                job._finish("cancelled")
            except Exception as exc:  # reported to the page; the worker keeps serving
                from whylens.errors import WhylensError

                job.status = 400 if isinstance(exc, WhylensError) else 500
                job.error = " ".join(str(exc).split()) or type(exc).__name__
                if job.status == 500:
                    job.error = f"{type(exc).__name__}: {job.error}"
                job._finish("error")
            else:
                self._on_done(job)
                job._finish("done")
            finally:
                self.running = None


class WorkerPool:
    """The workers of every served model, the jobs by id and the result cache.

    Parameters
    ----------
    models : iterable of str
    max_queue : int
        Waiting jobs per model.
    cache : ResultCache
    timeout : float
        Seconds a job may run before it is stopped.
    keep_jobs : int
        Finished jobs remembered (for late ``GET /api/jobs/{id}``).
    """

    def __init__(self, models: Any, max_queue: int, cache: ResultCache, timeout: float,
                 keep_jobs: int = 128) -> None:
        self.cache = cache
        self.timeout = float(timeout)
        self._jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._pending: dict[tuple[Any, ...], Job] = {}
        self._lock = threading.RLock()  # submit() holds it when it starts a worker
        self._ids = itertools.count(1)
        self._keep = keep_jobs
        self.keep_results = 16
        self._max_queue = max_queue
        self.workers: dict[str, Worker] = {}
        for name in models:
            self.worker(name)

    def worker(self, model: str) -> Worker:
        """The worker of ``model``, started on first use (models may load after the pool)."""
        with self._lock:
            worker = self.workers.get(model)
            if worker is None:
                worker = self.workers[model] = Worker(model, self._max_queue, self._store)
            return worker

    def _store(self, job: Job) -> None:
        self.cache.put(job.key, job.result)
        with self._lock:
            if self._pending.get(job.key) is job:
                self._pending.pop(job.key)

    def submit(self, model: str, key: tuple[Any, ...],
               fn: Callable[[Callable[[int, int], None]], Any], *,
               timeout: float | None = None) -> Job:
        """The job computing ``key``: a finished one from the cache, the pending one, or a new one.

        Raises
        ------
        QueueFull
            The model's queue is full.
        """
        cached = self.cache.get(key)
        with self._lock:
            if cached is not None:
                job = self._new(model, key, fn, timeout)
                job.result = cached
                job._finish("done")
                self._remember(job)
                return job
            pending = self._pending.get(key)
            if pending is not None and not pending.finished_flag \
                    and not pending._cancel.is_set():
                return pending
            job = self._new(model, key, fn, timeout)
            self.worker(model).submit(job)  # raises QueueFull (the job is then forgotten)
            self._pending[key] = job
            self._remember(job)
            return job

    def _remember(self, job: Job) -> None:
        """Keep ``job`` by id; forget the oldest finished jobs beyond ``keep_jobs``.

        Only the newest :attr:`keep_results` jobs hold their result themselves;
        older ones find it in the cache (:meth:`result`), so remembered jobs
        do not pin memory the cache has let go.
        """
        self._jobs[job.id] = job
        holding = [j for j in self._jobs.values() if j.result is not None]
        for old in holding[: max(0, len(holding) - self.keep_results)]:
            if old.finished_flag:
                old.result = None
        while len(self._jobs) > self._keep:
            old_id, old = next(iter(self._jobs.items()))
            if not old.finished_flag:
                break
            self._jobs.pop(old_id)
            if self._pending.get(old.key) is old:
                self._pending.pop(old.key)

    def _new(self, model: str, key: tuple[Any, ...], fn: Any, timeout: float | None) -> Job:
        return Job(id=f"j{next(self._ids)}", model=model, key=key, fn=fn,
                   timeout=self.timeout if timeout is None else float(timeout))

    def result(self, job: Job) -> Any:
        """A done job's result: its own, or the cached one for its key (``None`` if dropped)."""
        if job.state != "done":
            return None
        return job.result if job.result is not None else self.cache.get(job.key)

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or ``None``."""
        with self._lock:
            return self._jobs.get(job_id)

    def stop(self) -> None:
        """Cancel everything and end the worker threads."""
        for worker in list(self.workers.values()):
            worker.stop()

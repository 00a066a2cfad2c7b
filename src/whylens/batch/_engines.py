"""Where the chunks run: this process, local worker processes, or Ray tasks.

Every engine takes the pickled :class:`~whylens.batch._methods.Work` and an
iterator of chunks ``(index, start, stop, rows)``, keeps at most two chunks
per worker in flight (so memory does not grow with the table), and yields
``(index, start, stop, parquet_bytes, layout)`` as chunks finish, in any
order. Workers compute the part's bytes; only the driver writes files, so a
chunk retried after a worker died is written once.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from whylens.batch._deps import ray as import_ray
from whylens.batch._methods import Work, explain_chunk
from whylens.batch._store import part_bytes
from whylens.errors import ModelError, WhylensError

__all__ = ["ENGINES", "dumps", "run_chunks"]

ENGINES = ("local", "ray")
#: One BLAS/OpenMP/numba thread per worker.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}
_RAY_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_WORK_CACHE: dict[int, Work] = {}
_LIMITS: list[Any] = []

Task = tuple[int, int, int, np.ndarray]
Done = tuple[int, int, int, bytes, dict]


def dumps(work: Work) -> bytes:
    """Pickle the work (cloudpickle when installed, so lambdas and local models travel)."""
    try:
        import cloudpickle

        return cloudpickle.dumps(work)
    except ImportError:  # pragma: no cover - cloudpickle comes with ray
        return pickle.dumps(work)


def _one_thread() -> None:
    if not _LIMITS:
        from threadpoolctl import threadpool_limits

        _LIMITS.append(threadpool_limits(limits=1))


def _work(payload: bytes) -> Work:
    key = hash(payload)
    work = _WORK_CACHE.get(key)
    if work is None:
        _WORK_CACHE.clear()
        work = _WORK_CACHE[key] = pickle.loads(payload)
    return work


def run_chunk(work: Work, index: int, start: int, stop: int, X: np.ndarray, seed: int) -> Done:
    """Explain one chunk and return its Parquet part (the worker's whole job)."""
    columns, labels, outputs = explain_chunk(work, X, start, stop, seed)
    return index, start, stop, part_bytes(columns), work.layout(labels, outputs)


def _pool_init(payload: bytes) -> None:
    _one_thread()
    _WORK_CACHE[0] = pickle.loads(payload)  # once per worker process


def _pool_chunk(index: int, start: int, stop: int, X: np.ndarray, seed: int) -> Done:
    return run_chunk(_WORK_CACHE[0], index, start, stop, X, seed)


@contextlib.contextmanager
def _thread_env() -> Iterator[None]:
    """Set the one-thread variables while worker processes start (they inherit them)."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_chunks(engine: str, payload: bytes, tasks: Iterator[Task], *, jobs: int, seed: int,
               address: str | None = None, preload: list[str] | None = None,
               method: str = "") -> Iterator[Done]:
    """Run every chunk of ``tasks`` on ``engine``; yield each finished chunk.

    Parameters
    ----------
    engine : {"local", "ray"}
    payload : bytes
        The pickled Work.
    tasks : iterator of (index, start, stop, rows)
    jobs : int
        Worker processes (local; 1 runs in this process) or chunks in parallel (Ray).
    seed : int
        The job's seed.
    address : str, optional
        A Ray cluster to join.
    preload : list of str, optional
        Modules the local workers' fork server imports once (the model's).
    method : str
        The method's name: on a Ray cluster with GPUs, torch methods' chunks
        each ask for one GPU (:func:`task_resources`).

    Yields
    ------
    (index, start, stop, parquet_bytes, layout)
    """
    if engine == "ray":
        yield from _run_ray(payload, tasks, jobs=jobs, seed=seed, address=address,
                            method=method)
    elif jobs == 1:
        from threadpoolctl import threadpool_limits

        work = pickle.loads(payload)
        with threadpool_limits(limits=1):
            for index, start, stop, X in tasks:
                yield run_chunk(work, index, start, stop, X, seed)
    else:
        yield from _run_pool(payload, tasks, jobs=jobs, seed=seed, preload=preload or [])


def in_flight(tasks: Iterable[Any], submit: Callable[[Any], Any],
              wait_any: Callable[[list[Any]], tuple[Iterable[Any], Iterable[Any]]], *,
              window: int, cancel: Callable[[Any], Any] | None = None) -> Iterator[Any]:
    """Submit ``tasks`` keeping at most ``window`` in flight; yield each handle as it finishes.

    Parameters
    ----------
    tasks : iterable
        Read lazily: a task is taken only when there is room for it.
    submit : callable
        ``submit(task) -> handle`` (a future, a Ray object reference).
    wait_any : callable
        ``wait_any(pending) -> (finished, still_pending)``; blocks until at least
        one handle has finished.
    window : int
        Most handles in flight.
    cancel : callable, optional
        Called on every handle still pending when the generator is closed
        (the caller stopped early or raised).

    Yields
    ------
    handle
        Finished handles, in the order they finish.
    """
    pending: list[Any] = []
    tasks = iter(tasks)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                pending.append(submit(task))
            if not pending:
                return
            finished, still = wait_any(pending)
            pending = list(still)
            yield from finished
    finally:
        if cancel is not None:
            for handle in pending:
                cancel(handle)


def _run_pool(payload: bytes, tasks: Iterator[Task], *, jobs: int, seed: int,
              preload: list[str]) -> Iterator[Done]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # A fork server imports whylens and the model's modules once; each worker is a fork
    # of it (a clean single-threaded process), ready in milliseconds instead of seconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["whylens.batch._engines", *preload])
    with _thread_env(), ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                            initializer=_pool_init,
                                            initargs=(payload,)) as pool:
        futures = in_flight(tasks, lambda task: pool.submit(_pool_chunk, *task, seed),
                            lambda pending: wait(pending, return_when=FIRST_COMPLETED),
                            window=2 * jobs, cancel=lambda future: future.cancel())
        try:
            for future in futures:
                yield future.result()
        except BrokenProcessPool as exc:
            raise ModelError("engine='local': a worker process died (killed, or out of "
                             "memory). The finished chunks are kept; run the same job again "
                             "to continue.") from exc
        finally:
            futures.close()  # cancels the chunks not started yet


def task_resources(method: str, cluster: Mapping[str, float]) -> dict[str, float]:
    """The Ray resources of one chunk: one CPU, and one GPU for a torch method when the
    cluster has GPUs (the chunk's worker then moves the model there once).

    Returns
    -------
    dict
        ``ray.remote`` options: ``num_cpus`` and, for GPU chunks, ``num_gpus``.
    """
    if method.startswith("torch.") and float(cluster.get("GPU", 0)) >= 1:
        return {"num_cpus": 1, "num_gpus": 1}
    return {"num_cpus": 1}


def place_on_gpu(work: Work, gpu_ids: Sequence[Any]) -> Work:
    """Move a torch method's model to the GPU Ray assigned to this worker (if any), once."""
    model = getattr(work.explainer, "model", None)
    if not gpu_ids or model is None or not hasattr(model, "to"):
        return work
    import torch

    if torch.cuda.is_available() and next(model.parameters()).device.type != "cuda":
        model.to("cuda")  # Ray's CUDA_VISIBLE_DEVICES makes the assigned GPU device 0
    return work


def _ray_chunk(payload: bytes, index: int, start: int, stop: int, X: np.ndarray,
               seed: int) -> Done:
    _one_thread()
    work = _work(payload)
    if work.method.startswith("torch."):
        import ray

        work = place_on_gpu(work, ray.get_gpu_ids())
    return run_chunk(work, index, start, stop, X, seed)


def start_ray(jobs: int, address: str | None) -> bool:
    """Start (or join) Ray unless it is already running; return whether this call started it.

    Without ``address`` a local instance is started for the job on 127.0.0.1 only,
    with ``jobs`` CPUs and no dashboard.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    env = dict(THREAD_ENV)
    if address:
        ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
    else:
        # Workers find the driver's modules (a model factory in the working directory).
        env["PYTHONPATH"] = os.pathsep.join(p if p else os.getcwd() for p in sys.path)
        with _loopback_only():
            ray.init(num_cpus=jobs, include_dashboard=False, _node_ip_address="127.0.0.1",
                     runtime_env={"env_vars": env}, log_to_driver=False,
                     configure_logging=False)
    return True


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """Keep a local Ray instance on 127.0.0.1.

    On Linux Ray replaces a loopback node address by the machine's network
    address (to let other nodes join); its switch for single-machine clusters
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read at import by Ray's processes,
    and the same constant in this one) keeps every server it starts (GCS,
    raylet, workers) on loopback.
    """
    from ray._private import ray_constants

    saved_env = os.environ.get(_RAY_CLUSTER_ENV)
    saved = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_RAY_CLUSTER_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved
        if saved_env is None:
            os.environ.pop(_RAY_CLUSTER_ENV, None)
        else:
            os.environ[_RAY_CLUSTER_ENV] = saved_env


def _run_ray(payload: bytes, tasks: Iterator[Task], *, jobs: int, seed: int,
             address: str | None, method: str = "") -> Iterator[Done]:
    ray = import_ray()
    started = start_ray(jobs, address)
    try:
        resources = task_resources(method, ray.cluster_resources())
        remote = ray.remote(max_retries=3, **resources)(_ray_chunk)
        ref = ray.put(payload)
        for done in in_flight(tasks, lambda task: remote.remote(ref, *task, seed),
                              lambda pending: ray.wait(pending, num_returns=1),
                              window=2 * jobs):
            try:
                result = ray.get(done)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, WhylensError):
                    raise cause from exc
                raise
            yield result
    finally:
        if started:
            ray.shutdown()

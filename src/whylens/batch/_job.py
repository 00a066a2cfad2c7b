"""``explain_dataset``: one job over a whole table, chunked, resumable, on an engine."""

from __future__ import annotations

import json
import numbers
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.batch._data import Source, as_source, sample_rows
from whylens.batch._deps import pyarrow
from whylens.batch._engines import ENGINES, dumps, run_chunks
from whylens.batch._methods import build_work, check_params, explain_chunk
from whylens.batch._model import load_model, model_columns, model_digest
from whylens.batch._store import MANIFEST, Store
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["BatchResult", "explain_dataset", "open_output"]

DEFAULT_CHUNK_ROWS = 10_000


@dataclass
class BatchResult:
    """What a finished job wrote.

    Attributes
    ----------
    output : Path
        The output directory.
    n_rows : int
    n_chunks : int
    chunks_run : int
        Chunks explained by this call.
    chunks_reused : int
        Finished chunks of an earlier run kept as they were.
    chunks_redone : list of int
        Chunks an earlier run had finished whose part was missing or damaged.
    summary : dict
        ``{"rows": n, "mean_abs": {label: {feature: mean |value|}}}``.
    manifest : dict
    """

    output: Path
    n_rows: int
    n_chunks: int
    chunks_run: int
    chunks_reused: int
    chunks_redone: list[int]
    summary: dict[str, Any]
    manifest: dict[str, Any]

    def dataset(self) -> Any:
        """The parts as a lazy ``pyarrow.dataset.Dataset`` (see :func:`open`)."""
        return open_output(self.output)


def explain_dataset(
    model: Any,
    data: Any,
    method: str,
    *,
    params: Mapping[str, Any] | None = None,
    output: str | Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    engine: str = "local",
    jobs: int = 1,
    address: str | None = None,
    random_state: int = 0,
    resume: bool = True,
    progress: bool | None = None,
    trust_model: bool = False,
) -> BatchResult:
    """Explain every row of a table, chunk by chunk, into a directory of Parquet parts.

    The table is read in chunks of ``chunk_rows`` rows (CSV and Parquet files
    are streamed, never loaded whole). Each chunk is explained with a seed
    derived from ``random_state`` and its row range, so the values do not
    depend on the engine, the number of workers or the order chunks finish in.
    Each finished chunk is written as a Parquet part (temporary name, then
    renamed) and listed with its checksum in ``manifest.json``; running the
    same job again after a crash or kill continues from the manifest, and the
    output holds every row exactly once.

    Parameters
    ----------
    model : object or str
        The model (anything :func:`whylens.models.as_model` accepts; for
        ``"shap.linear"`` a linear model, for ``"shap.tree"`` a tree
        ensemble), or a string: ``"package.module:factory"`` (called without
        arguments), a ``.skops`` file, or a ``.joblib``/``.pkl`` file (only
        with ``trust_model=True``).
    data : str, Path, DataFrame or ndarray of shape (n_rows, n_features)
        A CSV (header row) or Parquet file, or a table in memory. Its columns
        must be the model's (``feature_names_in_``, in any order) or, for a
        model without names, as many as the model's ``n_features_in_``.
        For the torch methods: a ``.pt``/``.pth`` file holding one float
        tensor (n, C, H, W) or (n, C, L) (loaded with ``weights_only=True``,
        memory-mapped), a folder of PNG/JPEG images (sorted by name, decoded a
        chunk at a time to float32 [0, 1] channels first; ``params={"size":
        N}`` resizes and centre-crops them to N x N, required when their sizes
        differ), or such a tensor or array in memory.
    method : str
        ``"shap.kernel"``, ``"shap.permutation"``, ``"shap.exact"``,
        ``"shap.linear"``, ``"shap.tree"``, ``"lime.tabular"`` or ``"lime.text"``
        (one text column, ``params={"text_column": name}``; the default is the
        only column, else ``"text"``; the model takes a list of str), or
        ``"torch.gradcam"`` (also ``gradcam++``, ``hirescam``, ``layercam``;
        ``layer``: default the library's), ``"torch.integratedgradients"``
        (``n_steps``; zero baselines) or ``"torch.saliency"`` (``abs``) for a
        ``torch.nn.Module``; ``target``: an output index (default each row's
        predicted class). Each row's map is one flattened float32 ``map``
        column, its shape in the manifest's layout (see
        :mod:`whylens.batch._torch_methods`).
    params : mapping, optional
        The method's parameters (e.g. ``{"nsamples": 200}``). ``background``:
        rows sampled from ``data`` with the seed (an int; default 100 for the
        game-based SHAP methods, 1000 for linear SHAP and LIME, none for tree
        SHAP, which is then path-dependent) or a table path (or, in Python, a
        table).
    output : str or Path
        Directory of the parts and the manifest (created).
    chunk_rows : int, default=10000
        Rows per chunk (and per part file).
    engine : {"local", "ray"}, default="local"
        ``"local"``: ``jobs`` worker processes on this machine (one runs in this
        process), one BLAS thread each. ``"ray"``: every chunk a Ray task.
    jobs : int, default=1
        Worker processes (local) or the CPUs of the Ray instance started for the
        job (and the chunks in flight: twice this).
    address : str, optional
        An existing Ray cluster to join (``engine="ray"``). Without it a local
        Ray instance is started on 127.0.0.1 for the job (unless Ray is
        already initialised in this process, which is then used).
    random_state : int, default=0
        The job's seed.
    resume : bool, default=True
        Keep the finished chunks of an earlier run of the same job; ``False``
        redoes every chunk.
    progress : bool, optional
        A progress bar with rows/s and ETA (default: when stderr is a terminal).
    trust_model : bool, default=False
        Allow loading a pickled model file.

    Returns
    -------
    BatchResult
        With the summary (mean |value| per feature and label, read back from
        the parts); :func:`whylens.batch.open` gives the values.

    Raises
    ------
    InputError, InputTypeError
        An unknown method or parameter, a bad value, data columns that do not
        match the model, an output directory holding another job's manifest, a
        model file that needs ``trust_model``.
    ModelError
        The model raised, or a local worker process died (run again to continue).
    MissingDependencyError
        pyarrow (or Ray for ``engine="ray"``) is not installed.
    """
    spec, params = check_params(method, params)
    chunk_rows = check_positive_int("chunk_rows", chunk_rows)
    jobs = check_positive_int("jobs", jobs)
    if engine not in ENGINES:
        raise InputError(describe("engine", f"one of {ENGINES}", engine))
    if address is not None and engine != "ray":
        raise InputError(describe("address", "None unless engine='ray'", address,
                                  "Pass engine='ray' (--engine ray) to join a cluster."))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral) \
            or random_state < 0:
        raise InputTypeError(describe("random_state", "an int seed >= 0 (a job is recorded "
                                      "and resumed by its seed)", random_state))
    seed = int(random_state)
    pyarrow()  # a clear MissingDependencyError before any work

    if isinstance(model, (str, Path)):
        model, digest = load_model(str(model), trust_model=trust_model)
    else:
        digest = model_digest(model)
    if spec.kind == "torch":
        from whylens.batch._images import as_torch_source

        source = as_torch_source(data, params.get("size"))
        frame_columns = None
    elif spec.kind == "text":
        source = as_source(data)
        source.select_text(params.get("text_column"))
        frame_columns = None
    else:
        source = as_source(data)
        frame_columns = _match_columns(source, model)
        source.check_numeric()
    if source.n_rows == 0:
        raise InputError(describe("data", "at least one row", got_text="an empty table"))
    background, background_record = _background(params["background"], source, seed)
    work = build_work(spec, params, model, background, source.columns, frame_columns, seed)
    # One small chunk in this process first: checks the call's parameters and fixes
    # the column layout before any worker starts.
    probe = source.take(np.arange(min(2, source.n_rows)))
    _, labels, outputs = explain_chunk(work, probe, 0, probe.shape[0], seed)
    layout = work.layout(labels, outputs)
    work.labels, work.outputs = labels, outputs

    from whylens import __version__

    job = {"method": spec.name,
           "params": _jsonable({**params, "background": background_record}),
           "seed": seed, "chunk_rows": chunk_rows,
           "input": {"fingerprint": source.fingerprint, "n_rows": source.n_rows,
                     "columns": list(source.columns),
                     **({"shape": list(source.shape)} if spec.kind == "torch" else {})},
           "model": digest, "whylens_version": __version__}
    n_chunks = source.n_chunks(chunk_rows)
    store = Store(output, job, n_chunks, resume=resume)
    store.record_layout(layout)
    reused = len(store.chunks)
    run = 0
    show = sys.stderr.isatty() if progress is None else bool(progress)
    from tqdm.auto import tqdm

    with tqdm(total=source.n_rows, initial=store.rows_done, unit="row", unit_scale=True,
              disable=not show, desc=spec.name, smoothing=0.1) as bar:
        tasks = source.chunks(chunk_rows, lambda index: not store.done(index))
        for index, start, stop, payload, chunk_layout in run_chunks(
                engine, dumps(work), tasks, jobs=jobs, seed=seed, address=address,
                preload=_modules(model, work), method=spec.name):
            store.record_layout(chunk_layout)
            store.add(index, start, stop, payload)
            run += 1
            bar.update(stop - start)
    _check_complete(store, source.n_rows)
    summary = store.summarize()
    return BatchResult(output=Path(output), n_rows=source.n_rows, n_chunks=n_chunks,
                       chunks_run=run, chunks_reused=reused, chunks_redone=store.redone,
                       summary=summary, manifest=store.manifest(summary))


def _match_columns(source: Source, model: Any) -> list[str] | None:
    """Put the data's columns in the model's order; return them if the model wants frames."""
    names, count = model_columns(model)
    if names is not None:
        if source.kind == "array":
            if len(source.columns) != len(names):
                raise InputError(describe("data", f"{len(names)} columns (the model's "
                                          f"{names})", got_text=f"{len(source.columns)} "
                                          "columns"))
            source.rename(names)
            return names
        missing = [n for n in names if n not in source.columns]
        extra = [c for c in source.columns if c not in names]
        if missing or extra:
            raise InputError(describe(
                "data", f"the model's columns {names}",
                got_text=f"columns {source.columns} (missing {missing}, not the model's "
                         f"{extra})",
                fix="Explain a table of exactly the columns the model was fitted on."))
        source.select(names)
        return names
    if count is not None and count != len(source.columns):
        raise InputError(describe("data", f"{count} columns (the model's n_features_in_)",
                                  got_text=f"{len(source.columns)} columns {source.columns}",
                                  fix="Drop the columns the model was not fitted on."))
    return None


def _background(value: Any, source: Source, seed: int) -> tuple[np.ndarray | None, Any]:
    """The background rows and how the manifest records them."""
    if value is None:
        return None, None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        rows = sample_rows(source.n_rows, value, seed)
        return source.take(rows), int(value)
    other = as_source(value, "background")
    if other.kind == "array" and len(other.columns) == len(source.columns):
        other.rename(source.columns)
    missing = [c for c in source.columns if c not in other.columns]
    if missing:
        raise InputError(describe("background", f"a table with the data's columns "
                                  f"{source.columns}", got_text=f"columns {other.columns}"))
    other.select(source.columns)
    rows = other.read_all()
    if rows.shape[0] == 0:
        raise InputError(describe("background", "at least one row", got_text="an empty table"))
    record = {"fingerprint": other.fingerprint, "rows": int(rows.shape[0])}
    return rows, record


def _check_complete(store: Store, n_rows: int) -> None:
    ranges = sorted((e["start"], e["stop"]) for e in store.chunks.values())
    position = 0
    for start, stop in ranges:
        if start != position:
            break
        position = stop
    if position != n_rows or len(ranges) != store.n_chunks:  # pragma: no cover - a bug
        raise RuntimeError(f"whylens.batch: the parts cover rows [0, {position}) of {n_rows}")


def _modules(model: Any, work: Any) -> list[str]:
    """Modules worth importing once in the local workers' fork server."""
    names = {type(model).__module__, type(work.explainer).__module__}
    return sorted(n for n in names if n and n != "__main__" and not n.startswith("builtins"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def open_output(output: str | Path) -> Any:
    """Open a job's output as a lazy ``pyarrow.dataset.Dataset`` over its finished parts.

    Nothing is read until asked: ``.to_table(columns=[...])``, ``.to_batches()``,
    ``.to_table().to_pandas()``. Columns: ``row``, ``value:<label>:<feature>``,
    ``base_value:<label>``, ``output:<output>`` (torch methods: ``row``,
    ``label``, ``map`` (flattened float32; its shape is the manifest's
    ``layout["map_shape"]``), ``mean_abs``, ``output:<output>``).

    Parameters
    ----------
    output : str or Path
        The directory a job wrote.

    Returns
    -------
    pyarrow.dataset.Dataset

    Raises
    ------
    InputError
        When the directory holds no whylens manifest.
    """
    _, _, _, pds = pyarrow()
    path = Path(output) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        chunks = manifest["chunks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(describe("output", "a directory written by whylens.batch "
                                  "(with a manifest.json)", str(output))) from exc
    files = [str(Path(output) / chunks[key]["file"])
             for key in sorted(chunks, key=lambda k: int(k))]
    return pds.dataset(files, format="parquet")

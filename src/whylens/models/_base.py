"""The model contract: one batched ``predict`` returning float64 (n, k)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import checked_callback
from whylens.errors import InputError, ModelError, ModelOutputError, describe
from whylens.models._chunks import (
    PROBE_MIN_ROWS,
    PROBE_OVERHEAD_RATIO,
    PROBE_SMALL_CAP,
    ChunkReport,
    probe_sizes,
    run_chunked,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "PROBE_MIN_ROWS",
    "PROBE_OVERHEAD_RATIO",
    "PROBE_SMALL_CAP",
    "ChunkReport",
    "Model",
    "n_rows",
    "probe_sizes",
    "run_chunked",
    "to_output_matrix",
]

#: Bytes that one chunk of model inputs (with the model's working memory,
#: estimated) may take by default.
DEFAULT_MEMORY_BUDGET = 256 * 2**20

#: Estimated bytes of one string row before the working factor: the object and
#: a tokenised copy (a few tokens of index/count data) plus, per character, the
#: text in UTF-32 and its share of the tokens. (It was 1024 + 64 per character,
#: which cut 5000 reviews of 250 characters into three calls of a TF-IDF model.)
STRING_ROW_BYTES = 1024.0
STRING_CHAR_BYTES = 16.0

ProgressCallback = Callable[[int, int], Any]


def n_rows(batch: Any) -> int:
    """Return the number of rows (samples) in a batch of model inputs."""
    shape = getattr(batch, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(batch)


def _row_bytes(batch: Any, working_factor: float) -> float:
    """Estimate the memory one row of ``batch`` costs inside a model."""
    shape = getattr(batch, "shape", None)
    itemsize = getattr(getattr(batch, "dtype", None), "itemsize", None)
    if shape is not None and itemsize is not None and len(shape) > 0:
        per_row = float(itemsize * int(np.prod(shape[1:], dtype=np.int64)))
    else:  # a list of strings or objects: bytes of the text plus object overhead
        sample = batch[: min(len(batch), 64)]
        lengths = [len(x) if isinstance(x, (str, bytes)) else 64 for x in sample]
        per_row = STRING_ROW_BYTES + STRING_CHAR_BYTES * (
            float(np.mean(lengths)) if lengths else 0.0)
    return max(per_row * working_factor, 1.0)


def to_output_matrix(raw: Any, expected_rows: int, source: str = "the model") -> np.ndarray:
    """Validate a model's output and return it as float64 of shape (n, k).

    Parameters
    ----------
    raw : array-like, torch tensor or scipy sparse matrix
        What the model returned.
    expected_rows : int
        Number of input rows it was given.
    source : str
        How to name the model in messages.

    Returns
    -------
    ndarray of shape (expected_rows, k), float64

    Raises
    ------
    ModelOutputError
        If the output is not numeric, has the wrong number of rows or
        dimensions, or contains NaN or infinity.
    """
    if raw is None:
        raise ModelOutputError(
            describe(f"output of {source}", "an array of shape (n,) or (n, n_outputs)",
                     got_text="None", fix="The function returned nothing: return the "
                     "predictions (is a return statement missing?).")
        )
    if hasattr(raw, "detach") and hasattr(raw, "cpu"):  # a torch tensor
        raw = raw.detach().cpu().numpy()
    if hasattr(raw, "toarray") and not isinstance(raw, np.ndarray):  # scipy sparse
        raw = raw.toarray()
    if (isinstance(raw, (list, tuple)) and raw and hasattr(raw[0], "shape")
            and len(raw) != expected_rows):
        raise ModelOutputError(
            describe(f"output of {source}", f"one array of {expected_rows} rows",
                     got_text=f"a {type(raw).__name__} of {len(raw)} arrays",
                     fix="Return a single (n,) or (n, n_outputs) array.")
        )
    try:
        out = np.asarray(raw)
    except Exception as exc:  # ragged lists and the like
        raise ModelOutputError(
            describe(f"output of {source}", "a numeric array of shape (n,) or (n, n_outputs)",
                     got_text=f"{type(raw).__name__} that numpy cannot convert ({exc})")
        ) from exc
    if out.dtype.kind not in "biuf":
        hint = (
            "It returned labels, not scores: pass predict_proba (or decision_function), "
            "not predict."
            if out.dtype.kind in "USO"
            else "Return probabilities, scores or values as numbers."
        )
        raise ModelOutputError(
            describe(f"output of {source}", "numbers (probabilities, scores or values)",
                     got_text=f"an array of dtype {out.dtype}", fix=hint)
        )
    if out.ndim == 0 or out.ndim > 2:
        raise ModelOutputError(
            describe(f"output of {source}", "an array of shape (n,) or (n, n_outputs)",
                     got_text=f"shape {out.shape}",
                     fix="Reshape the model's output to one row per input.")
        )
    if out.shape[0] != expected_rows:
        raise ModelOutputError(
            describe(f"output of {source}", f"{expected_rows} rows (one per input)",
                     got_text=f"{out.shape[0]} rows (shape {out.shape})",
                     fix="The prediction function must return one row per input row.")
        )
    out = out.astype(np.float64, copy=False).reshape(expected_rows, -1)
    finite = np.isfinite(out)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise ModelOutputError(
            describe(f"output of {source}", "finite numbers",
                     got_text=f"NaN or infinity in {bad_rows.size} rows (first: row {bad_rows[0]})",
                     fix="Check the model on those inputs; explanations need finite outputs.")
        )
    return out


class Model:
    """A model behind one contract: ``model(X) -> ndarray (n, n_outputs)`` of float64.

    Build one with :func:`whylens.models.as_model`. Calls are chunked so that
    memory stays bounded, show a progress bar on long work, and report
    progress to a callback (the workbench uses it to show progress and to
    cancel between chunks).

    Parameters
    ----------
    fn : callable
        ``fn(batch) -> array-like`` for one chunk of inputs.
    chunk_size : int, optional
        Rows per call of ``fn``. ``None`` derives it from ``memory_budget``.
    memory_budget : int, default=DEFAULT_MEMORY_BUDGET
        Bytes a chunk (inputs and estimated working memory) may use.
    working_factor : float, default=8.0
        Estimated working memory of the model per byte of input.
    output_names : sequence of str, optional
        Names of the outputs (class names).
    kind : str, default="callable"
        What was wrapped: ``"callable"``, ``"sklearn"`` or ``"torch"``.
    output : str, default="raw"
        What the outputs are: ``"probability"``, ``"decision"``, ``"prediction"``,
        ``"logits"`` or ``"raw"``.
    name : str, optional
        How to name the model in messages.
    probe_chunks : bool, default=True
        Without ``chunk_size``, let a job of several chunks time a few chunk
        sizes up to the memory budget's on its first rows and go on in the
        fastest (see :func:`run_chunked`); ``False`` always uses the budget's.

    Attributes
    ----------
    n_calls : int
        Calls of ``fn`` so far.
    n_evaluated : int
        Rows evaluated so far.
    max_chunk_seen : int
        Largest number of rows ``fn`` was called with.
    tuned_chunk_sizes : dict
        Chunk size a probe chose, per kind of rows (shape and dtype).
    last_chunks : ChunkReport or None
        How the last chunked call was split.
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        *,
        chunk_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        working_factor: float = 8.0,
        output_names: Sequence[str] | None = None,
        kind: str = "callable",
        output: str = "raw",
        name: str | None = None,
        probe_chunks: bool = True,
    ) -> None:
        if not callable(fn):
            raise InputError(describe("fn", "a callable", fn))
        if chunk_size is not None and (
            isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
            or chunk_size < 1
        ):
            raise InputError(
                describe("chunk_size", "a positive int or None", chunk_size,
                         "Pass e.g. chunk_size=1024, or None to derive it from memory_budget.")
            )
        if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, np.integer)) \
                or memory_budget < 1:
            raise InputError(describe("memory_budget", "a positive number of bytes", memory_budget))
        self.fn = fn
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.memory_budget = int(memory_budget)
        self.working_factor = float(working_factor)
        self.output_names = None if output_names is None else [str(n) for n in output_names]
        self.kind = kind
        self.output = output
        self.name = name or getattr(fn, "__qualname__", type(fn).__name__)
        self.n_calls = 0
        self.n_evaluated = 0
        self.max_chunk_seen = 0
        self.probe_chunks = bool(probe_chunks)
        self.tuned_chunk_sizes: dict[tuple[Any, ...], int] = {}
        self.last_chunks: ChunkReport | None = None

    def __repr__(self) -> str:
        return (
            f"Model(kind={self.kind!r}, output={self.output!r}, name={self.name!r}, "
            f"chunk_size={self.chunk_size})"
        )

    def chunk_size_for(self, batch: Any) -> int:
        """Rows per chunk for ``batch``: ``chunk_size`` or what the budget allows."""
        if self.chunk_size is not None:
            return self.chunk_size
        per_row = _row_bytes(batch, self.working_factor)
        return int(max(1, min(1_000_000, self.memory_budget // per_row)))

    def _call_chunk(self, chunk: Any) -> np.ndarray:
        rows = n_rows(chunk)
        self.n_calls += 1
        self.n_evaluated += rows
        self.max_chunk_seen = max(self.max_chunk_seen, rows)
        try:
            raw = self.fn(chunk)
        except (ModelError, ModelOutputError):
            raise  # already about the model (whylens' own wrappers check their outputs)
        except Exception as exc:
            raise ModelError(
                f"The model {self.name!r} raised {type(exc).__name__} on a chunk of {rows} "
                f"inputs: {exc}. Its own traceback is shown above; whylens passed the inputs "
                "unchanged."
            ) from exc
        return to_output_matrix(raw, rows, source=f"model {self.name!r}")

    def _row_key(self, sample: Any) -> tuple[Any, ...]:
        shape = getattr(sample, "shape", None)
        if shape is not None:
            return (type(sample).__name__, tuple(int(s) for s in shape[1:]),
                    str(getattr(sample, "dtype", "")))
        return (type(sample).__name__,)

    def __call__(
        self,
        batch: Any,
        *,
        progress: bool | None = None,
        callback: ProgressCallback | None = None,
    ) -> np.ndarray:
        """Evaluate the model on ``batch`` in chunks.

        Chunks hold ``chunk_size`` rows if one was given, else at most what
        ``memory_budget`` allows; a job of several such chunks (and at least
        :data:`PROBE_MIN_ROWS` rows) first times a few smaller sizes on its
        own first rows and goes on in the fastest (see :func:`run_chunked`).
        Pass ``chunk_size=...`` to :func:`~whylens.models.as_model` to fix it.

        Parameters
        ----------
        batch : ndarray, list or tensor of n inputs
        progress : bool, optional
            Show a tqdm bar. ``None``: only when stderr is a terminal and the
            work takes more than one chunk.
        callback : callable, optional
            ``callback(rows_done, rows_total)`` after every chunk; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` cancels.

        Returns
        -------
        ndarray of shape (n, n_outputs), float64

        Raises
        ------
        ModelError
            The model raised (its exception is chained).
        ModelOutputError
            The model returned an unusable output.
        """
        callback = checked_callback(callback)
        total = n_rows(batch)
        if total == 0:
            raise InputError(describe("batch", "at least one input row", batch))
        if self.chunk_size_for(batch) >= total:
            out = self._call_chunk(batch)
            if callback is not None:
                callback(total, total)
            return out
        return self.call_chunked(total, lambda start, stop: batch[start:stop], sample=batch,
                                 progress=progress, callback=callback)

    def call_chunked(
        self,
        total: int,
        make_chunk: Callable[[int, int], Any],
        *,
        sample: Any,
        progress: bool | None = None,
        callback: ProgressCallback | None = None,
        unit: str = "rows",
    ) -> np.ndarray:
        """Evaluate the model on ``total`` inputs built one chunk at a time.

        Parameters
        ----------
        total : int
            Number of inputs.
        make_chunk : callable
            ``make_chunk(start, stop) -> batch`` of inputs ``start..stop``.
        sample : batch
            A batch of the same kind of inputs (one row is enough), to size
            the chunks from ``memory_budget``.
        progress, callback
            As in :meth:`__call__`.
        unit : str, default="rows"
            What the progress bar counts.

        Returns
        -------
        ndarray of shape (total, n_outputs), float64

        Notes
        -----
        Without ``chunk_size``, the chunk size is chosen by a timing probe
        (:func:`run_chunked`) the first time this model sees rows of this
        shape and dtype, and reused afterwards (``tuned_chunk_sizes``);
        ``last_chunks`` reports the sizes of the last call.
        """
        callback = checked_callback(callback)
        cap = self.chunk_size_for(sample)
        key = self._row_key(sample)
        bar = None
        if total > cap and (progress or (progress is None and sys.stderr.isatty())):
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=f"whylens: {self.name}", unit=unit, leave=False)
        width: list[int] = []
        reported = [0]

        def work(start: int, stop: int) -> np.ndarray:
            part = self._call_chunk(make_chunk(start, stop))
            if width and part.shape[1] != width[0]:
                raise ModelOutputError(
                    describe(f"output of model {self.name!r}", f"{width[0]} outputs on every chunk",
                             got_text=f"{part.shape[1]} outputs on the chunk at row {start}")
                )
            width.append(part.shape[1])
            return part

        def on_chunk(done: int) -> None:
            if bar is not None:
                bar.update(done - reported[0])
            reported[0] = done
            if callback is not None:
                callback(done, total)

        try:
            parts, report = run_chunked(
                total, work, cap=cap, chunk_size=self.chunk_size,
                known=self.tuned_chunk_sizes.get(key) if self.probe_chunks else cap,
                on_chunk=on_chunk)
        finally:
            if bar is not None:
                bar.close()
        if report.probed:
            self.tuned_chunk_sizes[key] = report.chunk_size
        self.last_chunks = report
        return np.concatenate(parts, axis=0)

    predict = __call__

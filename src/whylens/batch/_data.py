"""Tables read in chunks: CSV and Parquet files (streamed, never whole), DataFrames, arrays.

A :class:`Source` knows its columns, its number of rows and a fingerprint of
its content, yields the rows of chunk ``i`` (``[i * chunk_rows, (i + 1) *
chunk_rows)``) as float64 matrices in order, and picks given rows (a
background sample) in one streaming pass.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from whylens.batch._deps import pyarrow
from whylens.errors import InputError, InputTypeError, describe
from whylens.models._frames import is_dataframe

__all__ = ["Source", "as_source", "file_digest"]

#: Bytes of a CSV block and rows of a Parquet batch read at a time.
CSV_BLOCK_BYTES = 1 << 22
PARQUET_BATCH_ROWS = 1 << 16
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def file_digest(path: Path) -> str:
    """BLAKE2b (128 bits) of a file's bytes, read in 4 MiB blocks."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


class Source:
    """A numeric table read in chunks of rows.

    Attributes
    ----------
    kind : {"csv", "parquet", "frame", "array"}
    columns : list of str
        The columns read, in the order handed to the model (see :meth:`select`).
    n_rows : int
    fingerprint : str
        A digest of the content (file bytes, or the frame's / array's values).
    description : str
        The path, or what object was given (for the manifest).
    """

    kind = "table"

    def __init__(self, columns: list[str], n_rows: int, fingerprint: str,
                 description: str, non_numeric: Sequence[str] = ()) -> None:
        self.all_columns = list(columns)
        self.columns = list(columns)
        self.n_rows = int(n_rows)
        self.fingerprint = fingerprint
        self.description = description
        self.non_numeric = list(non_numeric)
        self.text = False

    def select(self, names: Sequence[str]) -> None:
        """Read only ``names``, in this order (the model's columns)."""
        self.columns = list(names)

    def check_numeric(self) -> None:
        """Raise unless every column read holds numbers.

        Raises
        ------
        InputError
            Naming the non-numeric columns.
        """
        bad = [c for c in self.columns if c in self.non_numeric]
        if bad:
            raise InputError(describe("data", "numeric columns only", got_text=f"non-numeric "
                                      f"column(s) {bad}", fix="Encode them before explaining "
                                      "(or explain a text column with method='lime.text')."))

    def select_text(self, column: Any) -> None:
        """Read the one column ``column`` as text (rows become (n, 1) arrays of str).

        Raises
        ------
        InputError
            When the table has no such column.
        """
        if column is None:
            column = self.all_columns[0] if len(self.all_columns) == 1 else "text"
        if column not in self.all_columns:
            raise InputError(describe("text_column", f"one of the data's columns "
                                      f"{self.all_columns}", column,
                                      "Pass --param text_column=NAME."))
        self.columns = [str(column)]
        self.text = True

    # ------------------------------------------------------------ override
    def _blocks(self) -> Iterator[np.ndarray]:  # pragma: no cover - abstract
        """Every row in order, as float64 blocks of shape (rows, len(columns))."""
        raise NotImplementedError

    # ------------------------------------------------------------ derived
    def n_chunks(self, chunk_rows: int) -> int:
        """Number of chunks of ``chunk_rows`` rows (the last may be shorter)."""
        return max(1, math.ceil(self.n_rows / chunk_rows)) if self.n_rows else 0

    def chunks(self, chunk_rows: int, wanted: Callable[[int], bool]
               ) -> Iterator[tuple[int, int, int, np.ndarray]]:
        """Yield ``(index, start, stop, rows)`` of the chunks ``wanted(index)`` accepts.

        Raises
        ------
        InputError
            When the table holds another number of rows than it did when the
            job started (the file changed).
        """
        buffer: list[np.ndarray] = []
        held = index = seen = 0
        for block in self._blocks():
            buffer.append(block)
            held += block.shape[0]
            seen += block.shape[0]
            while held >= chunk_rows:
                rows = np.concatenate(buffer) if len(buffer) > 1 else buffer[0]
                chunk, rest = rows[:chunk_rows], rows[chunk_rows:]
                start = index * chunk_rows
                if wanted(index):
                    yield index, start, start + chunk_rows, np.ascontiguousarray(chunk)
                index += 1
                buffer = [rest] if rest.shape[0] else []
                held = rest.shape[0]
        if held:
            start = index * chunk_rows
            if wanted(index):
                rows = np.concatenate(buffer) if len(buffer) > 1 else buffer[0]
                yield index, start, start + held, np.ascontiguousarray(rows)
        if seen != self.n_rows:
            raise InputError(describe("data", f"the {self.n_rows} rows read when the job "
                                      "started", got_text=f"{seen} rows",
                                      fix="The file changed during the job; start again."))

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at the sorted indices ``rows``, in one streaming pass.

        Returns
        -------
        ndarray of shape (len(rows), len(columns))
        """
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((rows.shape[0], len(self.columns)), dtype=object if self.text else float)
        start = filled = 0
        for block in self._blocks():
            stop = start + block.shape[0]
            hi = np.searchsorted(rows, stop)
            if hi > filled:
                out[filled:hi] = block[rows[filled:hi] - start]
                filled = hi
            start = stop
            if filled == rows.shape[0]:
                break
        return out

    def read_all(self) -> np.ndarray:
        """Every row (for a small background table)."""
        blocks = list(self._blocks())
        if not blocks:
            return np.empty((0, len(self.columns)))
        return np.concatenate(blocks)


# ---------------------------------------------------------------- files
def _numeric_type(pa: Any, type_: Any) -> bool:
    return bool(pa.types.is_integer(type_) or pa.types.is_floating(type_)
                or pa.types.is_boolean(type_) or pa.types.is_decimal(type_))


def _arrow_block(batch: Any, columns: Sequence[str], text: bool = False) -> np.ndarray:
    if text:
        out = np.empty((batch.num_rows, 1), dtype=object)
        out[:, 0] = ["" if v is None else str(v) for v in batch.column(columns[0]).to_pylist()]
        return out
    out = np.empty((batch.num_rows, len(columns)))
    for j, name in enumerate(columns):
        column = batch.column(name)
        out[:, j] = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False) \
            if column.null_count == 0 else np.asarray(column.to_pylist(), dtype=np.float64)
    return out


def _csv_batches(path: Path, columns: Sequence[str] | None = None,
                 types: dict[str, Any] | None = None) -> Iterator[Any]:
    """Record batches of a CSV file, one block at a time.

    Read through a Python file object and without threads: with a path,
    pyarrow's streaming reader read ahead and its memory grew with the file.
    """
    _, pcsv, _, _ = pyarrow()
    read = pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False)
    convert = pcsv.ConvertOptions(include_columns=list(columns or []), column_types=types or {})
    with open(path, "rb") as handle, pcsv.open_csv(handle, read_options=read,
                                                   convert_options=convert) as reader:
        if columns is None:
            yield reader.schema
            return
        yield from reader


class CsvSource(Source):
    """A CSV file with a header row, streamed with pyarrow in blocks."""

    kind = "csv"

    def __init__(self, path: Path) -> None:
        pa, _, _, _ = pyarrow()
        self.path = path
        try:
            columns = list(next(_csv_batches(path)).names)
            count = sum(batch.num_rows for batch in _csv_batches(
                path, columns[:1], {columns[0]: pa.string()}))
        except pa.ArrowInvalid as exc:
            raise InputError(describe("data", "a CSV file with a header row", path,
                                      f"pyarrow could not read it: {exc}")) from exc
        super().__init__(columns, count, file_digest(path), str(path))

    def _blocks(self) -> Iterator[np.ndarray]:
        pa, _, _, _ = pyarrow()
        kind = pa.string() if self.text else pa.float64()
        types = {name: kind for name in self.columns}
        try:
            for batch in _csv_batches(self.path, self.columns, types):
                yield _arrow_block(batch, self.columns, self.text)
        except pa.ArrowInvalid as exc:
            raise InputError(describe("data", "a CSV table of numbers (the model's columns)",
                                      self.path, f"pyarrow: {exc}. Encode non-numeric columns "
                                      "before explaining.")) from exc


class ParquetSource(Source):
    """A Parquet file, read in record batches (row groups are never loaded whole)."""

    kind = "parquet"

    def __init__(self, path: Path) -> None:
        pa, _, pq, _ = pyarrow()
        self.path = path
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(describe("data", "a Parquet file", path,
                                      f"pyarrow could not read it: {exc}")) from exc
        schema = handle.schema_arrow
        bad = [f.name for f in schema if not _numeric_type(pa, f.type)]
        super().__init__(list(schema.names), handle.metadata.num_rows, file_digest(path),
                         str(path), bad)

    def _blocks(self) -> Iterator[np.ndarray]:
        _, _, pq, _ = pyarrow()
        # Buffered column streams without pre-buffering or read-ahead threads: with
        # pyarrow's defaults, memory grew with the file (315 MiB for a 240 MB file).
        handle = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 20)
        for batch in handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=self.columns,
                                         use_threads=False):
            yield _arrow_block(batch, self.columns, self.text)


# ---------------------------------------------------------------- in memory
class FrameSource(Source):
    """A pandas DataFrame (numbers; or one text column for text methods)."""

    kind = "frame"

    def __init__(self, frame: Any) -> None:
        import pandas as pd

        bad = [str(c) for c, t in zip(frame.columns, frame.dtypes, strict=True)
               if not isinstance(t, np.dtype) or t.kind not in "biuf"]
        self.frame = frame
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest = hashlib.blake2b(hashed.tobytes(), digest_size=16)
        digest.update(repr([str(c) for c in frame.columns]).encode())
        super().__init__([str(c) for c in frame.columns], len(frame), digest.hexdigest(),
                         f"DataFrame of shape {frame.shape}", bad)
        self._positions = {str(c): i for i, c in enumerate(frame.columns)}

    def _blocks(self) -> Iterator[np.ndarray]:
        index = [self._positions[name] for name in self.columns]
        step = PARQUET_BATCH_ROWS
        for start in range(0, self.n_rows, step):
            part = self.frame.iloc[start:start + step, index]
            if self.text:
                out = np.empty((part.shape[0], 1), dtype=object)
                out[:, 0] = ["" if v is None else str(v) for v in part.iloc[:, 0].tolist()]
                yield out
            else:
                yield part.to_numpy(dtype=np.float64)


class ArraySource(Source):
    """A 2-D array of numbers."""

    kind = "array"

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim != 2 or array.dtype.kind not in "biuf":
            raise InputError(describe("data", "a 2-D numeric array (rows, columns)", array))
        self.array = array
        digest = hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16)
        digest.update(f"{array.shape}{array.dtype}".encode())
        super().__init__([f"x{j}" for j in range(array.shape[1])], array.shape[0],
                         digest.hexdigest(), f"array of shape {array.shape}")

    def rename(self, names: Sequence[str]) -> None:
        """Give the columns names (the model's)."""
        self.all_columns = list(names)
        self.columns = list(names)

    def _blocks(self) -> Iterator[np.ndarray]:
        index = [self.all_columns.index(name) for name in self.columns]
        step = PARQUET_BATCH_ROWS
        for start in range(0, self.n_rows, step):
            yield np.asarray(self.array[start:start + step][:, index], dtype=np.float64)


def as_source(data: Any, argument: str = "data") -> Source:
    """Wrap ``data`` (a CSV/Parquet path, a DataFrame or a 2-D array) as a :class:`Source`.

    Raises
    ------
    InputError
        A path that does not exist or is neither CSV nor Parquet; a table with
        non-numeric columns.
    InputTypeError
        Anything else.
    """
    if isinstance(data, (str, Path)):
        path = Path(data)
        kind = _SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise InputError(describe(argument, "a .csv or .parquet file", str(data)))
        if not path.is_file():
            raise InputError(describe(argument, "an existing file", str(data)))
        return CsvSource(path) if kind == "csv" else ParquetSource(path)
    if is_dataframe(data):
        return FrameSource(data)
    if isinstance(data, np.ndarray):
        return ArraySource(data)
    raise InputTypeError(describe(argument, "a CSV or Parquet path, a pandas DataFrame or a "
                                  "2-D numpy array", data))


def sample_rows(n_rows: int, size: Any, seed: int) -> np.ndarray:
    """Sorted row indices of a background sample, drawn with the job's seed.

    Raises
    ------
    InputError
        When ``size`` is not an int >= 1.
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InputError(describe("background", "a number of rows >= 1 or a table path", size))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6B67]))
    size = min(int(size), n_rows)
    return np.sort(rng.choice(n_rows, size=size, replace=False))

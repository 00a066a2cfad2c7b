"""Tables masked against a background: interventional masking of table rows.

A removed feature takes, in turn, the value of every row of a (weighted)
background table ``B``; the model's outputs on those ``|B|`` rows are averaged
per mask, ``v(S) = sum_b w_b f(x_S, b_{-S})``. This is how SHAP's maskers see
a table (:class:`whylens.shap.TabularMasker` is a :class:`TabularBackground`).

- :class:`TabularBackground`: the background, its weights, feature names and,
  when it came as a pandas DataFrame, its schema (the model is then called
  with DataFrames of the same columns and dtypes). It evaluates one design of
  masks for many rows at once (:meth:`TabularBackground.evaluate`), through
  :meth:`whylens.models.Model.call_chunked`, so batch size, memory budget,
  progress and cancellation are the runner's.
- :class:`TabularRepresentation`: one row over a background, the
  :class:`~whylens.representations.Representation` protocol
  (``apply(Z) -> n_masks * |B|`` model rows, :meth:`~TabularRepresentation.mean`
  averages them per mask).

Every model input is built from bit patterns: ``(x & M) | (b & ~M)`` on the
float64 rows viewed as uint64, with ``M`` all ones where a mask keeps a
feature, so each input is exactly ``x_j`` or ``b_j`` (signed zeros and NaN
payloads included) at two branch-free passes per row (``np.where`` on a random
mask runs at a fifth of that speed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._validation import check_names
from whylens.errors import InputError, describe
from whylens.models import Model
from whylens.models._frames import TableSchema, is_dataframe, table_values
from whylens.representations._table_checks import check_rows, check_table

__all__ = [
    "MASK_BYTES",
    "TabularBackground",
    "TabularRepresentation",
    "check_rows",
    "check_table",
]

#: Bytes of the two masks (uint64, one row per mask and background row) built at a
#: time; every explained row uses a block of masks before the next block is built.
MASK_BYTES = 4 << 20

#: Model rows whose inputs one broadcast of the explained row covers in :func:`_fill_bits`
#: (a long inner loop for numpy; the row tiled this often stays in L1).
_FILL_ROWS = 64
#: Output bytes :func:`_fill_rows` writes per step (both passes while it is in cache).
_FILL_BYTES = 1 << 20
_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: Masks per matrix product of :meth:`TabularBackground.mean` (a fixed shape).
MEAN_BLOCK = 512


def _design_bits(Z: np.ndarray, Bbits: np.ndarray, M: np.ndarray, Bm: np.ndarray) -> None:
    """Fill the masks of design ``Z`` (m, d) against a background (nb, d) of uint64 bits.

    ``M`` and ``Bm`` are (m * nb, d) uint64, one row per (mask, background
    row): ``M`` all ones where the mask keeps the feature, ``Bm`` the
    background's bits where it does not and 0 where it does.
    """
    m, d = Z.shape
    nb = Bbits.shape[0]
    M3, Bm3 = M.reshape(m, nb, d), Bm.reshape(m, nb, d)
    np.multiply(Z[:, None, :], _ALL_ONES, out=M3)
    np.invert(M3, out=Bm3)
    np.bitwise_and(Bm3, Bbits[None], out=Bm3)


def _fill_bits(out: np.ndarray, x: np.ndarray, M: np.ndarray, Bm: np.ndarray) -> None:
    """``out = (x & M) | Bm`` row by row: the inputs of one row's masks, exactly.

    ``out``, ``M``, ``Bm``: (r, d) uint64, C-contiguous; ``x``: the explained
    row as (d,) float64.
    """
    rows, d = out.shape
    g = min(rows, _FILL_ROWS)
    xl = np.tile(np.ascontiguousarray(x).view(np.uint64), g)
    full = rows // g * g
    if full:
        o = out[:full].reshape(-1, g * d)
        np.bitwise_and(M[:full].reshape(-1, g * d), xl, out=o)
        np.bitwise_or(o, Bm[:full].reshape(-1, g * d), out=o)
    if full < rows:
        o = out[full:]
        np.bitwise_and(M[full:], xl[:d], out=o)
        np.bitwise_or(o, Bm[full:], out=o)


def _fill_rows(out: np.ndarray, X: np.ndarray, M: np.ndarray, Bm: np.ndarray, nb: int) -> None:
    """:func:`_fill_bits` for r rows ``X`` (r, d) on the same masks, in two numpy calls.

    ``out``: (r * q, d) uint64; ``M``, ``Bm``: (q, d) uint64 with q a multiple of ``nb``.
    Each row is tiled ``nb`` times so the inner loop runs over ``nb * d`` elements.
    """
    r, d = X.shape
    width = nb * d
    o = out.reshape(r, -1, width)
    xt = np.tile(np.ascontiguousarray(X).view(np.uint64), (1, nb))[:, None, :]
    M3, Bm3 = M.reshape(1, -1, width), Bm.reshape(1, -1, width)
    # A few rows at a time, so that the second pass finds the first one's output in cache.
    step = max(1, _FILL_BYTES // max(1, M.nbytes))
    for s in range(0, r, step):
        np.bitwise_and(M3, xt[s : s + step], out=o[s : s + step])
        np.bitwise_or(o[s : s + step], Bm3, out=o[s : s + step])


def _runs(pieces: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int, int]]:
    """Group pieces ``(row, a, b, block)`` of consecutive rows on the same masks.

    Returns ``(first row, number of rows, a, b, block)`` in the pieces' order.
    """
    runs: list[tuple[int, int, int, int, int]] = []
    for i, a, b, c0 in pieces:
        if runs:
            i0, r, a0, b0, c00 = runs[-1]
            if (a0, b0, c00) == (a, b, c0) and i0 + r == i:
                runs[-1] = (i0, r + 1, a, b, c0)
                continue
        runs.append((i, 1, a, b, c0))
    return runs


class _PairChunk:
    """A chunk of (row, mask) pairs for the pair-level model: ``shape[0]`` pairs.

    ``rows`` holds the model inputs: ``n_head`` rows to evaluate as they are,
    then ``|B|`` rows per pair.
    """

    __slots__ = ("n_head", "rows", "shape")
    dtype = np.dtype(np.float64)

    def __init__(self, rows: np.ndarray, n_head: int, shape: tuple[int, int, int]) -> None:
        self.rows, self.n_head, self.shape = rows, n_head, shape


class TabularBackground:
    """Background rows (weighted) that removed features are filled from.

    Parameters
    ----------
    data : array-like or DataFrame of shape (n_background, n_features)
        Numeric, finite. A DataFrame's columns become the feature names and
        its schema is kept: the model is called with DataFrames of the same
        columns and dtypes.
    weights : array-like of shape (n_background,), optional
        Non-negative weights (normalised to sum 1); default equal.
    names : sequence of str, optional
        Feature names (default: a DataFrame's columns, else ``x0, x1, ...``).
    schema : TableSchema, optional
        The DataFrame schema to call the model with (taken from ``data`` when
        it is a DataFrame).

    Attributes
    ----------
    data : ndarray of shape (n_background, n_features), float64
    weights : ndarray of shape (n_background,)
    names : list of str
    schema : TableSchema or None

    Raises
    ------
    InputError, InputTypeError
        Bad ``data``, ``weights`` or ``names``.
    """

    def __init__(self, data: Any, weights: Any = None, *, names: Sequence[str] | None = None,
                 schema: TableSchema | None = None, argument: str = "background") -> None:
        values, frame_schema = table_values(data, argument)
        B = check_table(values, argument)
        if weights is None:
            w = np.full(B.shape[0], 1.0 / B.shape[0])
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.shape[0] != B.shape[0] or not np.isfinite(w).all() or (w < 0).any() \
                    or w.sum() <= 0:
                raise InputError(
                    describe("weights", f"{B.shape[0]} finite non-negative weights, not all 0",
                             w)
                )
            w = w / w.sum()
        self.schema = frame_schema if schema is None else schema
        if self.schema is not None and len(self.schema.columns) != B.shape[1]:
            raise InputError(describe("schema", f"{B.shape[1]} columns",
                                      got_text=f"{len(self.schema.columns)} columns"))
        if names is None and self.schema is not None:
            names = self.schema.names
        self.data = B
        self.weights = w
        self.names = check_names("feature_names", names, B.shape[1], "x")

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return int(self.data.shape[1])

    @property
    def n_background(self) -> int:
        """Number of background rows (model rows per mask)."""
        return int(self.data.shape[0])

    # ------------------------------------------------------------------ rows
    def to_model(self, rows: np.ndarray) -> Any:
        """Float rows (n, n_features) as the model takes them: a DataFrame with the schema."""
        return rows if self.schema is None else self.schema.to_frame(rows)

    def rows(self, X: Any, argument: str = "X") -> tuple[np.ndarray, bool]:
        """Rows to explain as float64 (n, n_features), and whether a single 1-D row came.

        A DataFrame is matched to the background's columns by name.

        Raises
        ------
        InputTypeError
            Non-numeric values.
        InputError
            Wrong number of columns, missing columns, NaN or infinity.
        """
        if is_dataframe(X) and self.schema is not None:
            missing = [c for c in self.schema.columns if c not in X.columns]
            if missing:
                raise InputError(describe(
                    argument, f"the background's columns {self.schema.names[:10]}",
                    got_text=f"a DataFrame without {[str(c) for c in missing[:5]]}",
                    fix="Explain rows with the columns the background has."))
            X = X[self.schema.columns]
        if is_dataframe(X):
            X, _ = table_values(X, argument)
        return check_rows(X, self.n_features, argument)

    def representation(self, x: Any) -> TabularRepresentation:
        """The :class:`TabularRepresentation` of row ``x`` over this background."""
        return TabularRepresentation(x, self)

    # --------------------------------------------------------------- evaluation
    def fill(self, x: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """Rows of masks ``Z`` (m, n_features) for row ``x``: (m * n_background, n_features).

        Row ``i * n_background + b`` is ``x`` where ``Z[i]`` keeps a feature and
        background row ``b`` elsewhere, bit for bit.
        """
        Z = np.asarray(Z, dtype=bool)
        nb, d = self.data.shape
        out = np.empty((Z.shape[0] * nb, d))
        if Z.shape[0]:
            M = np.empty(out.shape, np.uint64)
            Bm = np.empty(out.shape, np.uint64)
            _design_bits(Z, self.data.view(np.uint64), M, Bm)
            _fill_bits(out.view(np.uint64), np.asarray(x, dtype=np.float64), M, Bm)
        return out

    def mean(self, outputs: np.ndarray) -> np.ndarray:
        """Weighted mean over the background of each mask's rows.

        Parameters
        ----------
        outputs : ndarray of shape (m * n_background, n_outputs)
            Model outputs in the order of :meth:`fill`.

        Returns
        -------
        ndarray of shape (m, n_outputs)
            One matrix product ``(m, nb * k) @ kron(w, I_k)`` per block of
            :data:`MEAN_BLOCK` masks, the last block padded with zeros: every
            product has the same shape, so a mask's value does not depend on
            how many masks a chunk held (a BLAS product's rows can change in
            the last bits with the number of rows).
        """
        nb, w = self.n_background, self.weights
        k = outputs.shape[-1]
        Y = np.asarray(outputs, dtype=np.float64).reshape(-1, nb * k)
        wk = np.kron(w[:, None], np.eye(k))  # (nb * k, k)
        m = Y.shape[0]
        out = np.empty((m, k))
        full = m // MEAN_BLOCK * MEAN_BLOCK
        for s in range(0, full, MEAN_BLOCK):
            np.matmul(Y[s : s + MEAN_BLOCK], wk, out=out[s : s + MEAN_BLOCK])
        if full < m:
            pad = np.zeros((MEAN_BLOCK, nb * k))
            pad[: m - full] = Y[full:]
            out[full:] = (pad @ wk)[: m - full]
        return out

    def outputs(self, model: Model, rows: np.ndarray, *, progress: bool | None = False,
                callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """The model at float ``rows`` (n, n_features) as they are, (n, n_outputs)."""
        if self.schema is None:  # one call when the rows fit (no chunk bookkeeping)
            return model(rows, progress=progress, callback=callback)
        return model.call_chunked(rows.shape[0], lambda a, b: self.to_model(rows[a:b]),
                                  sample=rows[:1], progress=progress, callback=callback)

    def base_value(self, model: Model) -> np.ndarray:
        """Weighted mean model output over the background, shape (n_outputs,)."""
        return self.weights @ self.outputs(model, self.data)

    def evaluate(self, model: Model, X: np.ndarray, Z: np.ndarray, *,
                 head: np.ndarray | None = None, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """``v`` of every mask of one design ``Z`` for every row of ``X``.

        The (row, mask) pairs go to :meth:`Model.call_chunked` as one job, in
        chunks of pairs whose ``|B|`` rows each fit the model's ``batch_size``
        (``chunk_size``) or ``memory_budget``; each chunk's outputs are
        averaged over the background as soon as they come, so memory stays
        that of a chunk. Pairs come block of masks by block (:data:`MASK_BYTES`
        of masks) and row by row within a block, so one call serves several
        rows and the masks are built once per block. The ``head`` rows (e.g.
        the explained rows and the background, for the outputs and the base
        value) ride at the front of the first call. No model call exceeds the
        model's ``chunk_size``, and the values do not depend on the chunk sizes
        (for a model that scores rows independently).

        Parameters
        ----------
        model : Model
        X : ndarray of shape (n_rows, n_features)
        Z : ndarray of bool, shape (m, n_features)
        head : ndarray of shape (n_head, n_features), optional
            Rows to evaluate as they are, in the first call.
        progress : bool, optional
            A tqdm bar over the pairs (default: when stderr is a terminal and
            the work takes several chunks).
        callback : callable, optional
            ``callback(pairs_done, pairs_total)`` after every chunk; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` stops.

        Returns
        -------
        v : ndarray of shape (n_rows, m, n_outputs)
        head_out : ndarray of shape (n_head, n_outputs) or None

        Raises
        ------
        Cancelled
            The callback stopped the work.
        ModelError, ModelOutputError
            The model raised or returned unusable output.
        """
        B = self.data
        nb, d = B.shape
        X = np.ascontiguousarray(X, dtype=np.float64)
        Z = np.asarray(Z, dtype=bool)
        n, m = X.shape[0], Z.shape[0]
        n_head = 0 if head is None else int(head.shape[0])
        if m == 0 or n == 0:
            head_out = None if not n_head else self.outputs(model, head, callback=callback)
            k = 0 if head_out is None else head_out.shape[1]
            return np.zeros((n, m, k)), head_out
        block = max(1, min(m, MASK_BYTES // (16 * nb * d)))
        Bbits = B.view(np.uint64)
        M = np.empty((block * nb, d), np.uint64)
        Bm = np.empty((block * nb, d), np.uint64)
        masks_of = [-1]  # the block of masks M and Bm hold now

        def make_chunk(start: int, stop: int) -> _PairChunk:
            pieces, p = [], start
            while p < stop:
                c0 = p // (n * block) * block
                length = min(block, m - c0)
                i, off = divmod(p - n * c0, length)
                take = min(length - off, stop - p)
                pieces.append((i, c0 + off, c0 + off + take, c0))
                p += take
            hd = n_head if start == 0 else 0
            rows = np.empty((hd + (stop - start) * nb, d))  # fresh: the model may keep it
            if hd:
                rows[:hd] = head
            bits = rows.view(np.uint64)
            at = hd
            for i, r, a, b, c0 in _runs(pieces):
                if c0 != masks_of[0]:
                    c1 = min(m, c0 + block)
                    _design_bits(Z[c0:c1], Bbits, M[: (c1 - c0) * nb], Bm[: (c1 - c0) * nb])
                    masks_of[0] = c0
                r0, r1 = (a - c0) * nb, (b - c0) * nb
                seg = bits[at : at + r * (r1 - r0)]
                if r == 1:
                    _fill_bits(seg, X[i], M[r0:r1], Bm[r0:r1])
                else:  # many rows on the same masks (small designs): one broadcast
                    _fill_rows(seg, X[i : i + r], M[r0:r1], Bm[r0:r1], nb)
                at += r * (r1 - r0)
            return _PairChunk(rows, hd, (stop - start, nb, d))

        head_out: list[np.ndarray] = []

        def run(chunk: _PairChunk) -> np.ndarray:
            rows = chunk.rows
            out = self.outputs(model, rows)
            if chunk.n_head:
                head_out.append(out[: chunk.n_head])
                out = out[chunk.n_head :]
            return self.mean(out)

        pairs = Model(run, chunk_size=None if model.chunk_size is None
                      else max(1, model.chunk_size // nb),
                      memory_budget=model.memory_budget, working_factor=model.working_factor,
                      output_names=model.output_names, kind=model.kind, output=model.output,
                      name=model.name, probe_chunks=False)
        V = pairs.call_chunked(n * m, make_chunk, sample=np.empty((1, nb, d)),
                               progress=progress, callback=callback, unit="coalitions")
        k = V.shape[1]
        v = np.empty((n, m, k))
        for c0 in range(0, m, block):  # pairs are block-major: scatter back per block
            c1 = min(m, c0 + block)
            v[:, c0:c1] = V[n * c0 : n * c1].reshape(n, c1 - c0, k)
        return v, (head_out[0] if head_out else None)


class TabularRepresentation:
    """One table row over a background: the :class:`Representation` of a row.

    Feature j kept: the row's value; removed: each background row's value in
    turn. :meth:`apply` gives ``n_masks * n_background`` model rows (mask-major),
    :meth:`mean` averages their outputs per mask, :meth:`evaluate` does both
    through the runner with bounded memory.

    Parameters
    ----------
    instance : array-like of shape (n_features,)
        The explained row.
    background : TabularBackground or array-like/DataFrame of shape (n_background, n_features)
    weights, names, schema
        As :class:`TabularBackground`, when ``background`` is not one already.

    Raises
    ------
    InputError, InputTypeError
        A bad background or a row of another width, with NaN or infinity.
    """

    def __init__(self, instance: Any, background: Any, weights: Any = None, *,
                 names: Sequence[str] | None = None, schema: TableSchema | None = None) -> None:
        if not isinstance(background, TabularBackground):
            background = TabularBackground(background, weights, names=names, schema=schema)
        self.background = background
        rows, single = background.rows(instance, "instance")
        if not single and rows.shape[0] != 1:
            raise InputError(describe("instance", "one row", got_text=f"{rows.shape[0]} rows"))
        self.row = rows[0]

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return self.background.n_features

    @property
    def names(self) -> list[str]:
        """The column names."""
        return list(self.background.names)

    @property
    def instance(self) -> Any:
        """The row as the model takes it: a one-row DataFrame with the schema, else (1, d)."""
        return self.background.to_model(self.row[None, :].copy())

    @property
    def rows_per_mask(self) -> int:
        """Model rows per mask (the background's rows)."""
        return self.background.n_background

    def apply(self, Z: np.ndarray) -> Any:
        """Model inputs of masks ``Z`` (m, n_features): ``m * n_background`` rows, mask-major."""
        return self.background.to_model(self.background.fill(self.row, Z))

    def mean(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs of :meth:`apply`'s rows averaged per mask, (m, n_outputs)."""
        return self.background.mean(outputs)

    def evaluate(self, model: Model, Z: np.ndarray, *, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """``v(Z)``: the background-averaged model output of every mask, (m, n_outputs).

        Through :meth:`TabularBackground.evaluate` (chunks, progress, cancellation).
        """
        return self.background.evaluate(model, self.row[None, :], Z, progress=progress,
                                        callback=callback)[0][0]

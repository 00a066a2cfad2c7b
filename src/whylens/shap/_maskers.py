"""Maskers: how a coalition of kept features becomes model inputs.

A masker turns one instance into a :class:`Game`: a set function
``v(Z) -> outputs`` evaluated on a whole chunk of coalitions at once. Every
SHAP explainer in :mod:`whylens.shap` only ever sees games, so tables, text
and images share one solver each.

- :class:`TabularMasker` (interventional): a removed feature takes the values
  of a background sample; ``v(S)`` is the (weighted) mean of the model over
  the background, ``v(S) = sum_b w_b f(x_S, b_{-S})``.
- :class:`TextMasker`: a removed token is replaced by ``mask_string``
  (positional), reusing :class:`whylens.representations.text.TextRepresentation`.
- :class:`ImageMasker`: a removed superpixel (or grid cell) shows a fill
  value, its mean colour or a blurred copy, reusing
  :class:`whylens.representations.image.ImageRepresentation`.

Non-tabular maskers share one small contract: ``split(X) -> (items, single)``,
``representation(item)``, ``game(rep, model)`` and ``features(reps, width)``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._validation import check_names, check_positive_int, check_random_state
from whylens._workspace import scratch
from whylens.errors import InputError, InputTypeError, ModelOutputError, describe
from whylens.explanation import Features
from whylens.models import Model

__all__ = [
    "BackgroundSizeWarning",
    "Game",
    "ImageMasker",
    "TabularMasker",
    "TextMasker",
    "summarize_background",
]

#: Bytes of inputs per call that :meth:`TabularMasker.evaluate_design` aims at (32 MiB,
#: what the default memory budget allows: 349k rows of 12 features). Large calls
#: amortise a model's per-call cost (0.3-0.4 ms of input checks for scikit-learn, 11 ms
#: for a 100-tree forest); with the inputs built as below, 4, 8 and 32 MiB calls cost
#: the same per row on a logistic regression (benchmarks/README.md).
CALL_BYTES = 32 << 20

#: Bytes of the two masks (uint64, one row per coalition and background row) that
#: :meth:`TabularMasker.evaluate_design` builds at a time.
MASK_BYTES = 4 << 20

#: A model slower than this per row gets calls of its full chunk instead (per-call
#: overhead, e.g. a forest's, then matters more than the cache).
SLOW_MODEL_SECONDS_PER_ROW = 1e-6

#: Background rows above which :class:`TabularMasker` summarises automatically.
MAX_BACKGROUND = 100


#: Model rows whose inputs one broadcast of the explained row covers in :func:`_fill_bits`
#: (a long inner loop for numpy; the row tiled this often stays in L1).
_FILL_ROWS = 64
#: Output bytes :func:`_fill_rows` writes per step (both passes while it is in cache).
_FILL_BYTES = 1 << 20
_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _design_bits(Z: np.ndarray, Bbits: np.ndarray, M: np.ndarray, Bm: np.ndarray) -> None:
    """Fill the masks of design ``Z`` (m, d) against a background (nb, d) of uint64 bits.

    ``M`` and ``Bm`` are (m * nb, d) uint64, one row per (coalition, background
    row): ``M`` all ones where the coalition keeps the feature, ``Bm`` the
    background's bits where it does not and 0 where it does.
    """
    m, d = Z.shape
    nb = Bbits.shape[0]
    M3, Bm3 = M.reshape(m, nb, d), Bm.reshape(m, nb, d)
    np.multiply(Z[:, None, :], _ALL_ONES, out=M3)
    np.invert(M3, out=Bm3)
    np.bitwise_and(Bm3, Bbits[None], out=Bm3)


def _fill_bits(out: np.ndarray, x: np.ndarray, M: np.ndarray, Bm: np.ndarray) -> None:
    """``out = (x & M) | Bm`` row by row: the inputs of one row's coalitions, exactly.

    ``out``, ``M``, ``Bm``: (r, d) uint64, C-contiguous; ``x``: the explained
    row as (d,) float64 or uint64.
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
    """:func:`_fill_bits` for r rows ``X`` (r, d) on the same coalitions, in two numpy calls.

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
    """Group pieces ``(row, a, b, block)`` of consecutive rows on the same coalitions.

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


class BackgroundSizeWarning(UserWarning):
    """A background was summarised because it would make every evaluation slow."""


def check_background(background: Any, argument: str = "background") -> np.ndarray:
    """Return ``background`` as a finite float64 matrix (n_rows, n_features).

    Raises
    ------
    InputTypeError
        Not numeric.
    InputError
        Not 2-D, empty, or with NaN / infinity.
    """
    if hasattr(background, "to_numpy"):  # a pandas DataFrame
        background = background.to_numpy()
    try:
        B = np.asarray(background, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            describe(argument, "a numeric 2-D array (n_rows, n_features)", background,
                     "Encode categorical columns as numbers first.")
        ) from exc
    if B.ndim == 1:
        B = B[None, :]
    if B.ndim != 2 or B.shape[0] < 1 or B.shape[1] < 1:
        raise InputError(
            describe(argument, "a 2-D array with at least one row and one column",
                     got_text=f"shape {B.shape}",
                     fix="Pass e.g. X_train[:100] or whylens.shap.summarize_background(X, 10).")
        )
    bad = ~np.isfinite(B)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        raise InputError(
            describe(argument, "finite values", got_text=f"NaN or infinity in column(s) "
                     f"{cols[:10].tolist()}", fix="Impute missing values first.")
        )
    return B


def summarize_background(
    X: Any, k: int = 10, *, random_state: int | np.random.Generator | None = 0
) -> TabularMasker:
    """Summarise a background table by weighted k-means.

    Runs k-means on ``X`` and keeps the ``k`` cluster centres, each weighted by
    the share of rows in its cluster (as ``shap.kmeans``). The weighted mean
    of the centres equals the mean of ``X``, so a linear model's base value is
    unchanged.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
    k : int, default=10
        Number of centres; ``k >= n_rows`` keeps ``X`` itself with equal weights.
    random_state : int or numpy.random.Generator, default=0

    Returns
    -------
    TabularMasker
        With ``data`` of shape (k, n_features) and ``weights`` of shape (k,)
        summing to 1.

    Raises
    ------
    InputError, InputTypeError
        For a bad ``X`` or ``k``.
    """
    X = check_background(X, "X")
    k = check_positive_int("k", k)
    if k >= X.shape[0]:
        return TabularMasker(X, max_background=None)
    from sklearn.cluster import KMeans

    rng = check_random_state(random_state)
    seed = int(rng.integers(0, 2**31 - 1))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(X)
    counts = np.bincount(km.labels_, minlength=k).astype(np.float64)
    # Centres recomputed as exact cluster means, so the weighted mean is X's mean.
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, km.labels_, X)
    keep = counts > 0
    centres = sums[keep] / counts[keep, None]
    return TabularMasker(centres, weights=counts[keep] / counts.sum(), max_background=None)


class Game:
    """One instance's coalition game ``v(Z)``, evaluated chunk by chunk.

    Parameters
    ----------
    n_features : int
    evaluate : callable
        ``evaluate(Z) -> ndarray (m, k)`` for a boolean chunk ``Z`` (m, n_features).
    block : int
        Coalitions per call of ``evaluate`` (bounds the memory of built inputs).

    Attributes
    ----------
    n_evals : int
        Coalitions evaluated so far.
    """

    def __init__(self, n_features: int, evaluate: Any, block: int) -> None:
        self.n_features = int(n_features)
        self._evaluate = evaluate
        self.block = max(1, int(block))
        self.n_evals = 0

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """Return ``v`` at every coalition (row) of ``Z``.

        Parameters
        ----------
        Z : ndarray of bool, shape (m, n_features)
            True keeps the instance's feature.

        Returns
        -------
        ndarray of shape (m, n_outputs), float64
        """
        Z = np.asarray(Z, dtype=bool)
        m = Z.shape[0]
        self.n_evals += m
        if m <= self.block:
            return self._evaluate(Z)
        return np.concatenate(
            [self._evaluate(Z[s : s + self.block]) for s in range(0, m, self.block)], axis=0
        )


class TabularMasker:
    """Interventional masking of table rows with a (weighted) background.

    Parameters
    ----------
    background : array-like of shape (n_background, n_features)
        Reference rows. A removed feature takes, in turn, the value of every
        background row; the model's outputs are averaged with ``weights``.
    weights : array-like of shape (n_background,), optional
        Non-negative weights (normalised to sum 1); default equal.
    max_background : int or None, default=100
        Above this many rows the background is summarised with
        :func:`summarize_background` (``max_background`` centres) and a
        :class:`BackgroundSizeWarning` is issued. ``None`` never summarises.
    feature_names : sequence of str, optional

    Attributes
    ----------
    data : ndarray of shape (n_background, n_features)
    weights : ndarray of shape (n_background,)
    feature_names : list of str
    """

    kind = "tabular"

    def __init__(self, background: Any, weights: Any = None, *,
                 max_background: int | None = MAX_BACKGROUND,
                 feature_names: Sequence[str] | None = None) -> None:
        columns = list(background.columns) if hasattr(background, "columns") else None
        B = check_background(background)
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
        if max_background is not None and B.shape[0] > check_positive_int(
                "max_background", max_background):
            warnings.warn(
                f"background: {B.shape[0]} rows would multiply every model evaluation by "
                f"{B.shape[0]}; summarised to {max_background} weighted k-means centres. Pass "
                "whylens.shap.summarize_background(X, k) yourself, or max_background=None to "
                "keep every row.", BackgroundSizeWarning, stacklevel=3)
            summary = summarize_background(B, max_background)
            B, w = summary.data, summary.weights
        self.data = B
        self.weights = w
        if feature_names is None and columns is not None:
            feature_names = [str(c) for c in columns]
        self.feature_names = check_names("feature_names", feature_names, B.shape[1], "x")

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return int(self.data.shape[1])

    def base_value(self, model: Model) -> np.ndarray:
        """Weighted mean model output over the background, shape (n_outputs,)."""
        return self.weights @ model(self.data)

    def game(self, x: np.ndarray, model: Model) -> Game:
        """The game of row ``x``: ``v(S) = sum_b w_b f(x_S, b_{-S})``.

        Parameters
        ----------
        x : ndarray of shape (n_features,)
        model : Model

        Returns
        -------
        Game
        """
        B, w = self.data, self.weights
        nb, d = B.shape
        rows = model.chunk_size_for(B)
        block = max(1, rows // nb)

        def evaluate(Z: np.ndarray) -> np.ndarray:
            m = Z.shape[0]
            inputs = np.where(Z[:, None, :], x, B[None, :, :]).reshape(m * nb, d)
            out = model(inputs, progress=False)
            return np.tensordot(out.reshape(m, nb, -1), w, axes=([1], [0]))

        return Game(d, evaluate, block)

    def evaluate_design(self, X: np.ndarray, Z: np.ndarray, model: Model, *,
                        head: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray | None]:
        """``v`` of every coalition of one design ``Z`` for every row of ``X``.

        The (row, coalition) pairs are packed into model calls, block of
        coalitions by block (:data:`MASK_BYTES` of masks) and row by row within a
        block, so one call serves several rows; the ``head`` rows (e.g. the
        explained rows and the background, for the outputs and the base value)
        ride at the front of the first call. Calls hold :data:`CALL_BYTES` of
        inputs or the model's chunk, whichever is smaller; when the chunk is
        larger and the first call shows a model slower than
        :data:`SLOW_MODEL_SECONDS_PER_ROW`, the rest go in calls of the full
        chunk (fewer calls: a forest pays a fixed cost per call). No call
        exceeds the model's chunk, and the values do not depend on the call
        sizes.

        A call's inputs are bit patterns: ``(x & M) | (b & ~M)`` on the
        float64 rows viewed as uint64, with ``M`` all ones where the coalition
        keeps a feature, so each input is exactly ``x_j`` or ``b_j`` (signed
        zeros and NaN payloads included) at two branch-free passes per row
        (``np.where`` on a random mask runs at a fifth of that speed). ``M``
        and the background part ``b & ~M`` are built once per design and
        shared by every row.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        Z : ndarray of bool, shape (m, n_features)
        model : Model
        head : ndarray of shape (n_head, n_features), optional
            Rows to evaluate as they are, in the first call.

        Returns
        -------
        v : ndarray of shape (n_rows, m, n_outputs)
        head_out : ndarray of shape (n_head, n_outputs) or None
        """
        B, w = self.data, self.weights
        nb, d = B.shape
        n, m = X.shape[0], Z.shape[0]
        chunk = model.chunk_size_for(B)
        call_rows = max(1, CALL_BYTES // (8 * d))
        per_call = max(1, min(chunk, call_rows) // nb)  # (row, coalition) pairs per call
        n_head = 0 if head is None else head.shape[0]
        head_out = None
        if n_head and (n_head + nb > chunk or m == 0):  # the head cannot share a call
            head_out, n_head = model(head, progress=False), 0
        if m == 0:
            return np.zeros((n, 0, 0 if head_out is None else head_out.shape[1])), head_out
        X = np.ascontiguousarray(X)
        Bbits = np.ascontiguousarray(B).view(np.uint64)
        # Masks are built for a block of coalitions at a time and used by every
        # row before the next block (block-major order), so they stay bounded.
        block = max(1, min(m, MASK_BYTES // (16 * nb * d)))
        segments = [(i, c0, min(m, c0 + block)) for c0 in range(0, m, block) for i in range(n)]
        v = np.empty((n * m, 0))
        wk = v
        first, s_at, s_off, masks_of = True, 0, 0, -1
        with scratch((block * nb, d), np.uint64, "shap.keep") as M, \
                scratch((block * nb, d), np.uint64, "shap.background") as Bm:
            while s_at < len(segments):
                cap = per_call if not n_head else max(1, (per_call * nb - n_head) // nb)
                pieces, pairs = [], 0
                while s_at < len(segments) and pairs < cap:
                    i, c0, c1 = segments[s_at]
                    a = c0 + s_off
                    take = min(c1 - a, cap - pairs)
                    pieces.append((i, a, a + take, c0))
                    pairs += take
                    s_off += take
                    if a + take == c1:
                        s_at, s_off = s_at + 1, 0
                rows = n_head + pairs * nb
                inputs = np.empty((rows, d))  # fresh: the model may keep it
                if n_head:
                    inputs[:n_head] = head
                bits = inputs.view(np.uint64)
                runs = _runs(pieces)
                at = n_head
                for i, r, a, b, c0 in runs:
                    if c0 != masks_of:
                        c1 = min(m, c0 + block)
                        _design_bits(Z[c0:c1], Bbits, M[: (c1 - c0) * nb], Bm[: (c1 - c0) * nb])
                        masks_of = c0
                    r0, r1 = (a - c0) * nb, (b - c0) * nb
                    seg = bits[at : at + r * (r1 - r0)]
                    if r == 1:
                        _fill_bits(seg, X[i], M[r0:r1], Bm[r0:r1])
                    else:  # many rows on the same coalitions (small designs): one broadcast
                        _fill_rows(seg, X[i : i + r], M[r0:r1], Bm[r0:r1], nb)
                    at += r * (r1 - r0)
                begin = time.perf_counter()
                out = model(inputs, progress=False)
                if first and (time.perf_counter() - begin) > SLOW_MODEL_SECONDS_PER_ROW * rows:
                    per_call = max(1, chunk // nb)
                k = out.shape[1]
                if first:
                    v = np.empty((n * m, k))
                    wk = np.kron(w[:, None], np.eye(k))  # (nb * k, k): the weighted mean
                elif k != v.shape[1]:
                    raise ModelOutputError(
                        describe("model", "the same number of outputs on every input",
                                 got_text=f"{v.shape[1]} and {k}"))
                first = False
                if n_head:
                    head_out, out = out[:n_head], out[n_head:]
                    n_head = 0
                means = out.reshape(pairs, nb * k) @ wk
                v3 = v.reshape(n, m, k)
                at = 0
                for i, r, a, b, _ in runs:
                    v3[i : i + r, a:b] = means[at : at + r * (b - a)].reshape(r, b - a, k)
                    at += r * (b - a)
        return v.reshape(n, m, -1), head_out

    def evaluate_rows(self, X: np.ndarray, row_ids: np.ndarray, Z: np.ndarray,
                      model: Model) -> np.ndarray:
        """``v`` of coalition ``Z[i]`` of row ``X[row_ids[i]]``, for many rows at once.

        Coalitions of different rows share model calls: the inputs are built
        in blocks of about one model chunk.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        row_ids : ndarray of int, shape (m,)
        Z : ndarray of bool, shape (m, n_features)
        model : Model

        Returns
        -------
        ndarray of shape (m, n_outputs)
        """
        B, w = self.data, self.weights
        nb, d = B.shape
        block = max(1, model.chunk_size_for(B) // nb)
        parts = []
        for start in range(0, Z.shape[0], block):
            z = Z[start : start + block]
            x = X[row_ids[start : start + block]]
            m = z.shape[0]
            inputs = np.where(z[:, None, :], x[:, None, :], B[None, :, :]).reshape(m * nb, d)
            out = model(inputs, progress=False)
            parts.append(np.tensordot(out.reshape(m, nb, -1), w, axes=([1], [0])))
        return np.concatenate(parts, axis=0)


class TextMasker:
    """Mask the tokens of a document: a removed token becomes ``mask_string``.

    Features are token occurrences (positional), as shap's ``Text`` masker.
    Builds the documents of a whole chunk of coalitions with
    :class:`~whylens.representations.text.TextRepresentation`.

    Parameters
    ----------
    tokenizer : None, str or callable, default=None
        As :func:`whylens.text.get_tokenizer`: ``None`` is the Unicode word
        regex (Hangul included), ``"char"`` characters.
    mask_string : str, default=""
        What replaces a removed token (``""`` deletes it).
    """

    kind = "text"

    def __init__(self, tokenizer: Any = None, mask_string: str = "") -> None:
        from whylens.text import get_tokenizer

        if not isinstance(mask_string, str):
            raise InputTypeError(describe("mask_string", "a str", mask_string))
        self.tokenizer = get_tokenizer(tokenizer)
        self.mask_string = mask_string

    def split(self, X: Any) -> tuple[list[str], bool]:
        """``(documents, single)``: a str is one document, a sequence a batch."""
        if isinstance(X, str):
            return [X], True
        if not isinstance(X, (list, tuple)) and not hasattr(X, "__array__"):
            raise InputTypeError(describe("X", "a str or a list of str (documents)", X))
        docs = list(X)
        if not docs:
            raise InputError(describe("X", "at least one document", X))
        return docs, False

    def features(self, reps: list[Any], width: int) -> Features:
        """Features of a batch of documents, padded to ``width`` tokens."""
        return Features(
            kind="text",
            names=list(reps[0].names) if len(reps) == 1 else [f"t{j}" for j in range(width)],
            descriptions=[r.names + [""] * (width - r.n_features) for r in reps],
            texts=[r.text for r in reps],
            spans=[r.spans + [[] for _ in range(width - r.n_features)] for r in reps],
        )

    def representation(self, text: Any) -> Any:
        """The :class:`TextRepresentation` of one document (positional features)."""
        from whylens.representations.text import TextRepresentation

        if not isinstance(text, str):
            raise InputTypeError(describe("X", "a str or a list of str (documents)", text))
        return TextRepresentation(text, self.tokenizer(text), bow=False,
                                  mask_string=self.mask_string)

    def game(self, rep: Any, model: Model) -> Game:
        """The game of one document's representation: ``v(S) = f(document with S kept)``."""
        def evaluate(Z: np.ndarray) -> np.ndarray:
            return model(rep.apply(Z), progress=False)

        sample = rep.apply(np.ones((1, rep.n_features), dtype=bool))
        return Game(rep.n_features, evaluate, model.chunk_size_for(sample))


class ImageMasker:
    """Hide superpixels (or grid cells) of an image.

    Parameters
    ----------
    segmentation : "grid", "slic", "quickshift", "felzenszwalb", a
        SegmentationAlgorithm or a callable ``image -> (H, W) int map``, default="grid"
    hide_color : None, "mean", "blur", number or colour, default="blur"
        What a hidden segment shows: its mean colour (``None``/``"mean"``), a
        Gaussian-blurred copy of the image, or a fixed value per channel.
    **segmentation_params
        Parameters of the segmentation, e.g. ``rows=4, cols=4`` for the grid
        (default 8 x 8) or ``n_segments=50`` for slic.

    Raises
    ------
    InputError
        Unknown segmentation or parameters.
    """

    kind = "image"

    def __init__(self, segmentation: Any = "grid", hide_color: Any = "blur",
                 **segmentation_params: Any) -> None:
        from whylens.representations.image import SegmentationAlgorithm

        if isinstance(segmentation, str):
            segmentation = SegmentationAlgorithm(segmentation, **segmentation_params)
        elif not callable(segmentation):
            raise InputTypeError(
                describe("segmentation", "a segmentation name, a SegmentationAlgorithm or a "
                         "callable image -> segment map", segmentation)
            )
        self.segmentation = segmentation
        self.hide_color = hide_color

    def split(self, X: Any) -> tuple[list[Any], bool]:
        """``(images, single)``: a list or a 4-D array/tensor is a batch."""
        if isinstance(X, (list, tuple)):
            if not X:
                raise InputError(describe("X", "at least one image", X))
            return list(X), False
        ndim = getattr(X, "ndim", None)
        if ndim is None:
            raise InputTypeError(describe("X", "an image array/tensor or a list of images", X))
        if ndim == 4:
            return [X[i] for i in range(X.shape[0])], False
        return [X], True

    def representation(self, image: Any) -> Any:
        """The :class:`ImageRepresentation` of one image and its segments."""
        from whylens.representations.image import ImageRepresentation

        return ImageRepresentation(image, self.segmentation(image), hide_color=self.hide_color)

    def game(self, rep: Any, model: Model) -> Game:
        """The game of one image: ``v(S) = f(image with the segments in S shown)``."""
        def evaluate(Z: np.ndarray) -> np.ndarray:
            return model(rep.apply(Z), progress=False)

        block = model.chunk_size_for(rep.apply(np.ones((1, rep.n_features), dtype=bool)))
        return Game(rep.n_features, evaluate, block)

    def features(self, reps: list[Any], width: int) -> Features:
        """Features of a batch of images: segment maps and the images (channels-last)."""
        shapes = {r.array.shape for r in reps}
        if len(shapes) != 1:
            raise InputError(
                describe("X", "images of one shape in a batch", got_text=f"shapes "
                         f"{sorted(shapes)}", fix="Explain images of other sizes separately.")
            )
        return Features(
            kind="image", names=[f"segment {j}" for j in range(width)],
            data=np.stack([np.asarray(r.array) for r in reps]),
            segments=np.stack([r.segments for r in reps]),
        )

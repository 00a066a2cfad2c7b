"""Maskers: how a coalition of kept features becomes model inputs.

A masker turns each explained instance into a
:class:`~whylens.representations.Representation` and the explainers evaluate
coalitions through the runner (:func:`whylens.representations.evaluate`, or
:meth:`TabularMasker.evaluate` for tables), so chunking, progress and
cancellation are written once. A :class:`Game` is one instance's set function
``v(Z)`` as the solvers see it.

- :class:`TabularMasker` (interventional): a removed feature takes the values
  of a background sample; ``v(S)`` is the (weighted) mean of the model over
  the background, ``v(S) = sum_b w_b f(x_S, b_{-S})``
  (:class:`whylens.representations.TabularBackground` with automatic summarising).
- :class:`TextMasker`: a removed token is replaced by ``mask_string``
  (positional), with :class:`whylens.representations.TextRepresentation`.
- :class:`ImageMasker`: a removed superpixel (or grid cell) shows a fill
  value, its mean colour or a blurred copy, with
  :class:`whylens.representations.ImageRepresentation`.

Non-tabular maskers share one small contract: ``split(X) -> (items, single)``,
``representation(item)`` and ``features(reps, width)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import checked_callback
from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Features
from whylens.models import Model
from whylens.models._frames import TableSchema, table_values
from whylens.representations import evaluate
from whylens.representations.masking import TabularBackground, check_table

__all__ = [
    "BackgroundSizeWarning",
    "Game",
    "ImageMasker",
    "TabularMasker",
    "TextMasker",
    "summarize_background",
]

#: Background rows above which :class:`TabularMasker` summarises automatically.
MAX_BACKGROUND = 100

#: Most coalitions a solver hands to a game at once (bounds the masks and values it
#: holds; the model calls inside are sized by the runner). A constant, so the
#: values do not depend on the batch size.
GAME_BLOCK = 1 << 15


class BackgroundSizeWarning(UserWarning):
    """A background was summarised because it would make every evaluation slow."""


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
    X : array-like or DataFrame of shape (n_rows, n_features)
        A DataFrame's columns and dtypes are kept for the model.
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
    values, schema = table_values(X, "X")
    X = check_table(values, "X")
    k = check_positive_int("k", k)
    if k >= X.shape[0]:
        return TabularMasker(X, max_background=None, schema=schema)
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
    return TabularMasker(centres, weights=counts[keep] / counts.sum(), max_background=None,
                         schema=schema)


class Progress:
    """One ``callback(done, total)`` over several runner calls (one per game call).

    Parameters
    ----------
    callback : callable or None
        The user's callback (returning ``False`` cancels).
    total : int
        Coalitions of the whole explanation.
    """

    def __init__(self, callback: Callable[[int, int], Any] | None, total: int) -> None:
        self._callback = checked_callback(callback)
        self.total = int(total)
        self.done = 0

    def part(self) -> Callable[[int, int], None] | None:
        """The callback for the next runner call: its ``done`` counts on from here."""
        if self._callback is None:
            return None
        base, report = self.done, self._callback
        return lambda done, _total: report(min(base + done, self.total), self.total)

    def advance(self, n: int) -> None:
        """Count ``n`` coalitions done."""
        self.done += int(n)


class Game:
    """One instance's coalition game ``v(Z)``, evaluated through the runner.

    Parameters
    ----------
    representation : Representation
        The instance; a :class:`~whylens.representations.TabularRepresentation`
        averages over its background.
    model : Model
    progress : bool, optional
        Passed to every runner call.
    tracker : Progress, optional
        Reports the coalitions done to the user's callback.

    Attributes
    ----------
    n_features : int
    block : int
        Most coalitions a solver passes at once (:data:`GAME_BLOCK`).
    n_evals : int
        Coalitions evaluated so far.
    """

    def __init__(self, representation: Any, model: Model, *, progress: bool | None = None,
                 tracker: Progress | None = None) -> None:
        self.representation = representation
        self.model = model
        self.n_features = int(representation.n_features)
        self.block = GAME_BLOCK
        self.n_evals = 0
        self._progress = progress
        self._tracker = tracker or Progress(None, 0)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """Return ``v`` at every coalition (row) of ``Z``.

        Parameters
        ----------
        Z : ndarray of bool, shape (m, n_features)
            True keeps the instance's feature.

        Returns
        -------
        ndarray of shape (m, n_outputs), float64

        Raises
        ------
        Cancelled
            The callback stopped the work.
        """
        Z = np.asarray(Z, dtype=bool)
        rep, callback = self.representation, self._tracker.part()
        if hasattr(rep, "rows_per_mask"):  # averaged over a background
            v = rep.evaluate(self.model, Z, progress=self._progress, callback=callback)
        else:
            v = evaluate(self.model, rep, Z, progress=self._progress, callback=callback,
                         unit="coalitions")
        self.n_evals += Z.shape[0]
        self._tracker.advance(Z.shape[0])
        return v


class TabularMasker(TabularBackground):
    """Interventional masking of table rows with a (weighted) background.

    Parameters
    ----------
    background : array-like or DataFrame of shape (n_background, n_features)
        Reference rows. A removed feature takes, in turn, the value of every
        background row; the model's outputs are averaged with ``weights``. A
        DataFrame's columns become the feature names, and the model is called
        with DataFrames of the same columns and dtypes.
    weights : array-like of shape (n_background,), optional
        Non-negative weights (normalised to sum 1); default equal.
    max_background : int or None, default=100
        Above this many rows the background is summarised with
        :func:`summarize_background` (``max_background`` centres) and a
        :class:`BackgroundSizeWarning` is issued. ``None`` never summarises.
    feature_names : sequence of str, optional
    schema : TableSchema, optional
        The DataFrame schema to call the model with (default: ``background``'s).

    Attributes
    ----------
    data : ndarray of shape (n_background, n_features)
    weights : ndarray of shape (n_background,)
    feature_names : list of str
    schema : TableSchema or None
    """

    kind = "tabular"

    def __init__(self, background: Any, weights: Any = None, *,
                 max_background: int | None = MAX_BACKGROUND,
                 feature_names: Sequence[str] | None = None,
                 schema: TableSchema | None = None) -> None:
        super().__init__(background, weights, names=feature_names, schema=schema)
        nb = self.n_background
        if max_background is not None and nb > check_positive_int(
                "max_background", max_background):
            warnings.warn(
                f"background: {nb} rows would multiply every model evaluation by "
                f"{nb}; summarised to {max_background} weighted k-means centres. Pass "
                "whylens.shap.summarize_background(X, k) yourself, or max_background=None to "
                "keep every row.", BackgroundSizeWarning, stacklevel=3)
            summary = summarize_background(self.data, max_background)
            self.data, self.weights = summary.data, summary.weights

    @property
    def feature_names(self) -> list[str]:
        """The column names (``names``)."""
        return self.names


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

"""The lime-style views of a single-instance Explanation.

:class:`ExplanationViews` is a base class of :class:`whylens.Explanation`:
lime's ``as_list``, ``as_map``, ``local_exp``, ``available_labels``,
``intercept``, ``score``, ``local_pred``, ``predict_proba``, ``class_names``,
``image``, ``segments`` and ``get_image_and_mask`` (:func:`image_and_mask`),
and, from its base :class:`whylens._rendering.RenderingViews`, the renderings
``as_html``, ``show_in_notebook``, ``save_to_file``, ``save_html`` and
``as_pyplot_figure``. They act on one instance and raise
:class:`~whylens.errors.BatchExplanationError` on a batch.

This module imports no representation and no explainer: it is part of the
result type, which every other part of whylens builds on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from whylens._rendering import RenderingViews
from whylens.errors import BatchExplanationError, InputError, NotSupportedError, describe

if TYPE_CHECKING:
    from whylens.explanation import Explanation, Features, Surrogate

__all__ = ["ExplanationViews", "image_and_mask"]


def image_and_mask(
    exp: Explanation,
    label: int,
    positive_only: bool = True,
    negative_only: bool = False,
    hide_rest: bool = False,
    num_features: int = 5,
    min_weight: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """lime's ``ImageExplanation.get_image_and_mask`` on a whylens Explanation.

    Also the method ``exp.get_image_and_mask(label, ...)``; the result equals
    lime's on the same segments and weights.

    Parameters
    ----------
    exp : Explanation
        A single-instance LIME image explanation.
    label : int
        The explained label.
    positive_only : bool, default=True
        Only superpixels with weight > max(0, min_weight).
    negative_only : bool, default=False
        Only superpixels with weight < 0 and |weight| > min_weight.
    hide_rest : bool, default=False
        Black (zeros, float64) outside the shown superpixels.
    num_features : int, default=5
        Superpixels shown, in decreasing |weight| order.
    min_weight : float, default=0.0

    Returns
    -------
    image : ndarray of shape (H, W, C) (or (H, W) for a grayscale image
        unless both signs are drawn)
        With neither ``positive_only`` nor ``negative_only``, positive
        superpixels get their green channel, negative ones their red channel,
        set to the image's maximum (as lime).
    mask : ndarray of shape (H, W), the segment map's dtype
        1 on shown superpixels (-1 on negative ones in the signed case).

    Raises
    ------
    InputError
        Both ``positive_only`` and ``negative_only``; not an image explanation.
    BatchExplanationError
        A batch Explanation.
    """
    exp._single("get_image_and_mask")
    if exp.features.segments is None or exp.features.data is None:
        raise InputError(
            describe("explanation", "a LIME image explanation (with segments)",
                     got_text=f"a {exp.method!r} explanation")
        )
    if positive_only and negative_only:
        raise InputError(
            describe("positive_only/negative_only", "at most one of them True",
                     got_text="both True", fix="Pass neither to draw both signs.")
        )
    segments = exp.features.segments[0]
    image = exp.features.data[0]
    ranked = exp._ranked(label)  # lime's local_exp[label]; raises for an unexplained label
    mask = np.zeros(segments.shape, segments.dtype)
    temp = np.zeros(image.shape) if hide_rest else image.copy()
    if positive_only or negative_only:
        if positive_only:
            chosen = [f for f, w in ranked if w > 0 and w > min_weight][:num_features]
        else:
            chosen = [f for f, w in ranked if w < 0 and abs(w) > min_weight][:num_features]
        shown = np.isin(segments, chosen)
        temp[shown] = image[shown]
        mask[shown] = 1
        return temp, mask
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
        temp = np.repeat(temp[..., None], 3, axis=-1)
    top = np.max(image)
    for f, w in ranked[:num_features]:
        if np.abs(w) < min_weight:
            continue
        where = segments == f
        mask[where] = -1 if w < 0 else 1
        temp[where] = image[where]
        temp[where, 0 if w < 0 else 1] = top
    return temp, mask


class ExplanationViews(RenderingViews):
    """lime's views of an explanation, for :class:`whylens.Explanation` to inherit.

    The attributes below are the Explanation's fields these views read.
    """

    values: np.ndarray
    labels: np.ndarray
    method: str
    features: Features
    mode: str
    output: np.ndarray | None
    output_names: list[str] | None
    selected: np.ndarray | None
    surrogate: Surrogate | None
    top_labels: list[int] | None

    @property
    def n_instances(self) -> int:
        """Number of explained instances."""
        return int(self.values.shape[0])

    def output_name(self, label: int) -> str:
        """Return the name of model output ``label``, as plots and pages show it.

        Parameters
        ----------
        label : int
            Index of a model output.

        Returns
        -------
        str
            ``output_names[label]``, or ``str(label)`` when the outputs are not
            named (or ``label`` is out of their range).
        """
        names = self.output_names
        if names and 0 <= label < len(names):
            return str(names[label])
        return str(label)

    #: Views that are functions of :mod:`whylens.plot`, not Explanation methods: the
    #: batch error's hint names the call that exists.
    _PLOT_VIEWS: ClassVar[dict[str, str]] = {
        "waterfall": "waterfall", "force": "force", "text": "text", "local_bar": "bar",
        "image_mask": "image_mask", "heat_map": "image_overlay"}

    def _single(self, view: str) -> None:
        if self.n_instances != 1:
            plot = self._PLOT_VIEWS.get(view)
            call = (f"whylens.plot.{plot}(exp[0])" if plot is not None
                    else f"exp[0].{view}(...)")
            raise BatchExplanationError(
                describe(
                    "explanation",
                    f"a single-instance Explanation for {view}()",
                    got_text=f"a batch of {self.n_instances} instances",
                    fix=f"Select one first, e.g. {call}.",
                )
            )

    def _label_row(self, label: int) -> tuple[int, float]:
        """Row of ``values`` for a lime label, and the sign to apply.

        In regression mode lime exposes label 1 (the output) and label 0 (its
        negation); whylens stores the output once, as label 0.
        """
        if self.mode == "regression" and self.labels.shape[0] == 1:
            if label in (0, 1):
                return 0, (1.0 if label == 1 else -1.0)
            raise InputError(
                describe("label", "1 (or 0 for the negated output) in regression mode", label)
            )
        where = np.flatnonzero(self.labels == label)
        if where.size == 0:
            raise InputError(
                describe(
                    "label",
                    f"one of the explained labels {self.labels.tolist()}",
                    label,
                    "Explain it with labels=(...) or top_labels=k.",
                )
            )
        return int(where[0]), 1.0

    def _ranked(self, label: int) -> list[tuple[int, float]]:
        self._single("as_list")
        row, sign = self._label_row(label)
        weights = self.values[0, row].reshape(-1) * sign
        if self.selected is not None:
            idx = np.flatnonzero(self.selected[0, row].reshape(-1))
        else:
            idx = np.arange(weights.shape[0])
        order = np.argsort(-np.abs(weights[idx]), kind="stable")
        return [(int(idx[j]), float(weights[idx[j]])) for j in order]

    def _descriptions(self) -> list[str]:
        if self.features.descriptions is not None:
            return list(self.features.descriptions[0])
        return list(self.features.names)

    def as_list(self, label: int = 1) -> list[tuple[str, float]]:
        """Return the explanation as lime does: ``(feature, weight)`` pairs.

        Parameters
        ----------
        label : int, default=1
            Which explained output. In regression mode ``1`` is the output and
            ``0`` its negation, as in lime.

        Returns
        -------
        list of (str, float)
            Selected features sorted by decreasing absolute weight. Tabular
            features appear as their discretised condition when discretised.

        Raises
        ------
        BatchExplanationError
            If this Explanation holds several instances.
        InputError
            If ``label`` was not explained.
        """
        names = self._descriptions()
        ranked = self._ranked(label)
        if ranked and len(names) <= max(i for i, _ in ranked):
            raise NotSupportedError(
                describe("explanation", "named features for as_list()",
                         got_text=f"a {self.method!r} explanation with values of shape "
                                  f"{self.values.shape} and {len(names)} feature names",
                         fix="Gradient and CAM maps have no feature names: read "
                             "exp.values, or plot maps with whylens.plot.image_overlay.")
            )
        return [(names[i], w) for i, w in ranked]

    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """Return ``{label: [(feature_index, weight), ...]}`` as lime's ``as_map``.

        Returns
        -------
        dict of int to list of (int, float)
            Sorted by decreasing absolute weight.
        """
        self._single("as_map")
        if self.mode == "regression" and self.labels.shape[0] == 1:
            return {0: self._ranked(0), 1: self._ranked(1)}
        return {int(label): self._ranked(int(label)) for label in self.labels}

    @property
    def local_exp(self) -> dict[int, list[tuple[int, float]]]:
        """lime's ``local_exp`` (same as :meth:`as_map`)."""
        return self.as_map()

    def available_labels(self) -> list[int]:
        """Return the labels that have an explanation, as lime does.

        Returns
        -------
        list of int
            ``top_labels`` when they were asked, else the explained labels.

        Raises
        ------
        InputError
            In regression mode (lime raises there too).
        """
        if self.mode != "classification":
            raise InputError(
                describe("mode", "a classification explanation for available_labels()",
                         self.mode)
            )
        if self.top_labels:
            return list(self.top_labels)
        return [int(label) for label in self.labels]

    def _lime_label_dict(self, array: np.ndarray | None, what: str) -> dict[int, float]:
        self._single(what)
        if array is None:
            raise InputError(
                describe("explanation", f"a LIME explanation with a surrogate {what}",
                         got_text=f"a {self.method!r} explanation",
                         fix="Only LIME explanations carry a surrogate model.")
            )
        if self.mode == "regression" and self.labels.shape[0] == 1:
            return {0: float(array[0, 0]), 1: float(array[0, 0])}
        return {int(label): float(array[0, j]) for j, label in enumerate(self.labels)}

    @property
    def intercept(self) -> dict[int, float]:
        """lime's ``intercept``: the surrogate's intercept per label."""
        return self._lime_label_dict(
            None if self.surrogate is None else self.surrogate.intercept, "intercept"
        )

    @property
    def score(self) -> dict[int, float]:
        """lime's ``score``: the surrogate's weighted R² per label."""
        return self._lime_label_dict(
            None if self.surrogate is None else self.surrogate.score, "score"
        )

    @property
    def local_pred(self) -> dict[int, np.ndarray]:
        """lime's ``local_pred``: the surrogate's prediction at the instance, per label."""
        values = self._lime_label_dict(
            None if self.surrogate is None else self.surrogate.local_prediction, "local_pred"
        )
        return {label: np.array([v]) for label, v in values.items()}

    @property
    def predict_proba(self) -> np.ndarray | None:
        """The model's output at the instance (lime's ``predict_proba``)."""
        self._single("predict_proba")
        return None if self.output is None else self.output[0]

    @property
    def class_names(self) -> list[str] | None:
        """Names of the model outputs (lime's ``class_names``)."""
        return self.output_names

    # ------------------------------------------------------------- image views
    @property
    def image(self) -> np.ndarray | None:
        """The explained image (lime's ``image``), channels-last; single instance."""
        self._single("image")
        return None if self.features.data is None else self.features.data[0]

    @property
    def segments(self) -> np.ndarray | None:
        """The segment map of a LIME image explanation (lime's ``segments``), (H, W)."""
        self._single("segments")
        return None if self.features.segments is None else self.features.segments[0]

    def get_image_and_mask(self, label: int, positive_only: bool = True,
                           negative_only: bool = False, hide_rest: bool = False,
                           num_features: int = 5, min_weight: float = 0.0,
                           ) -> tuple[np.ndarray, np.ndarray]:
        """lime's ``get_image_and_mask``: :func:`image_and_mask` of this explanation.

        Returns
        -------
        image : ndarray of shape (H, W, C) or (H, W)
        mask : ndarray of shape (H, W)

        Raises
        ------
        InputError, BatchExplanationError
            As :func:`image_and_mask`.
        """
        return image_and_mask(self, label, positive_only=positive_only,
                              negative_only=negative_only, hide_rest=hide_rest,
                              num_features=num_features, min_weight=min_weight)

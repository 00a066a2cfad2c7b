"""The one result type of whylens: :class:`Explanation`.

Every method, for every modality, returns an :class:`Explanation`. It holds
one instance or a batch: ``values`` has shape
``(n_instances, n_labels, *feature_shape)``. ``exp[i]`` is the Explanation of
instance ``i``. The lime-style views (``as_list``, ``as_map``,
``show_in_notebook`` ...) act on a single instance and raise
:class:`~whylens.errors.BatchExplanationError` on a batch.

Explanations convert to a JSON-compatible dict and back without pickle;
float arrays are stored as their raw little-endian bytes (base64), so a round
trip is bit-identical and shapes and dtypes are kept.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens.errors import (
    BatchExplanationError,
    InputError,
    InputTypeError,
    NotSupportedError,
    SerializationError,
    describe,
)

__all__ = ["Explanation", "Features", "Surrogate"]

FORMAT = "whylens.Explanation/1"


@dataclass(eq=False)
class Features:
    """What the explained values refer to.

    Attributes
    ----------
    kind : str
        ``"tabular"``, ``"text"`` or ``"image"``.
    names : list of str, length n_features
        Names of the interpretable features: table columns, or the words of a
        document (unique words in bag-of-words mode).
    descriptions : list of list of str, shape (n_instances, n_features), optional
        Per-instance readable form of each feature, e.g. lime's discretised
        conditions (``"mean radius <= 13.37"``) or ``"sex=female"``.
    data : ndarray of shape (n_instances, *feature_shape), optional
        The instance's values in input units (the explained table row).
    texts : list of str, length n_instances, optional
        The explained documents.
    spans : list, shape (n_instances, n_features, n_occurrences, 2), optional
        Character ``[start, end)`` offsets of every occurrence of each text
        feature in ``texts``.
    segments : ndarray of shape (n_instances, H, W), optional
        Segment map of an image explanation (integer segment id per pixel).
    """

    kind: str
    names: list[str]
    descriptions: list[list[str]] | None = None
    data: np.ndarray | None = None
    texts: list[str] | None = None
    spans: list[list[list[list[int]]]] | None = None
    segments: np.ndarray | None = None

    _PER_INSTANCE = ("descriptions", "data", "texts", "spans", "segments")

    def _take(self, index: int) -> Features:
        kwargs = {}
        for name in self._PER_INSTANCE:
            value = getattr(self, name)
            kwargs[name] = None if value is None else value[index : index + 1]
        return Features(kind=self.kind, names=list(self.names), **kwargs)


@dataclass(eq=False)
class Surrogate:
    """The local surrogate of a LIME explanation, per instance and label.

    Attributes
    ----------
    intercept : ndarray of shape (n_instances, n_labels)
    score : ndarray of shape (n_instances, n_labels)
        Weighted R² of the surrogate on the perturbed samples.
    local_prediction : ndarray of shape (n_instances, n_labels)
        The surrogate's prediction at the instance itself.
    kernel_width : float
        Width of the exponential kernel that weighted the samples.
    """

    intercept: np.ndarray
    score: np.ndarray
    local_prediction: np.ndarray
    kernel_width: float

    def _take(self, index: int) -> Surrogate:
        return Surrogate(
            intercept=self.intercept[index : index + 1],
            score=self.score[index : index + 1],
            local_prediction=self.local_prediction[index : index + 1],
            kernel_width=self.kernel_width,
        )


@dataclass(eq=False)
class Explanation:
    """Attributions of one or more instances, for one or more model outputs.

    Attributes
    ----------
    values : ndarray of shape (n_instances, n_labels, *feature_shape)
        The attributions (float64). For LIME, the surrogate's coefficients;
        features left out by feature selection are 0 and marked in
        ``selected``.
    labels : ndarray of shape (n_labels,) or (n_instances, n_labels)
        Index of the model output each row of ``values`` explains: one row of
        labels shared by every instance, or one row per instance when they
        differ (a per-row ``target``, or each row's predicted class). A
        per-instance array whose rows are all equal is stored as one row, so
        ``exp[i].labels`` is always 1-D.
    method : str
        Name of the method, e.g. ``"lime.tabular"``.
    features : Features
        Names, per-instance descriptions, text spans, data.
    mode : {"classification", "regression"}
    output : ndarray of shape (n_instances, n_outputs), optional
        The model's output at each instance (e.g. class probabilities).
    output_names : list of str, length n_outputs, optional
    base_values : ndarray of shape (n_instances, n_labels), optional
        Reference output the attributions are measured from (SHAP's expected
        value; LIME's surrogate intercept).
    selected : ndarray of bool, shape (n_instances, n_labels, n_features), optional
        Features kept by feature selection (LIME).
    surrogate : Surrogate, optional
        LIME's surrogate intercept, weighted R² and local prediction.
    top_labels : list of int, optional
        Labels ordered by decreasing model output when ``top_labels`` was asked.
    params : dict
        Every parameter needed to reproduce the explanation, random_state included.
    n_evals : int
        Number of model evaluations (rows) spent.
    layer_values : ndarray of shape (n_instances, n_labels, *layer_spatial), optional
        Layer methods (CAMs): the map at the explained layer's resolution;
        ``values`` holds it upsampled to the input.
    delta : ndarray of shape (n_instances, n_labels), optional
        Completeness gap of an additive gradient method (Integrated Gradients,
        DeepLIFT, DeepSHAP, GradientSHAP): ``sum(values) - (output[label] -
        base_values)``, the convergence delta of captum.
    """

    values: np.ndarray
    labels: np.ndarray
    method: str
    features: Features
    mode: str = "classification"
    output: np.ndarray | None = None
    output_names: list[str] | None = None
    base_values: np.ndarray | None = None
    selected: np.ndarray | None = None
    surrogate: Surrogate | None = None
    top_labels: list[int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    n_evals: int = 0
    layer_values: np.ndarray | None = None
    delta: np.ndarray | None = None

    _PER_INSTANCE = ("values", "output", "base_values", "selected", "layer_values", "delta")

    # ------------------------------------------------------------------ basics
    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim < 2:
            raise InputError(
                describe(
                    "values",
                    "an array of shape (n_instances, n_labels, *feature_shape)",
                    self.values,
                )
            )
        labels = np.asarray(self.labels, dtype=np.int64)
        if labels.ndim == 2 and labels.shape[0] == self.values.shape[0] and (
                labels.shape[0] == 0 or (labels == labels[:1]).all()):
            labels = labels[0] if labels.shape[0] else labels.reshape(-1)
        elif labels.ndim != 2:
            labels = labels.reshape(-1)
        self.labels = labels
        if self.values.shape[1] != self.labels.shape[-1] or (
                labels.ndim == 2 and labels.shape[0] != self.values.shape[0]):
            raise InputError(
                describe(
                    "labels",
                    f"one label per row of values ({self.values.shape[1]}), shared by every "
                    f"instance or given per instance as ({self.values.shape[0]}, "
                    f"{self.values.shape[1]})",
                    got_text=f"labels of shape {self.labels.shape}",
                )
            )

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_instances(self) -> int:
        """Number of explained instances."""
        return int(self.values.shape[0])

    @property
    def feature_names(self) -> list[str]:
        """Names of the interpretable features (shap-style alias)."""
        return self.features.names

    @property
    def data(self) -> np.ndarray | None:
        """The explained instances' data (shap-style alias)."""
        return self.features.data

    @property
    def shap_values(self) -> np.ndarray:
        """``values`` in shap's layout: labels moved last, dropped when there is one.

        Returns
        -------
        ndarray of shape (n_instances, *feature_shape) for one label, else
        (n_instances, *feature_shape, n_labels)
        """
        moved = np.moveaxis(self.values, 1, -1)
        return moved[..., 0] if moved.shape[-1] == 1 else moved

    def __getitem__(self, index: Any) -> Explanation:
        """Return the Explanation of instance ``index`` (a batch of one), or a selection.

        ``exp[i]`` is instance ``i``. As in shap, ``exp[rows, features]`` and
        ``exp[rows, features, labels]`` select instances (int, slice, list or
        boolean mask), features (int, name, slice or list of them) and
        explained labels (positions in ``labels``). Every axis is kept (an int
        selects a length-1 axis), so the result is an Explanation of the same
        layout: ``exp[:, "bmi"].values`` has shape (n, n_labels, 1).
        """
        if isinstance(index, (tuple, slice, list, np.ndarray)):
            return self._select(index)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise InputTypeError(
                describe("index", "an int instance index", index,
                         "Select one instance at a time, e.g. exp[0].")
            )
        n = self.n_instances
        if not -n <= index < n:
            raise InputError(
                describe("index", f"an instance index in [-{n}, {n})", index)
            )
        i = int(index) % n
        changes: dict[str, Any] = {}
        for name in self._PER_INSTANCE:
            value = getattr(self, name)
            changes[name] = None if value is None else value[i : i + 1]
        changes["features"] = self.features._take(i)
        if self.labels.ndim == 2:
            changes["labels"] = self.labels[i]
        if self.surrogate is not None:
            changes["surrogate"] = self.surrogate._take(i)
        return dataclasses.replace(self, **changes)

    def _axis_index(self, key: Any, size: int, names: Sequence[str] | None, axis: str
                    ) -> np.ndarray:
        """Positions selected by ``key`` on an axis of length ``size``."""
        if isinstance(key, slice):
            try:
                return np.arange(size)[key]
            except TypeError as exc:
                raise InputTypeError(describe(axis, "a slice of ints", key)) from exc
        if (isinstance(key, np.ndarray) and key.dtype == bool) or (
                isinstance(key, list) and key and all(isinstance(k, (bool, np.bool_))
                                                      for k in key)):
            mask = np.asarray(key, dtype=bool)
            if mask.shape != (size,):
                raise InputError(describe(axis, f"a boolean mask of length {size}",
                                          got_text=f"length {mask.shape}"))
            return np.flatnonzero(mask)
        keys = list(key) if isinstance(key, (list, tuple, np.ndarray)) else [key]
        out = []
        for k in keys:
            if isinstance(k, str):
                if names is None or k not in names:
                    raise InputError(describe(axis, "a known feature name" if names is None
                                              else f"one of {list(names)[:10]}...", k))
                out.append(list(names).index(k))
            elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
                if not -size <= k < size:
                    raise InputError(describe(axis, f"an index in [-{size}, {size})", k))
                out.append(int(k) % size)
            else:
                raise InputTypeError(describe(axis, "an int, a name, a slice, a list or a mask",
                                              k))
        return np.array(out, dtype=np.int64)

    def _select(self, index: Any) -> Explanation:
        """``exp[rows, features, labels]`` in shap's axis order (see ``__getitem__``)."""
        key = index if isinstance(index, tuple) else (index,)
        if len(key) > 3:
            raise InputError(describe("index", "at most (rows, features, labels)",
                                      got_text=f"{len(key)} axes"))
        rows = self._axis_index(key[0], self.n_instances, None, "index (rows)")
        feat = None
        if len(key) > 1 and not (isinstance(key[1], slice) and key[1] == slice(None)):
            if self.values.ndim != 3:
                raise InputError(describe("index (features)", "an explanation with one "
                                          "feature axis", got_text=f"values of shape "
                                          f"{self.values.shape}"))
            feat = self._axis_index(key[1], self.values.shape[2], self.features.names,
                                    "index (features)")
        labs = None
        if len(key) > 2:
            labs = self._axis_index(key[2], self.labels.shape[-1], None, "index (labels)")

        def take(value: Any, on_labels: bool, on_features: bool) -> Any:
            if value is None:
                return None
            out = value[rows] if isinstance(value, np.ndarray) else [value[i] for i in rows]
            if on_labels and labs is not None:
                out = out[:, labs]
            if on_features and feat is not None:
                out = out[:, :, feat]
            return out

        changes: dict[str, Any] = {
            "values": take(self.values, True, True),
            "output": take(self.output, False, False),
            "base_values": take(self.base_values, True, False),
            "selected": take(self.selected, True, True),
            "delta": take(self.delta, True, False),
        }
        changes["layer_values"] = None if feat is not None else take(
            self.layer_values, True, False)
        labels = self.labels[rows] if self.labels.ndim == 2 else self.labels
        changes["labels"] = labels if labs is None else labels[..., labs]
        f = self.features
        fchanges: dict[str, Any] = {name: take(getattr(f, name), False, False)
                                    for name in f._PER_INSTANCE}
        if feat is not None:
            fchanges["names"] = [f.names[j] for j in feat]
            if f.descriptions is not None:
                fchanges["descriptions"] = [[d[j] for j in feat] for d in fchanges["descriptions"]]
            if f.data is not None and f.data.ndim == 2:
                fchanges["data"] = fchanges["data"][:, feat]
            if f.spans is not None:
                fchanges["spans"] = [[sp[j] for j in feat] for sp in fchanges["spans"]]
        changes["features"] = dataclasses.replace(f, **fchanges)
        if self.surrogate is not None:
            sur = self.surrogate
            changes["surrogate"] = dataclasses.replace(
                sur, intercept=take(sur.intercept, True, False),
                score=take(sur.score, True, False),
                local_prediction=take(sur.local_prediction, True, False))
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return (
            f"Explanation(method={self.method!r}, mode={self.mode!r}, "
            f"n_instances={self.n_instances}, labels={self.labels.tolist()}, "
            f"values.shape={self.values.shape}, n_evals={self.n_evals})"
        )

    def __eq__(self, other: object) -> bool:
        """Exact (bit-level) equality of every field."""
        if not isinstance(other, Explanation):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # --------------------------------------------------------- lime-style views
    def _single(self, view: str) -> None:
        if self.n_instances != 1:
            raise BatchExplanationError(
                describe(
                    "explanation",
                    f"a single-instance Explanation for {view}()",
                    got_text=f"a batch of {self.n_instances} instances",
                    fix=f"Select one first, e.g. exp[0].{view}(...).",
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

    def get_image_and_mask(
        self,
        label: int,
        positive_only: bool = True,
        negative_only: bool = False,
        hide_rest: bool = False,
        num_features: int = 5,
        min_weight: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(image, mask)`` of the strongest superpixels, as lime's method.

        See :func:`whylens.representations.image.image_and_mask` for the
        parameters; the result equals lime's on the same segments and weights.

        Returns
        -------
        image : ndarray of shape (H, W, C) or (H, W)
        mask : ndarray of shape (H, W)
            1 on shown positive superpixels, -1 on negative ones (when neither
            ``positive_only`` nor ``negative_only``), 0 elsewhere.
        """
        from whylens.representations.image import image_and_mask

        return image_and_mask(self, label, positive_only=positive_only,
                              negative_only=negative_only, hide_rest=hide_rest,
                              num_features=num_features, min_weight=min_weight)

    # --------------------------------------------------------------- rendering
    def as_html(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> str:
        """Return a standalone HTML page for this explanation (no JavaScript).

        Parameters are lime's: ``labels`` to show (default: all explained),
        ``predict_proba`` to show the class probabilities,
        ``show_predicted_value`` for regression; keyword arguments
        ``text=True``, ``opacity=True`` (text) and ``show_table=True``,
        ``show_all=False`` (tabular) as in lime.

        Returns
        -------
        str
        """
        from whylens.render.html import explanation_html

        return explanation_html(
            self, labels=labels, predict_proba=predict_proba,
            show_predicted_value=show_predicted_value, standalone=True, **kwargs,
        )

    def _repr_html_(self) -> str | None:
        if self.n_instances != 1:  # a batch (e.g. SHAP over a table): the text repr
            return None
        from whylens.render.html import explanation_html

        return explanation_html(self, standalone=False)

    def show_in_notebook(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Display the explanation in a Jupyter notebook (lime's signature).

        Shows the HTML fragment of :meth:`_repr_html_` (no JavaScript) through
        ``IPython.display``. The arguments are those of :meth:`as_html`, e.g.
        ``text=document`` as seed 000 passes it (any non-empty string, like
        ``True``, shows the text).

        Parameters
        ----------
        labels : sequence of int, optional
            Labels to chart; default: ``top_labels`` or every explained label.
        predict_proba : bool, default=True
        show_predicted_value : bool, default=True
        **kwargs
            ``text``, ``opacity``, ``show_table``, ``show_all``.

        Raises
        ------
        MissingDependencyError
            If IPython is not installed (an ``ImportError``, as lime raises);
            the message names the alternatives that need no notebook.
        InputError, BatchExplanationError
            As :meth:`as_html`, checked first.
        """
        from whylens.errors import MissingDependencyError
        from whylens.render.html import explanation_html

        fragment = explanation_html(
            self, labels=labels, predict_proba=predict_proba,
            show_predicted_value=show_predicted_value, standalone=False, **kwargs,
        )
        try:
            from IPython.display import HTML, display
        except ImportError as exc:
            raise MissingDependencyError(
                describe("show_in_notebook", "IPython (a Jupyter notebook)",
                         got_text="no IPython installed",
                         fix="Run it in Jupyter (pip install ipython), or write a page with "
                             "exp.save_html(path), or take the markup from exp.as_html().")
            ) from exc
        display(HTML(fragment))

    def save_to_file(
        self,
        file_path: str | os.PathLike[str],
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Write :meth:`as_html` to ``file_path`` (lime's signature)."""
        html = self.as_html(labels, predict_proba, show_predicted_value, **kwargs)
        with open(file_path, "w", encoding="utf-8") as handle:
            handle.write(html)

    def save_html(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write a standalone HTML file of this explanation to ``path``."""
        self.save_to_file(path, **kwargs)

    def as_pyplot_figure(self, label: int = 1, **kwargs: Any) -> Any:
        """Return a matplotlib bar chart of :meth:`as_list` (lime's method).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from whylens.plot import bar

        return bar(self, label=label, **kwargs)

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict; arrays keep dtype, shape and bits.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"format": FORMAT}
        for f in dataclasses.fields(self):
            out[f.name] = _encode(getattr(self, f.name))
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string (standard JSON, no NaN tokens)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Explanation:
        """Rebuild an Explanation from :meth:`to_dict` output.

        Raises
        ------
        SerializationError
            If ``payload`` is not a whylens Explanation document.
        """
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            got = payload.get("format") if isinstance(payload, dict) else payload
            raise SerializationError(
                describe("payload", f"a dict with format={FORMAT!r}", got,
                         "Pass the output of Explanation.to_dict() or to_json().")
            )
        try:
            kwargs = {
                f.name: _decode(payload[f.name])
                for f in dataclasses.fields(cls)
                if f.name in payload
            }
            kwargs["features"] = Features(**kwargs["features"])
            if kwargs.get("surrogate") is not None:
                kwargs["surrogate"] = Surrogate(**kwargs["surrogate"])
            return cls(**kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(
                describe("payload", "a complete whylens Explanation document",
                         got_text=f"a document that fails to decode ({exc})")
            ) from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Explanation:
        """Rebuild an Explanation from :meth:`to_json` output."""
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SerializationError(
                describe("text", "a JSON document", got_text=f"invalid JSON ({exc})")
            ) from exc
        return cls.from_dict(payload)


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__list__": [_encode(v) for v in value.tolist()]}
        array = np.ascontiguousarray(value)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        return {
            "__ndarray__": base64.b64encode(little.tobytes()).decode("ascii"),
            "dtype": little.dtype.str,
            "shape": list(array.shape),
        }
    if isinstance(value, (Features, Surrogate)):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, float):
        if np.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    return {"__repr__": repr(value)}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        raw = base64.b64decode(value["__ndarray__"])
        array = np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        return array.astype(array.dtype.newbyteorder("="), copy=True)
    if "__list__" in value:
        return np.array([_decode(v) for v in value["__list__"]], dtype=object)
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k): _decode(v) for k, v in value["__dict__"]}
    if "__repr__" in value:
        return value["__repr__"]
    return {k: _decode(v) for k, v in value.items()}

"""The one result type of whylens: :class:`Explanation`.

Every method, for every modality, returns an :class:`Explanation`. It holds
one instance or a batch: ``values`` has shape
``(n_instances, n_labels, *feature_shape)``. ``exp[i]`` is the Explanation of
instance ``i``. The lime-style views (``as_list``, ``as_map``,
``show_in_notebook`` ...) come from :class:`whylens._views.ExplanationViews`;
they act on a single instance and raise
:class:`~whylens.errors.BatchExplanationError` on a batch. shap's layout
(``shap_values``), selection (``exp[:, "bmi"]``) and reductions
(``exp.abs.mean(0)``) come from :class:`whylens._shap_arrays.ShapArrays`.

Explanations convert to a JSON-compatible dict and back without pickle
(:mod:`whylens._serialize`); float arrays are stored as their raw
little-endian bytes (base64), so a round trip is bit-identical and shapes and
dtypes are kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens import _types
from whylens._serialize import FORMAT, dumps, encode, explanation_fields, loads
from whylens._shap_arrays import ShapArrays
from whylens._views import ExplanationViews
from whylens.errors import InputError, SerializationError, describe

__all__ = ["Explanation", "Features", "Surrogate"]


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
class Explanation(ExplanationViews, ShapArrays):
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
    quality : dict, optional
        Trust figures of the explanation, as :func:`whylens.metrics.quality`
        returns them: metric name -> plain JSON (score, the random control's
        mean and spread, ...). Kept by JSON and shown by the HTML view.
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
    quality: dict[str, Any] | None = None

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
    def feature_names(self) -> list[str]:
        """Names of the interpretable features (shap-style alias)."""
        return self.features.names

    @property
    def data(self) -> np.ndarray | None:
        """The explained instances' data (shap-style alias)."""
        return self.features.data

    # ------------------------------------------------------------ shap objects
    @classmethod
    def from_shap(cls, explanation: Any) -> Explanation:
        """Build a whylens Explanation from a ``shap.Explanation`` of tabular values.

        Parameters
        ----------
        explanation : shap.Explanation
            Values in any of shap's layouts: a batch (n, d) or (n, d, k), one
            row (d,) or (d, k), or one feature's column (n,) or (n, k) as
            ``sv[:, "bmi"]`` gives.

        Returns
        -------
        Explanation
            ``values`` (n, k, d), ``base_values`` (n, k), ``labels``
            ``arange(k)``, the feature names and numeric data; method
            ``"shap"``. Its ``shap_values`` has the shape of
            ``explanation.values``.

        Raises
        ------
        InputTypeError
            Not a shap Explanation.
        NotSupportedError
            Image or text values (ragged or more than 3 axes).
        """
        from whylens._shap_interop import from_shap

        return from_shap(cls, Features, explanation)

    def to_shap(self) -> Any:
        """Return a ``shap.Explanation`` with shap's arrays (needs the ``shap`` package).

        Returns
        -------
        shap.Explanation
            ``values`` = :attr:`shap_values`, ``base_values`` =
            :attr:`shap_base_values`, ``data``, ``feature_names`` and
            ``output_names`` laid out as shap lays them out.

        Raises
        ------
        MissingDependencyError
            shap is not installed.
        """
        from whylens._shap_interop import to_shap

        return to_shap(self)

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

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict; arrays keep dtype, shape and bits.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"format": FORMAT}
        for f in dataclasses.fields(self):
            if f.name == "quality" and self.quality is None:
                continue  # documents without figures stay as they were
            out[f.name] = encode(getattr(self, f.name), _RECORDS)
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string (standard JSON, no NaN tokens)."""
        return dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Explanation:
        """Rebuild an Explanation from :meth:`to_dict` output.

        Raises
        ------
        SerializationError
            If ``payload`` is not a whylens Explanation document.
        """
        kwargs = explanation_fields(payload, [f.name for f in dataclasses.fields(cls)])
        try:
            kwargs["features"] = Features(**kwargs["features"])
            if kwargs.get("surrogate") is not None:
                kwargs["surrogate"] = Surrogate(**kwargs["surrogate"])
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:  # InputError included
            raise SerializationError(
                describe("payload", "a consistent whylens Explanation document",
                         got_text=f"a document that fails to build ({exc})")
            ) from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Explanation:
        """Rebuild an Explanation from :meth:`to_json` output.

        Raises
        ------
        SerializationError
            If ``text`` is not a str or bytes, not JSON, or not a whylens
            Explanation document; the message names the field that is wrong
            (e.g. ``payload['labels']``: a float, or past the model's outputs).
        """
        return cls.from_dict(loads(text))


#: The record types inside an Explanation, encoded field by field.
_RECORDS = (Features, Surrogate)


_types.register(Explanation=Explanation, Features=Features, Surrogate=Surrogate)

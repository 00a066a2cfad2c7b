"""The one result type of whylens: :class:`Explanation`.

Every method, for every modality, returns an :class:`Explanation`. It holds
one instance or a batch: ``values`` has shape
``(n_instances, n_labels, *feature_shape)``. ``exp[i]`` is the Explanation of
instance ``i``. The lime-style views (``as_list``, ``as_map``,
``show_in_notebook`` ...) come from :class:`whylens._views.ExplanationViews`;
they act on a single instance and raise
:class:`~whylens.errors.BatchExplanationError` on a batch.

Explanations convert to a JSON-compatible dict and back without pickle
(:mod:`whylens._serialize`); float arrays are stored as their raw
little-endian bytes (base64), so a round trip is bit-identical and shapes and
dtypes are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens._serialize import FORMAT, dumps, encode, explanation_fields, loads
from whylens._views import ExplanationViews
from whylens.errors import InputError, InputTypeError, SerializationError, describe

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
class Explanation(ExplanationViews):
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

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict; arrays keep dtype, shape and bits.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"format": FORMAT}
        for f in dataclasses.fields(self):
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


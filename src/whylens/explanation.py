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

from whylens import _types
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

    # shap's view of a selection. Not dataclass fields (unannotated): neither serialised nor
    # compared, and reset by dataclasses.replace. ``_shap_dropped`` names the axes an int or a
    # single name selected ("rows", "features", "labels"), which shap's arrays drop;
    # ``_shap_transformed`` marks values changed by ``abs`` or a reduction (``mean(0)`` ...),
    # after which shap's bar plot shows feature names without data values.
    _shap_dropped = frozenset()
    _shap_transformed = False

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
        """``values`` in shap's layout: labels moved last, axes dropped as shap drops them.

        The labels axis is dropped when one label is explained (shap's layout
        for a single-output model); an axis selected by an int or a single
        name is dropped, as in shap: ``exp[0].shap_values`` has shape
        (n_features,) and ``exp[:, "bmi"].shap_values`` shape (n_instances,)
        for a single output. ``values`` itself always keeps every axis.

        Returns
        -------
        ndarray of shape (n_instances, *feature_shape) for one label, else
        (n_instances, *feature_shape, n_labels), less the dropped axes
        """
        return self._shap_layout(np.moveaxis(self.values, 1, -1), features=True)

    @property
    def shap_base_values(self) -> np.ndarray | None:
        """``base_values`` in shap's layout: (n_instances,) for one label, else
        (n_instances, n_labels), less the dropped axes (a 0-d array for one row
        of a single output)."""
        if self.base_values is None:
            return None
        return self._shap_layout(self.base_values, features=False)

    def _shap_layout(self, moved: np.ndarray, features: bool) -> np.ndarray:
        """Drop the labels, features and rows axes of ``moved`` (labels last) as shap does."""
        if moved.shape[-1] == 1 or "labels" in self._shap_dropped:
            moved = moved[..., 0]
        if features and "features" in self._shap_dropped and self.values.ndim == 3:
            moved = moved[:, 0]
        if "rows" in self._shap_dropped and moved.shape[0] == 1:
            moved = moved[0]
        return moved

    def _with_shap_view(self, other: Explanation, dropped: Any = (),
                        transformed: bool = False) -> Explanation:
        """``other`` carrying this explanation's shap view plus ``dropped`` axes."""
        other._shap_dropped = frozenset(self._shap_dropped) | frozenset(dropped)
        other._shap_transformed = self._shap_transformed or transformed
        return other

    # ------------------------------------------------- shap's array operations
    @property
    def abs(self) -> Explanation:
        """The Explanation with ``|values|`` (shap's ``sv.abs``): ``plot.bar(exp.abs.mean(0))``.

        Returns
        -------
        Explanation
            Every field as here, ``values`` replaced by their absolute values.
        """
        return self._with_shap_view(dataclasses.replace(self, values=np.abs(self.values)),
                                    transformed=True)

    def mean(self, axis: int = 0) -> Explanation:
        """Mean over the instances (shap's ``sv.mean(0)``); see :meth:`sum`."""
        return self._reduce("mean", axis)

    def sum(self, axis: int = 0) -> Explanation:
        """Reduce over the instances (shap's ``sv.sum(0)``, also ``mean``, ``max``, ``min``).

        Parameters
        ----------
        axis : {0}
            The instances axis, the only one reduced (as ``sv.mean(0)`` in
            shap's documentation).

        Returns
        -------
        Explanation
            One instance: ``values`` (1, n_labels, *feature_shape) and
            ``base_values`` (1, n_labels) reduced over the instances, numeric
            ``features.data`` reduced alike (other per-instance fields are
            dropped); shap's arrays drop the instances axis
            (``exp.mean(0).shap_values`` has shape (n_features,) for one
            output).

        Raises
        ------
        InputError
            ``axis`` other than 0, or labels that differ per instance (select
            one output first, e.g. ``exp[:, :, 0]``).
        """
        return self._reduce("sum", axis)

    def max(self, axis: int = 0) -> Explanation:
        """Maximum over the instances (shap's ``sv.abs.max(0)``); see :meth:`sum`."""
        return self._reduce("max", axis)

    def min(self, axis: int = 0) -> Explanation:
        """Minimum over the instances (shap's ``sv.min(0)``); see :meth:`sum`."""
        return self._reduce("min", axis)

    def _reduce(self, name: str, axis: Any) -> Explanation:
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)) \
                or int(axis) != 0:
            raise InputError(describe("axis", "0 (the instances, as in sv.mean(0))", axis,
                                      "Select features or outputs with exp[:, ...] instead."))
        if self.labels.ndim == 2:
            raise InputError(describe(
                "explanation", "one set of labels shared by every instance",
                got_text="labels that differ per instance",
                fix="Select one output position first, e.g. exp[:, :, 0].mean(0)."))
        func = getattr(np, name)
        f = self.features
        data = None
        if isinstance(f.data, np.ndarray) and np.issubdtype(f.data.dtype, np.number):
            data = func(f.data, axis=0, keepdims=True)
        features = Features(kind=f.kind, names=list(f.names), data=data)
        base = None if self.base_values is None else func(self.base_values, axis=0,
                                                          keepdims=True)
        out = dataclasses.replace(
            self, values=func(self.values, axis=0, keepdims=True), base_values=base,
            features=features, output=None, selected=None, surrogate=None, layer_values=None,
            delta=None)
        return self._with_shap_view(out, dropped=("rows",), transformed=True)

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

    def __getitem__(self, index: Any) -> Explanation:
        """Return the Explanation of instance ``index`` (a batch of one), or a selection.

        ``exp[i]`` is instance ``i``. As in shap, ``exp[rows, features]`` and
        ``exp[rows, features, labels]`` select instances (int, slice, list or
        boolean mask), features (int, name, slice or list of them) and
        explained labels (positions in ``labels``, or output names). Every
        axis is kept (an int selects a length-1 axis), so the result is an
        Explanation of the same layout: ``exp[:, "bmi"].values`` has shape
        (n, n_labels, 1); :attr:`shap_values` drops the axes shap drops.

        An Ellipsis follows shap's layout (the axes of :attr:`shap_values`):
        ``exp[..., k]`` selects output ``k`` when several are explained, and
        feature ``k`` of a single-output explanation, as in shap.

        Raises
        ------
        InputError
            An index out of range, an unknown feature or output name
            (the message names the axis: ``index (features)``, ``index (labels)``).
        InputTypeError
            An index of another type.
        """
        if isinstance(index, tuple) and any(k is Ellipsis for k in index):
            index = self._expand_ellipsis(index)
        elif index is Ellipsis:
            index = (slice(None),)
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
        return self._with_shap_view(dataclasses.replace(self, **changes), dropped=("rows",))

    def _expand_ellipsis(self, index: tuple) -> tuple:
        """``(..., k)``-style keys in shap's layout as (rows, features, labels) keys."""
        if sum(k is Ellipsis for k in index) > 1:
            raise InputError(describe("index", "at most one Ellipsis (...)",
                                      got_text=f"{sum(k is Ellipsis for k in index)}"))
        axes = [a for a in ("rows", "features", "labels") if a not in self._shap_dropped]
        if self.labels.shape[-1] == 1 and "labels" in axes:
            axes.remove("labels")
        given = [k for k in index if k is not Ellipsis]
        if len(given) > len(axes):
            raise InputError(describe(
                "index", f"at most {len(axes)} keys around the Ellipsis (shap's axes: "
                f"{', '.join(axes)})", got_text=f"{len(given)}"))
        at = next(i for i, k in enumerate(index) if k is Ellipsis)
        before, after = list(index[:at]), list(index[at + 1:])
        keys = dict(zip(axes[:len(before)], before, strict=True))
        keys.update(zip(axes[len(axes) - len(after):], after, strict=True))
        return tuple(keys.get(a, slice(None)) for a in ("rows", "features", "labels"))

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
                    known = ("an int, a slice, a list or a mask (no names on this axis)"
                             if names is None else f"one of {list(names)[:10]}"
                             + ("..." if len(names) > 10 else ""))
                    raise InputError(describe(axis, known, k))
                out.append(list(names).index(k))
            elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
                if not -size <= k < size:
                    what = ("an explained output position" if axis.endswith("(labels)")
                            else "an index")
                    raise InputError(describe(axis, f"{what} in [-{size}, {size})", k))
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
        if len(key) > 2 and not (isinstance(key[2], slice) and key[2] == slice(None)):
            names = ([self.output_name(int(k)) for k in self.labels]
                     if self.labels.ndim == 1 else None)
            labs = self._axis_index(key[2], self.labels.shape[-1], names, "index (labels)")
        dropped = [axis for axis, k in zip(("rows", "features", "labels"), key, strict=False)
                   if isinstance(k, (str, np.str_)) or (
                       isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)))]
        if self.values.ndim != 3 and "features" in dropped:
            dropped.remove("features")

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
        return self._with_shap_view(dataclasses.replace(self, **changes), dropped=dropped)

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

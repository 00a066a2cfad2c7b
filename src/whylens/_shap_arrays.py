"""shap's array view of an Explanation: its layout, selection and reductions.

:class:`ShapArrays` is a base class of :class:`whylens.Explanation`: the
``shap_values`` / ``shap_base_values`` layouts, ``exp[i]`` and shap-style
selection ``exp[rows, features, labels]`` (ints, names, slices, lists, masks,
an Ellipsis), and the reductions ``abs``, ``mean``, ``sum``, ``max`` and
``min`` over the instances. ``values`` itself always keeps every axis; which
axes shap would drop is remembered on the result (``_shap_dropped``).

Like :mod:`whylens._views`, this module imports no representation and no
explainer: it is part of the result type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

if TYPE_CHECKING:
    from whylens.explanation import Explanation, Features, Surrogate

__all__ = ["ShapArrays"]


class ShapArrays:
    """shap's arrays, selection and reductions, for :class:`whylens.Explanation` to inherit.

    The attributes below are the Explanation's fields these methods read; they
    also use ``n_instances`` and ``output_name`` of
    :class:`whylens._views.ExplanationViews`.
    """

    values: np.ndarray
    labels: np.ndarray
    features: Features
    output: np.ndarray | None
    base_values: np.ndarray | None
    selected: np.ndarray | None
    surrogate: Surrogate | None
    layer_values: np.ndarray | None
    delta: np.ndarray | None
    _PER_INSTANCE: tuple[str, ...]

    # shap's view of a selection. Not dataclass fields (unannotated): neither serialised nor
    # compared, and reset by dataclasses.replace. ``_shap_dropped`` names the axes an int or a
    # single name selected ("rows", "features", "labels"), which shap's arrays drop;
    # ``_shap_transformed`` marks values changed by ``abs`` or a reduction (``mean(0)`` ...),
    # after which shap's bar plot shows feature names without data values.
    _shap_dropped = frozenset()
    _shap_transformed = False

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
        features = type(f)(kind=f.kind, names=list(f.names), data=data)
        base = None if self.base_values is None else func(self.base_values, axis=0,
                                                          keepdims=True)
        out = dataclasses.replace(
            self, values=func(self.values, axis=0, keepdims=True), base_values=base,
            features=features, output=None, selected=None, surrogate=None, layer_values=None,
            delta=None)
        return self._with_shap_view(out, dropped=("rows",), transformed=True)

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

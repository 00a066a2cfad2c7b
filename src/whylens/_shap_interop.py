"""Conversion between :class:`whylens.Explanation` and ``shap.Explanation``.

shap drops the axes an int selects and the outputs axis of a single-output
model: a batch is (n, d) or (n, d, k), one row (d,) or (d, k), one feature's
column (n,) or (n, k). whylens keeps every axis, (n, k, d), and remembers
which ones shap would drop (``Explanation._shap_dropped``) so that
``Explanation.from_shap(sv).shap_values`` has the shape of ``sv.values`` and
:func:`to_shap` gives shap's arrays back.

shap is imported only by :func:`to_shap`; :func:`from_shap` reads the object's
attributes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import (
    InputError,
    InputTypeError,
    MissingDependencyError,
    NotSupportedError,
    describe,
)

__all__ = ["from_shap", "is_shap_explanation", "to_shap"]


def is_shap_explanation(obj: Any) -> bool:
    """True for a ``shap.Explanation`` (checked by its module, without importing shap)."""
    cls = type(obj)
    return cls.__name__ == "Explanation" and cls.__module__.split(".")[0] == "shap"


def _layout(values: np.ndarray, base: np.ndarray | None, data: np.ndarray | None,
            names: Any) -> tuple[str, ...]:
    """The whylens axes (``"rows"``, ``"features"``, ``"labels"``) of shap's ``values``."""
    column = isinstance(names, str)
    bdim = None if base is None else base.ndim
    if values.ndim == 1:
        if column or (bdim == 1 and base.shape[0] == values.shape[0] and data is not None
                      and data.ndim == 1 and not isinstance(names, (list, tuple, np.ndarray))):
            return ("rows",)
        return ("features",)
    if values.ndim == 2:
        if column or (bdim == 2 and base.shape == values.shape):
            return ("rows", "labels")
        if data is not None:
            one_row = data.ndim == 1
        elif names is not None and not column and len(names) == values.shape[0] != \
                values.shape[1]:
            one_row = True
        else:  # a row of several outputs has one base value per output (d, k) -> (k,)
            one_row = bdim == 1 and base.shape[0] == values.shape[1] != values.shape[0]
        return ("features", "labels") if one_row else ("rows", "features")
    return ("rows", "features", "labels")


def from_shap(cls: Any, features_cls: Any, sv: Any) -> Any:
    """Build ``cls`` from a ``shap.Explanation`` (see :meth:`Explanation.from_shap`).

    The result classes are passed in (``Explanation``, ``Features``) so this
    module imports nothing of the result type: it stays out of any import cycle.
    """
    Features = features_cls

    if not is_shap_explanation(sv):
        raise InputTypeError(describe("explanation", "a shap.Explanation", sv,
                                      "For a whylens Explanation there is nothing to convert."))
    try:
        values = np.asarray(sv.values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NotSupportedError(describe(
            "explanation", "a shap.Explanation of tabular values (one number per feature)",
            got_text="ragged values (text tokens of different lengths?)",
            fix="Explain text with whylens.shap and a TextMasker instead.")) from exc
    if values.ndim == 0 or values.ndim > 3:
        raise NotSupportedError(describe(
            "explanation", "a shap.Explanation of tabular values, 1 to 3 axes",
            got_text=f"values of shape {values.shape}",
            fix="Explain images with whylens.shap and an ImageMasker instead."))
    base = None if sv.base_values is None else np.asarray(sv.base_values, dtype=np.float64)
    raw_data = getattr(sv, "data", None)
    data = None if raw_data is None else np.asarray(raw_data)
    names = getattr(sv, "feature_names", None)
    if names is not None and not isinstance(names, str):
        names = [str(n) for n in names]
    axes = _layout(values, base, data, names)
    full = values
    for a in ("rows", "features", "labels"):
        if a not in axes:
            full = np.expand_dims(full, {"rows": 0, "features": 1, "labels": 2}[a])
    V = np.moveaxis(full, 2, 1)  # (n, d, k) -> (n, k, d)
    n, k, d = V.shape
    B = None
    if base is not None:
        if base.size == n * k:
            B = base.reshape(n, k).copy()
        elif base.size in (1, k):
            B = np.broadcast_to(base.reshape(1, -1), (n, k)).copy()
        elif base.size == n:
            B = np.broadcast_to(base.reshape(n, 1), (n, k)).copy()
        else:
            raise InputError(describe("explanation.base_values", f"{n * k} numbers ({n} rows "
                                      f"x {k} outputs)", got_text=f"shape {base.shape}"))
    if isinstance(names, str):
        names = [names]
    if names is None or len(names) != d:
        names = [f"Feature {j}" for j in range(d)]
    X = None
    if data is not None and data.size == n * d:
        try:
            X = data.astype(np.float64).reshape(n, d)
        except (TypeError, ValueError):
            X = None  # strings: kept out; shap's plots show them only as labels
    outs = getattr(sv, "output_names", None)
    if isinstance(outs, str):
        outs = [outs]
    output_names = [str(o) for o in outs] if outs is not None and len(outs) == k else None
    output = None if B is None else B + V.sum(axis=2)
    exp = cls(values=V, labels=np.arange(k), method="shap",
              features=Features(kind="tabular", names=list(names), data=X),
              mode="regression" if k == 1 else "classification", output=output,
              output_names=output_names, base_values=B,
              params={"source": "shap.Explanation"})
    dropped = {a for a in ("rows", "features") if a not in axes}
    if k == 1 and "labels" not in axes:
        dropped.add("labels")
    exp._shap_dropped = frozenset(dropped)
    # shap's bar plot hides the data after a transform (abs, mean ...), as whylens' does
    exp._shap_transformed = any(getattr(op, "name", "__getitem__") != "__getitem__"
                                for op in getattr(sv, "op_history", None) or ())
    return exp


def to_shap(exp: Any) -> Any:
    """shap's ``Explanation`` of ``exp`` (see :meth:`Explanation.to_shap`)."""
    try:
        import shap
    except ImportError as exc:
        raise MissingDependencyError(describe(
            "to_shap", "the shap package installed", got_text="no shap",
            fix="pip install shap, or read exp.shap_values and exp.shap_base_values.")) from exc
    dropped = exp._shap_dropped
    names: Any = list(exp.features.names)
    data = exp.features.data
    if exp.values.ndim == 3 and data is not None and np.ndim(data) == 2:
        data = np.asarray(data)
        if "features" in dropped:
            data = data[:, 0]
        if "rows" in dropped and data.shape[0] == 1:
            data = data[0]
    else:
        data = None
    if exp.values.ndim == 3 and "features" in dropped:
        names = names[0]
    k = exp.labels.shape[-1]
    output_names = None
    if k > 1 and "labels" not in dropped and exp.labels.ndim == 1:
        output_names = [exp.output_name(int(label)) for label in exp.labels]
    return shap.Explanation(values=exp.shap_values, base_values=exp.shap_base_values,
                            data=data, feature_names=names, output_names=output_names)

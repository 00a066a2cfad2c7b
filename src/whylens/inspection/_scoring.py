"""Scorers over precomputed model outputs, for permutation importance.

scikit-learn's scorers call ``scorer(estimator, X, y)``, and the scorer calls
``estimator.predict`` (or ``predict_proba``, ``decision_function``) on ``X``.
Permutation importance evaluates every repeat of a feature in one chunked
model call first and scores each repeat afterwards: the scorer is handed a
*replay* stand-in of the model whose response methods return the outputs
already computed. Every scikit-learn scorer (by name or object) and every
callable with the scorer signature works unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe
from whylens.models import Model, as_model

__all__ = ["ReplayToken", "Responses", "fast_metrics", "is_sklearn_estimator", "replay",
           "resolve_scoring", "responses_of"]

_METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba")


def resolve_scoring(scoring: Any, *, classifier: bool
                    ) -> tuple[dict[str, Callable[..., Any]], dict[str, str]]:
    """The scorers by name, read as scikit-learn reads ``scoring``, and the scikit-learn
    names of those given by name (``{name: metric}``)."""
    from sklearn.metrics import get_scorer, get_scorer_names

    def one(name: str, value: Any) -> Callable[..., Any]:
        if callable(value):
            return value
        if isinstance(value, str):
            try:
                return get_scorer(value)
            except ValueError as exc:
                raise InputError(describe(
                    "scoring", "a scikit-learn scorer name or a callable scorer(estimator, X, "
                    "y)", value, "See sklearn.metrics.get_scorer_names(), e.g. "
                    f"{sorted(get_scorer_names())[:6]}.")) from exc
        raise InputTypeError(describe(f"scoring[{name!r}]", "a scorer name or a callable",
                                      value))

    if scoring is None:
        name = "accuracy" if classifier else "r2"
        return {name: get_scorer(name)}, {name: name}
    if isinstance(scoring, str):
        return {scoring: one(scoring, scoring)}, {scoring: scoring}
    if callable(scoring):
        return {getattr(scoring, "__name__", "score"): scoring}, {}
    if isinstance(scoring, dict):
        if not scoring:
            raise InputError(describe("scoring", "a non-empty dict of name -> scorer", scoring))
        return ({str(k): one(str(k), v) for k, v in scoring.items()},
                {str(k): v for k, v in scoring.items() if isinstance(v, str)})
    if isinstance(scoring, (list, tuple, set, frozenset)):
        items = list(scoring)
        if not items or not all(isinstance(s, str) for s in items):
            raise InputError(describe("scoring", "a non-empty list of scorer names", scoring,
                                      "Pass callables as a dict {name: scorer}."))
        if len(set(items)) != len(items):
            raise InputError(describe("scoring", "distinct scorer names", scoring))
        return {s: one(s, s) for s in items}, {s: s for s in items}
    raise InputTypeError(describe(
        "scoring", "None, a scorer name, a callable, a list of names or a dict", scoring))


def is_sklearn_estimator(obj: Any) -> bool:
    return not isinstance(obj, Model) and hasattr(obj, "fit") and any(
        hasattr(obj, m) for m in _METHODS)


@dataclasses.dataclass
class Responses:
    """The model's response methods: which chunked Model computes each, and how its
    float (n, k) output becomes what the method returns (labels, 1-D scores)."""

    classifier: bool
    classes: Any
    sources: dict[str, Model]  # source key -> Model (float rows out)
    method_source: dict[str, str]  # method -> source key
    decoders: dict[str, Callable[[np.ndarray], Any]]

    @property
    def available(self) -> tuple[str, ...]:
        return tuple(m for m in _METHODS if m in self.method_source)


def _label_codec(classes: np.ndarray) -> tuple[Callable[[Any], np.ndarray],
                                               Callable[[np.ndarray], Any]]:
    def encode(labels: Any) -> np.ndarray:
        labels = np.asarray(labels)
        index = np.clip(np.searchsorted(classes, labels), 0, classes.size - 1)
        if not np.array_equal(classes[index], labels):
            raise InputError(describe("model", "a classifier whose predict returns classes_",
                                      got_text="labels outside classes_"))
        return index.astype(np.float64)

    def decode(out: np.ndarray) -> Any:
        return classes[out[:, 0].astype(np.intp)]

    return encode, decode


def _ravel_one(out: np.ndarray) -> np.ndarray:
    return out[:, 0] if out.shape[1] == 1 else out


def responses_of(model: Any, batch_size: int | None, head: Any) -> Responses:
    """The response methods of ``model`` (see :func:`permutation_importance`, ``model``)."""
    if is_sklearn_estimator(model):
        from sklearn.base import is_classifier

        as_model(model)  # refuses an unfitted estimator with whylens' message
        classifier = bool(is_classifier(model))
        classes = np.asarray(model.classes_) if classifier else None
        sources: dict[str, Model] = {}
        decoders: dict[str, Callable[[np.ndarray], Any]] = {}
        name = type(model).__name__
        for method in _METHODS:
            fn = getattr(model, method, None)
            if fn is None:
                continue
            if method == "predict" and classifier:
                encode, decoders[method] = _label_codec(classes)
                fn = (lambda f, e: lambda X: e(f(X)))(fn, encode)
            else:
                decoders[method] = (lambda o: o) if method.endswith("proba") else _ravel_one
            sources[method] = Model(fn, kind="sklearn", chunk_size=batch_size, name=name,
                                    output=method)
        return Responses(classifier, classes, sources, {m: m for m in sources}, decoders)
    wrapped = as_model(model, chunk_size=batch_size)
    out = wrapped(head)
    k = out.shape[1]
    if k == 1:
        return Responses(False, None, {"out": wrapped}, {"predict": "out"},
                          {"predict": _ravel_one})
    names = wrapped.output_names
    classes = np.asarray(names) if names is not None and len(names) == k else np.arange(k)
    probability = wrapped.output == "probability" or (
        bool(np.all(out >= 0)) and np.allclose(out.sum(axis=1), 1.0))
    method = "predict_proba" if probability else "decision_function"
    return Responses(True, classes, {"out": wrapped}, {method: "out", "predict": "out"},
                      {method: lambda o: o,
                       "predict": lambda o: classes[np.argmax(o, axis=1)]})


class ReplayToken:
    """What a scikit-learn scorer receives as ``X``: a token of n rows (its scorers only
    hand ``X`` to the estimator's methods, so the permuted table need not be built)."""

    def __init__(self, n: int) -> None:
        self.shape = (n,)

    def __len__(self) -> int:
        return self.shape[0]


def _make_method(method: str) -> Callable[[Any, Any], Any]:
    def response(self: Any, X: Any) -> Any:
        return self._respond(method, X)

    response.__name__ = method  # scikit-learn reads the method's name
    return response


_REPLAY_CLASSES: dict[tuple[bool, tuple[str, ...]], type] = {}


def replay(responses: Responses, respond: Callable[[str, Any], Any]) -> Any:
    """A stand-in estimator (classifier or regressor, with ``classes_`` and exactly the
    model's response methods) whose methods call ``respond(method, X)``."""
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    key = (responses.classifier, responses.available)
    cls = _REPLAY_CLASSES.get(key)
    if cls is None:
        bases = (ClassifierMixin, BaseEstimator) if responses.classifier else (
            RegressorMixin, BaseEstimator)
        cls = type("ReplayEstimator", bases,
                   {m: _make_method(m) for m in responses.available})
        _REPLAY_CLASSES[key] = cls
    stand_in = cls()
    stand_in._respond = respond
    if responses.classifier:
        stand_in.classes_ = responses.classes
    return stand_in


# ----------------------------------------------------------------------------- fast metrics
#: Score of every repeat at once: ``fn(P, y, w) -> (n_repeats,)`` from the decoded outputs
#: ``P`` of shape (n_repeats, m) (predictions, labels) or (n_repeats, m, k) (probabilities).
MetricFn = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def _average(values: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``np.average`` along the rows of every repeat (scikit-learn's ``_average``)."""
    if w is None:
        return values.mean(axis=1)
    return (values * w).sum(axis=1) / w.sum()


def _r2(P: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    weight = 1.0 if w is None else w
    numerator = (weight * (y - P) ** 2).sum(axis=1)
    denominator = (weight * (y - np.average(y, weights=w)) ** 2).sum()
    if denominator == 0:  # scikit-learn's force_finite
        return np.where(numerator == 0, 1.0, 0.0)
    return 1.0 - numerator / denominator


def _log_loss(classes: np.ndarray) -> MetricFn:
    def fn(P: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        index = np.searchsorted(classes, y)
        if P.shape[2] == 2:  # scikit-learn sees the positive column and rebuilds 1 - p
            p1 = P[:, :, 1]
            p_true = np.where(index == 1, p1, 1.0 - p1)
        else:
            p_true = P[:, np.arange(P.shape[1]), index]
        eps = np.finfo(np.float64).eps
        return _average(np.log(np.clip(p_true, eps, 1 - eps)), w)

    return fn


def fast_metrics(metric_names: dict[str, str], responses: Responses, y: Any
                 ) -> dict[str, tuple[str, MetricFn]]:
    """The scorers named after scikit-learn metrics that numpy computes over every repeat at
    once, equal to scikit-learn's scorers (``{name: (method, fn)}``).

    Covered: ``r2``, ``neg_mean_squared_error``, ``neg_root_mean_squared_error``,
    ``neg_mean_absolute_error`` for a regressor's 1-D predictions; ``accuracy``
    for a classifier; ``neg_log_loss`` for a classifier's probabilities when
    every class occurs in ``y``. Anything else goes through the scorer.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        return {}
    out: dict[str, tuple[str, MetricFn]] = {}
    regression = not responses.classifier and "predict" in responses.method_source and \
        y.dtype.kind in "biuf"
    for name, metric in metric_names.items():
        if regression and metric == "r2":
            out[name] = ("predict", _r2)
        elif regression and metric == "neg_mean_squared_error":
            out[name] = ("predict", lambda P, y, w: -_average((y - P) ** 2, w))
        elif regression and metric == "neg_root_mean_squared_error":
            out[name] = ("predict", lambda P, y, w: -np.sqrt(_average((y - P) ** 2, w)))
        elif regression and metric == "neg_mean_absolute_error":
            out[name] = ("predict", lambda P, y, w: -_average(np.abs(P - y), w))
        elif responses.classifier and metric == "accuracy" and \
                "predict" in responses.method_source:
            out[name] = ("predict", lambda P, y, w: _average((P == y).astype(np.float64), w))
        elif responses.classifier and metric == "neg_log_loss" and \
                "predict_proba" in responses.method_source:
            classes = np.asarray(responses.classes)
            try:
                present = np.array_equal(np.unique(y), classes)
            except TypeError:  # labels that do not compare
                present = False
            if present and classes.size >= 2:
                loss = _log_loss(classes)
                out[name] = ("predict_proba", loss)
    return out

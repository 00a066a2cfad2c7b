"""Submodular pick (SP-LIME): a few explanations that together cover the model.

Ribeiro, Singh and Guestrin (2016), section 4: explain a sample of instances,
gather the explanations into a matrix ``W`` (one row per explanation, one
column per interpretable feature), give every feature the global importance
``I_j = sqrt(sum_i |W_ij|)``, and pick, greedily, the explanation that most
increases the coverage ``c(V) = sum_j I_j [some i in V has W_ij != 0]``.
Coverage is submodular, so the greedy pick is within ``1 - 1/e`` of the best
set of that size.

:class:`SubmodularPick` has lime's name, arguments and attributes
(``explanations``, ``V``, ``sp_explanations``) and picks what lime picks on the
same explanations (ties go to the later explanation, as in lime).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import checked_callback
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["SubmodularPick", "submodular_pick"]

_METHODS = ("sample", "full")
_KEYS = ("description", "name")


def _row(data: Any, i: int) -> Any:
    iloc = getattr(data, "iloc", None)
    return iloc[i] if iloc is not None else data[i]


def _features_of(exp: Any, label: int, key: str) -> list[tuple[str, float]]:
    """``(feature, weight)`` pairs of one label: lime's ``as_list`` or the plain names."""
    if key == "description":
        return list(exp.as_list(label=label))
    names = list(exp.features.names)
    return [(names[i], w) for i, w in exp.as_map()[label]]


class SubmodularPick:
    """Pick ``num_exps_desired`` explanations that cover the most important features.

    Drop-in for ``lime.submodular_pick.SubmodularPick``: the work is done when
    the object is built.

    Parameters
    ----------
    explainer : LIME explainer
        Anything with lime's ``explain_instance(instance, predict_fn,
        num_features=..., top_labels=..., **kwargs)`` returning explanations
        with ``as_list``, ``as_map``, ``available_labels`` and ``mode``
        (whylens' and lime's explainers).
    data : ndarray, DataFrame or sequence
        The instances to choose from (table rows, documents, images).
    predict_fn : callable or model
        Passed to ``explain_instance``.
    method : {"sample", "full"}, default="sample"
        Explain ``sample_size`` instances drawn at random, or every instance.
    sample_size : int, default=1000
        Capped at ``len(data)`` (with a warning, as lime).
    num_exps_desired : int, default=5
        Capped at the number of explanations (with a warning, as lime).
    num_features : int, default=10
        Features per explanation.
    random_state : None, int or numpy.random.Generator, optional
        Seeds the sample (lime draws from numpy's global state). It is not
        passed on to the explainer, which has its own.
    feature_key : {"description", "name"}, default="description"
        What counts as one feature of ``W``: lime's ``as_list`` text (for a
        discretised table, ``"age <= 30"`` and ``"age > 30"`` are two
        features), or the feature's name (one column is one feature).
    progress : bool, optional
        A progress bar over the explanations (default: when stderr is a terminal).
    callback : callable, optional
        ``callback(done, total)`` after every explanation; raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops.
    **kwargs
        Passed to ``explain_instance`` (``top_labels`` defaults to 1, as lime).

    Attributes
    ----------
    explanations : list
        Every explanation computed, in the order of ``indices``.
    indices : ndarray of int
        Position in ``data`` of each explanation's instance.
    V : list of int
        Positions in ``explanations`` of the picked ones, in pick order.
    sp_explanations : list
        The picked explanations.
    W : ndarray of shape (n_explanations, n_features)
        The explanation matrix (weights summed over the explained labels).
    feature_names : list of str
        The features (columns of ``W``), in order of first appearance.
    importance : ndarray of shape (n_features,)
        ``sqrt(sum_i |W_ij|)``.
    coverage : list of float
        Coverage of the picked set after each pick (non-decreasing).
    params : dict
        The arguments, ``random_state`` included.

    Raises
    ------
    InputError, InputTypeError
        An unknown ``method`` or ``feature_key``, non-positive counts, empty
        ``data``, an explainer without ``explain_instance``.

    References
    ----------
    M. T. Ribeiro, S. Singh and C. Guestrin, "Why Should I Trust You?":
    Explaining the Predictions of Any Classifier, KDD 2016.
    """

    def __init__(self, explainer: Any, data: Any, predict_fn: Any, method: str = "sample",
                 sample_size: int = 1000, num_exps_desired: int = 5, num_features: int = 10,
                 *, random_state: int | np.random.Generator | None = None,
                 feature_key: str = "description", progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None, **kwargs: Any) -> None:
        if not callable(getattr(explainer, "explain_instance", None)):
            raise InputTypeError(describe("explainer", "a LIME explainer with explain_instance",
                                          explainer))
        if method not in _METHODS:
            raise InputError(describe("method", f"one of {_METHODS}", method))
        if feature_key not in _KEYS:
            raise InputError(describe("feature_key", f"one of {_KEYS}", feature_key))
        sample_size = check_positive_int("sample_size", sample_size)
        num_exps_desired = check_positive_int("num_exps_desired", num_exps_desired)
        num_features = check_positive_int("num_features", num_features)
        callback = checked_callback(callback)
        try:
            n = len(data)
        except TypeError as exc:
            raise InputTypeError(describe("data", "a sequence of instances (array, DataFrame "
                                          "or list)", data)) from exc
        if n == 0:
            raise InputError(describe("data", "at least one instance", data))
        rng = check_random_state(random_state)
        if method == "sample":
            if sample_size > n:
                warnings.warn(f"sample_size={sample_size} is larger than the {n} instances in "
                              "data: explaining all of them.", UserWarning, stacklevel=2)
                sample_size = n
            indices = rng.permutation(n)[:sample_size]
        else:
            indices = np.arange(n)
        top_labels = kwargs.pop("top_labels", 1)

        self.indices = indices
        self.explanations: list[Any] = []
        bar = None
        if progress or (progress is None and sys.stderr.isatty() and indices.size > 1):
            from tqdm.auto import tqdm

            bar = tqdm(total=indices.size, desc="whylens: submodular pick",
                       unit="explanations", leave=False)
        try:
            for done, i in enumerate(indices, start=1):
                self.explanations.append(explainer.explain_instance(
                    _row(data, int(i)), predict_fn, num_features=num_features,
                    top_labels=top_labels, **kwargs))
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(done, int(indices.size))
        finally:
            if bar is not None:
                bar.close()

        if num_exps_desired > len(self.explanations):
            warnings.warn(f"num_exps_desired={num_exps_desired} is more than the "
                          f"{len(self.explanations)} explanations: returning all of them.",
                          UserWarning, stacklevel=2)
        num_exps_desired = min(num_exps_desired, len(self.explanations))
        self.W, self.feature_names = explanation_matrix(self.explanations, feature_key)
        self.importance = np.sqrt(np.abs(self.W).sum(axis=0))
        self.V, self.coverage = greedy_cover(self.W, self.importance, num_exps_desired)
        self.sp_explanations = [self.explanations[i] for i in self.V]
        self.params = {"method": method, "sample_size": int(indices.size),
                       "num_exps_desired": num_exps_desired, "num_features": num_features,
                       "top_labels": top_labels, "feature_key": feature_key,
                       "random_state": random_state_param(random_state)}

    def __repr__(self) -> str:
        return (f"SubmodularPick(n_explanations={len(self.explanations)}, V={self.V}, "
                f"n_features={len(self.feature_names)})")


def explanation_matrix(explanations: Sequence[Any], feature_key: str = "description"
                       ) -> tuple[np.ndarray, list[str]]:
    """lime's explanation matrix: weights summed over every explained label.

    Parameters
    ----------
    explanations : sequence of explanations
    feature_key : {"description", "name"}, default="description"

    Returns
    -------
    W : ndarray of shape (n_explanations, n_features)
    names : list of str
        The features, in order of first appearance.
    """
    columns: dict[str, int] = {}
    entries: list[tuple[int, int, float]] = []
    for i, exp in enumerate(explanations):
        labels = exp.available_labels() if exp.mode == "classification" else [1]
        for label in labels:
            for feature, value in _features_of(exp, label, feature_key):
                j = columns.setdefault(str(feature), len(columns))
                entries.append((i, j, float(value)))
    W = np.zeros((len(explanations), len(columns)))
    for i, j, value in entries:
        W[i, j] += value
    return W, list(columns)


def greedy_cover(W: np.ndarray, importance: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """Greedy maximisation of the coverage ``sum_j importance_j [some picked row uses j]``.

    Ties go to the later row (lime's ``>=`` over its remaining rows).

    Returns
    -------
    picked : list of int
        Row indices in pick order.
    coverage : list of float
        Coverage after each pick.
    """
    used = np.abs(W) > 0
    covered = np.zeros(W.shape[1], dtype=bool)
    remaining = np.ones(W.shape[0], dtype=bool)
    picked: list[int] = []
    coverage: list[float] = []
    for _ in range(k):
        totals = (used | covered) @ importance
        totals[~remaining] = -np.inf
        best = int(np.flatnonzero(totals == totals.max())[-1])
        picked.append(best)
        remaining[best] = False
        covered |= used[best]
        coverage.append(float(importance[covered].sum()))
    return picked, coverage


def submodular_pick(explainer: Any, data: Any, predict_fn: Any, *, method: str = "sample",
                    sample_size: int = 1000, num_exps_desired: int = 5, num_features: int = 10,
                    random_state: int | np.random.Generator | None = None,
                    **explain_kwargs: Any) -> SubmodularPick:
    """SP-LIME: explain a sample, then pick explanations that cover the model.

    The function form of :class:`SubmodularPick` (same arguments; see there).

    Returns
    -------
    SubmodularPick
        ``sp_explanations`` are the picked explanations, ``V`` their positions
        in ``explanations``, ``coverage`` the coverage after each pick.

    Raises
    ------
    InputError, InputTypeError
        As :class:`SubmodularPick`.

    Examples
    --------
    >>> from whylens.lime import LimeTabularExplainer, submodular_pick
    >>> sp = submodular_pick(LimeTabularExplainer(X_train), X_test, model.predict_proba,
    ...                      num_exps_desired=5, random_state=0)  # doctest: +SKIP
    >>> [e.as_list() for e in sp.sp_explanations]  # doctest: +SKIP
    """
    return SubmodularPick(explainer, data, predict_fn, method=method, sample_size=sample_size,
                          num_exps_desired=num_exps_desired, num_features=num_features,
                          random_state=random_state, **explain_kwargs)

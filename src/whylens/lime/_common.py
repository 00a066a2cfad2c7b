"""What every LIME explainer shares: labels, kernel weights, surrogates per label."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens._convention import resolve_target
from whylens._validation import check_names, check_positive_int
from whylens.errors import InputError, InputTypeError, ModelOutputError, describe
from whylens.explanation import Explanation, Features, Surrogate
from whylens.lime._solver import LimeSolver, exponential_kernel

__all__ = [
    "LabelFits",
    "check_kernel",
    "check_num_samples",
    "distances_to_first",
    "finish_explanation",
    "fit_labels",
    "resolve_labels",
    "surrogate_solver",
]

Kernel = Callable[[np.ndarray, float], np.ndarray]


def check_num_samples(num_samples: Any) -> int:
    """Return ``num_samples`` as an int >= 2.

    One sample is the instance alone: the surrogate has nothing to fit and
    every weight would be 0.

    Raises
    ------
    InputTypeError
        Not an integer.
    InputError
        Below 2.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        return check_positive_int("num_samples", num_samples, minimum=2)
    if num_samples < 2:
        raise InputError(describe(
            "num_samples", "an integer >= 2 (the instance and at least one perturbed sample)",
            num_samples, "With the instance alone every weight would be 0; lime's default "
                         "is 5000."))
    return int(num_samples)


def check_kernel(kernel: Any, kernel_width: Any) -> tuple[Kernel, float | None]:
    """Validate ``kernel`` (callable or None) and ``kernel_width`` (positive or None)."""
    if kernel is None:
        kernel = exponential_kernel
    elif not callable(kernel):
        raise InputTypeError(describe("kernel", "a callable kernel(distances, width) or None",
                                      kernel))
    if kernel_width is not None:
        if isinstance(kernel_width, bool) or not isinstance(kernel_width, (int, float)) \
                or not np.isfinite(kernel_width) or kernel_width <= 0:
            raise InputError(describe("kernel_width", "a positive number", kernel_width))
        kernel_width = float(kernel_width)
    return kernel, kernel_width


def distances_to_first(Z: np.ndarray, metric: str) -> np.ndarray:
    """Distances of every row of ``Z`` to row 0.

    Euclidean and cosine distances are computed directly; any other
    scikit-learn metric name goes through ``pairwise_distances``.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    if not isinstance(metric, str):
        raise InputTypeError(describe("distance_metric", "a metric name such as 'cosine'",
                                      metric))
    # Row norms by einsum and products with row 0 by matrix-vector products:
    # no temporary of Z's size (see _solver._centered_gram for why that matters).
    if metric == "euclidean":
        # ||z||^2 - 2 z.z0 + ||z0||^2, as scikit-learn's (and so lime's) euclidean
        # distances; rounding can push a tiny squared distance below zero.
        z0 = Z[0]
        sq = np.einsum("ij,ij->i", Z, Z)
        sq -= 2.0 * (Z @ z0)
        sq += float(z0 @ z0)
        np.maximum(sq, 0.0, out=sq)
        sq[0] = 0.0
        return np.sqrt(sq, out=sq)
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
        dots = Z @ Z[0]
        denom = norms * norms[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = np.where(denom > 0, dots / denom, 0.0)
        return np.clip(1.0 - sim, 0.0, 2.0)
    from sklearn.metrics import pairwise_distances

    try:
        return pairwise_distances(Z, Z[:1], metric=metric).ravel()
    except (ValueError, TypeError) as exc:
        raise InputError(describe("distance_metric", "a scikit-learn metric name", metric,
                                  "e.g. 'cosine', 'euclidean', 'manhattan'.")) from exc


def resolve_labels(
    labels: Any, top_labels: Any, first_output: np.ndarray, mode: str
) -> tuple[np.ndarray, list[int] | None]:
    """Work out which outputs to explain.

    Parameters
    ----------
    labels : sequence of int
    top_labels : int or None
        If given, explain the ``top_labels`` outputs with the highest value at
        the instance instead of ``labels``.
    first_output : ndarray of shape (n_outputs,)
        The model's output at the instance.
    mode : {"classification", "regression"}

    Returns
    -------
    labels : ndarray of int
    top : list of int or None
        The top labels, best first, when asked.

    Raises
    ------
    InputError
        Labels out of range, or an unusable ``top_labels``.
    """
    k = first_output.shape[0]
    if mode == "regression":
        if k != 1:
            raise ModelOutputError(
                describe("output of the model", "one value per row in regression mode",
                         got_text=f"{k} outputs per row",
                         fix="Return a 1-D array of predictions, or use mode='classification'.")
            )
        return np.array([0]), None
    if top_labels is not None:
        top_labels = check_positive_int("top_labels", top_labels)
        order = np.argsort(first_output, kind="stable")[-top_labels:][::-1]
        return order.astype(np.int64), [int(i) for i in order]
    if isinstance(labels, (int, np.integer)) and not isinstance(labels, bool):
        labels = (labels,)
    try:
        arr = np.asarray(list(labels))
    except TypeError as exc:
        raise InputTypeError(describe("labels", "a sequence of output indices", labels)) from exc
    if arr.size == 0 or arr.dtype.kind not in "iu":
        raise InputError(describe("labels", "a non-empty sequence of int output indices", labels))
    if (arr < 0).any() or (arr >= k).any():
        hint = (
            "The model returns a single column: for a classifier pass predict_proba (two "
            "columns for a binary problem), or use mode='regression'."
            if k == 1 else f"Choose labels in range({k}) or use top_labels."
        )
        raise InputError(
            describe("labels", f"output indices in [0, {k})", arr.tolist(), hint)
        )
    return arr.astype(np.int64), None


def check_probabilities(outputs: np.ndarray) -> None:
    """Warn, as lime does, when a classifier's outputs do not sum to one."""
    if outputs.shape[1] < 2:
        return
    # Row sums by a matrix-vector product: numpy's reduction over a short last
    # axis is much slower.
    sums = outputs @ np.ones(outputs.shape[1])
    sums -= 1.0
    if not float(np.abs(sums, out=sums).max()) <= 1e-6:
        warnings.warn(
            "classifier_fn: outputs do not sum to 1 for every row; LIME explains them as "
            "they are. Pass predict_proba (or apply softmax) to explain probabilities.",
            UserWarning,
            stacklevel=3,
        )


@dataclass
class LabelFits:
    """Surrogates of several labels in dense arrays.

    Attributes
    ----------
    values, selected : ndarray of shape (n_labels, n_features)
    intercept, score, local_prediction : ndarray of shape (n_labels,)
    """

    values: np.ndarray
    selected: np.ndarray
    intercept: np.ndarray
    score: np.ndarray
    local_prediction: np.ndarray


def surrogate_solver(Z: np.ndarray, weights: np.ndarray, model_regressor: Any
                     ) -> LimeSolver:
    """The solver of an explainer's own samples ``Z``, which it no longer needs
    (they are centred and weighted in place unless a ``model_regressor``, which
    needs them raw, is given). Explainers build it *before* calling the model:
    the samples were just written and are still in the CPU's caches, and a bad
    kernel or distance metric is reported before the model's time is spent.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples,)
    model_regressor : regressor or None

    Returns
    -------
    LimeSolver
    """
    return LimeSolver(Z, weights, overwrite_samples=model_regressor is None)


def fit_labels(
    solver: LimeSolver, Y: np.ndarray, labels: Sequence[int],
    num_features: int, feature_selection: str, model_regressor: Any,
) -> LabelFits:
    """Fit one weighted surrogate per label on the same samples.

    Parameters
    ----------
    solver : LimeSolver
        Over the samples and kernel weights (see :func:`surrogate_solver`).
    Y : ndarray of shape (n_samples, n_outputs)
    labels : sequence of int
    num_features : int
    feature_selection : str
    model_regressor : regressor or None

    Returns
    -------
    LabelFits
    """
    d = solver.n_features
    n_labels = len(labels)
    fits = LabelFits(values=np.zeros((n_labels, d)), selected=np.zeros((n_labels, d), bool),
                     intercept=np.zeros(n_labels), score=np.zeros(n_labels),
                     local_prediction=np.zeros(n_labels))
    for j, label in enumerate(labels):
        fit = solver.fit(Y[:, label], num_features, feature_selection, model_regressor)
        fits.values[j], fits.selected[j] = fit.dense(d)
        fits.intercept[j] = fit.intercept
        fits.score[j] = fit.score
        fits.local_prediction[j] = fit.local_prediction
    return fits


def finish_explanation(
    solver: LimeSolver,
    Y: np.ndarray,
    *,
    method: str,
    mode: str,
    features: Features,
    labels: Any,
    top_labels: Any,
    target: Any,
    num_features: int,
    feature_selection: str,
    model_regressor: Any,
    class_names: Sequence[str] | None,
    model_output_names: Sequence[str] | None,
    kernel_width: float,
    params: dict[str, Any],
) -> Explanation:
    """The end of every LIME explanation, for every modality: the labels to
    explain, one surrogate per label, and the Explanation.

    Parameters
    ----------
    solver : LimeSolver
        Over the samples and kernel weights (built before the model was called).
    Y : ndarray of shape (n_samples, n_outputs)
        The model's outputs; row 0 is the instance.
    method : str
        ``"lime.tabular"``, ``"lime.text"`` or ``"lime.image"``.
    mode : {"classification", "regression"}
    features : Features
        What the values refer to.
    labels, top_labels
        lime's arguments (used when ``target`` is None).
    target : None, int, str
        whylens' convention: the output index or name to explain (overrides
        ``labels``/``top_labels``).
    num_features, feature_selection, model_regressor
        The surrogate's settings.
    class_names : sequence of str, optional
    model_output_names : sequence of str, optional
        Names the model adapter knows (a classifier's ``classes_``).
    kernel_width : float
    params : dict
        The explainer's own parameters; ``labels``, ``top_labels``,
        ``target`` and ``num_features`` are added.

    Returns
    -------
    Explanation
        ``values`` of shape (1, n_labels, n_features).

    Raises
    ------
    InputError, InputTypeError
        Labels or target out of range, names of the wrong length.
    ModelOutputError
        A regression model with several outputs.
    """
    k = Y.shape[1]
    names = class_names or model_output_names
    if mode == "classification":
        names = check_names("class_names", names, k, "") if names else \
            [str(i) for i in range(k)]
    if target is not None and mode == "classification":
        label_idx = resolve_target(target, Y[:1], output_names=names)[0]
        top = None
    else:
        label_idx, top = resolve_labels(labels, top_labels, Y[0], mode)
    if mode == "classification":
        check_probabilities(Y)
    fits = fit_labels(solver, Y, label_idx, num_features, feature_selection, model_regressor)
    params = dict(params)
    params.update({
        "num_features": num_features,
        "labels": [int(x) for x in label_idx],
        "top_labels": top_labels,
        "target": target if target is None or isinstance(target, str)
        else np.asarray(target).tolist(),  # an int, or one per row: [1]
        "model_regressor": None if model_regressor is None else repr(model_regressor),
    })
    return Explanation(
        values=fits.values[None],
        labels=label_idx,
        method=method,
        features=features,
        mode=mode,
        output=Y[:1].copy(),
        output_names=names,
        base_values=fits.intercept[None],
        selected=fits.selected[None],
        surrogate=Surrogate(intercept=fits.intercept[None], score=fits.score[None],
                            local_prediction=fits.local_prediction[None],
                            kernel_width=kernel_width),
        top_labels=top,
        params=params,
        n_evals=Y.shape[0],
    )

"""Partial dependence by scikit-learn's tree recursion: the trees' weighted traversal
averages over the training data without calling the model.

Where it applies (a decision tree, random forest, extra trees or (histogram)
gradient boosting, ``kind="average"``, no ``subsample``), it equals brute force
on the training data to rounding: the boosting's initial prediction, which
scikit-learn leaves out, is added back.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from whylens.models import Model

__all__ = ["recursion_average", "recursion_names", "recursion_problem"]


def recursion_offset(estimator: Any) -> np.ndarray | None:
    """What the tree recursion leaves out of the model's raw output (the boosting's
    initial prediction), of shape (n_outputs,); None when it is not a constant."""
    if hasattr(estimator, "_baseline_prediction"):  # histogram gradient boosting
        return np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    if hasattr(estimator, "estimators_") and hasattr(estimator, "_raw_predict_init"):
        init = getattr(estimator, "init", None)
        if init is not None and init != "zero":
            return None  # an init estimator: not a constant offset
        n_features = int(estimator.n_features_in_)
        return np.asarray(estimator._raw_predict_init(np.zeros((1, n_features), np.float32)),
                          dtype=np.float64).ravel()
    return np.zeros(1)


def recursion_problem(estimator: Any, output: str, kind: str, subsample: Any) -> str | None:
    """Why the recursion cannot give what was asked (None: it can)."""
    if not hasattr(estimator, "_compute_partial_dependence_recursion") or isinstance(
            estimator, Model):
        return ("it needs a scikit-learn decision tree, random forest or (histogram) gradient "
                f"boosting, got {type(estimator).__name__}")
    if kind != "average":
        return "it gives the average only (ICE curves need brute force)"
    if subsample is not None:
        return "it averages over the training data, so subsample= has no meaning there"
    from sklearn.base import is_classifier

    if is_classifier(estimator) and output != "decision":
        return ("for a classifier it gives decision-function values: pass output='decision' "
                "(probabilities need brute force)")
    if not is_classifier(estimator) and output not in ("auto", "predict"):
        return f"for a regressor it gives predictions, not output={output!r}"
    loss = getattr(estimator, "loss", None)
    if not is_classifier(estimator) and hasattr(estimator, "_baseline_prediction") and \
            loss not in ("squared_error", "absolute_error", "quantile"):
        return f"the regressor's loss={loss!r} predicts through a link function"
    if getattr(estimator, "_fitted_with_sw", False):
        return "the model was fitted with sample weights"
    if recursion_offset(estimator) is None:
        return "the boosting has an init estimator (not a constant start)"
    return None


def recursion_average(estimator: Any, grid: np.ndarray, cols: tuple[int, ...]) -> np.ndarray:
    """PD of the grid points by the trees' weighted traversal, (n_outputs, n_points)."""
    with warnings.catch_warnings():
        # scikit-learn warns for init="zero", a constant start the offset accounts for
        warnings.filterwarnings("ignore", message="Using recursion method with a non-constant")
        out = np.asarray(estimator._compute_partial_dependence_recursion(
            grid, np.asarray(cols, dtype=np.intp)), dtype=np.float64)
    out = out.reshape(-1, grid.shape[0])
    return out + recursion_offset(estimator)[:, None]


def recursion_names(estimator: Any, k: int) -> list[str] | None:
    """Names of the ``k`` outputs of the recursion: the estimator's last ``k`` classes
    (one column, the positive class, for a binary classifier), or None for a regressor."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    classes = [str(c) for c in classes]
    return classes if len(classes) == k else classes[-k:]

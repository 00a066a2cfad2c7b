"""What TreeExplainer explains: the kernels, the base value, the output transforms, additivity."""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import (
    InputError,
    MissingDependencyError,
    ModelError,
    ModelOutputError,
    NotSupportedError,
    describe,
)
from whylens.shap._tree_models import FlatEnsemble, model_output

__all__ = ["ADDITIVITY_TOL", "depth_and_expectation", "kernels", "transform",
           "transform_code", "verify_additivity"]

#: Additivity is checked to this tolerance, relative to max(1, |output|).
ADDITIVITY_TOL = 1e-9


def kernels() -> Any:
    """The numba kernels, compiled (or loaded from numba's cache) on first use.

    Raises
    ------
    MissingDependencyError
        When numba is not installed.
    """
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            describe("numba", "installed for TreeExplainer's compiled TreeSHAP",
                     got_text="not installed", fix="pip install 'whylens[tree]'")
        ) from exc
    from whylens.shap import _tree_kernels

    return _tree_kernels


def depth_and_expectation(ens: FlatEnsemble) -> tuple[int, np.ndarray]:
    """Deepest root-to-leaf path and the cover-weighted mean of the leaf values (n_outputs,).

    Breadth-first over all trees at once with numpy (no compilation needed).
    """
    expectation = np.zeros(ens.n_outputs)
    frontier = ens.roots.copy()
    tree = np.arange(ens.n_trees)
    prob = np.ones(ens.n_trees)
    depth = -1
    while frontier.size:
        depth += 1
        leaf = ens.left[frontier] < 0
        for j in range(ens.value.shape[1]):
            np.add.at(expectation, ens.tree_out[tree[leaf]] + j,
                      prob[leaf] * ens.value[frontier[leaf], j])
        inner, tree, prob = frontier[~leaf], tree[~leaf], prob[~leaf]
        kids_l, kids_r = ens.left[inner], ens.right[inner]
        cover = ens.cover[inner]
        frontier = np.concatenate([kids_l, kids_r])
        tree = np.concatenate([tree, tree])
        prob = np.concatenate([prob * ens.cover[kids_l] / cover,
                               prob * ens.cover[kids_r] / cover])
    return depth, expectation


def transform_code(ens: FlatEnsemble, model_output: str, feature_perturbation: str) -> int:
    """0 for the raw output, else the transform code of the pair kernel.

    Raises
    ------
    InputError
        ``"probability"`` for a regressor.
    NotSupportedError
        A transformed output of a multi-output model, or without background data.
    """
    if model_output == "raw" or (model_output == "probability" and ens.is_classifier
                                 and ens.link == "identity"):
        return 0
    if model_output == "probability" and not ens.is_classifier:
        raise InputError(describe("model_output", "'raw' or 'log_loss' for a regressor",
                                  model_output, "Probabilities exist only for classifiers."))
    if ens.link == "softmax" or ens.n_outputs != 1:
        raise NotSupportedError(
            describe("model_output", "'raw' for a model with several outputs",
                     model_output, "Transformed outputs are explained for one-output "
                     "models (binary boosted classifiers, regressors) only.")
        )
    if feature_perturbation != "interventional":
        raise NotSupportedError(
            describe("model_output", "'raw' with feature_perturbation="
                     "'tree_path_dependent'", model_output,
                     "Pass background data (interventional) to explain probabilities "
                     "or the loss; path-dependent values explain the log-odds (raw).")
        )
    from whylens.shap._tree_kernels import LOGISTIC, LOGISTIC_LOG_LOSS, SQUARED_LOSS

    if model_output == "probability":
        return LOGISTIC
    return LOGISTIC_LOG_LOSS if ens.is_classifier else SQUARED_LOSS


def transform(code: int, margin: np.ndarray, y: np.ndarray) -> np.ndarray:
    """numpy twin of the kernels' transforms: sigmoid, logistic loss, squared loss."""
    if code == 1:
        return 1.0 / (1.0 + np.exp(-margin))
    if code == 2:
        return np.logaddexp(0.0, margin) - y * margin
    return (margin - y) ** 2


def verify_additivity(model: Any, ens: FlatEnsemble, total: np.ndarray, rows: np.ndarray,
                      code: int = 0, labels: np.ndarray | None = None, frame: Any = None
                      ) -> tuple[np.ndarray, float]:
    """The model's (transformed) output on ``rows`` and its largest gap to ``total``.

    Parameters
    ----------
    total : ndarray of shape (n, n_outputs)
        The values' sum plus the base value.
    rows : ndarray of shape (n, n_features)
        The rows as given (the model is called on ``frame`` instead when one came).

    Returns
    -------
    output : ndarray of shape (n, n_outputs)
    gap : float
        ``max |total - output|``.

    Raises
    ------
    ModelError
        When the model raises on the rows.
    ModelOutputError
        When the gap is over :data:`ADDITIVITY_TOL` relative to max(1, |output|).
    """
    try:
        out = model_output(model, ens, rows, frame)
    except Exception as exc:  # the user's model raised on the rows
        raise ModelError(f"model: {type(model).__name__} raised on X while the "
                         f"additivity check evaluated it: {exc}") from exc
    if code:
        out = transform(code, out, labels[:, None])
    gap = np.abs(total - out)
    gap_max = float(gap.max())
    tol = ADDITIVITY_TOL * max(1.0, float(np.abs(out).max()))
    if gap_max > tol:
        row = int(np.unravel_index(np.argmax(gap), gap.shape)[0])
        raise ModelOutputError(
            describe("model", f"SHAP values plus base value equal to the model's output "
                     f"to {tol:.1e}", got_text=f"a gap of {gap_max:.3g} at row {row}",
                     fix="This is a whylens bug for this model; please report it. Pass "
                         "check_additivity=False to get the values anyway.")
        )
    return out, gap_max

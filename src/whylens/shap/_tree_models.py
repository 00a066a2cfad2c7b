"""Read fitted scikit-learn tree models once into flat arrays (no numba here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, NotSupportedError, describe

__all__ = ["SUPPORTED_MODELS", "FlatEnsemble", "read_model"]

#: Model classes TreeExplainer reads (scikit-learn; XGBoost/LightGBM are not supported yet).
SUPPORTED_MODELS = (
    "DecisionTreeClassifier", "DecisionTreeRegressor",
    "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor",
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
)


@dataclass
class FlatEnsemble:
    """All nodes of all trees in flat arrays.

    Attributes
    ----------
    left, right : ndarray of shape (n_nodes,), int64
        Global index of each node's children; -1 at leaves.
    feature : ndarray of shape (n_nodes,), int64
        Split feature (0 at leaves).
    threshold : ndarray of shape (n_nodes,), float64
        Rows with ``x[feature] <= threshold`` go left.
    default_left : ndarray of shape (n_nodes,), uint8
        1 where a NaN goes left.
    cover : ndarray of shape (n_nodes,), float64
        Training weight (or count) that reached the node.
    value : ndarray of shape (n_nodes, V), float64
        Leaf values times the tree's weight (1/n_trees, learning rate).
    roots : ndarray of shape (n_trees,), int64
    tree_out : ndarray of shape (n_trees,), int64
        Tree t adds its V values to outputs ``tree_out[t] : tree_out[t] + V``.
    n_outputs : int
    n_features : int
    base_offset : ndarray of shape (n_outputs,)
        Constant added to the trees' sum (gradient boosting's initial prediction).
    input_dtype : numpy dtype
        scikit-learn's trees compare float32 inputs; rows are cast to it first.
    output_names : list of str or None
    link : {"identity", "logistic", "softmax"}
        Map from the raw output to probabilities.
    is_classifier : bool
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    cover: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    tree_out: np.ndarray
    n_outputs: int
    n_features: int
    base_offset: np.ndarray
    input_dtype: Any
    output_names: list[str] | None
    link: str
    is_classifier: bool
    feature_names: list[str] | None = None
    model_name: str = ""
    used_features: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_trees(self) -> int:
        return int(self.roots.shape[0])


class _Builder:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.roots: list[int] = []
        self.tree_out: list[int] = []
        self.n = 0

    def add(self, left, right, feature, threshold, default_left, cover, value, out) -> None:
        left = np.asarray(left, dtype=np.int64)
        right = np.asarray(right, dtype=np.int64)
        leaf = left < 0
        gl = np.where(leaf, -1, left + self.n)
        gr = np.where(leaf, -1, right + self.n)
        feat = np.where(leaf, 0, np.asarray(feature, dtype=np.int64))
        value = np.asarray(value, dtype=np.float64)
        self.parts.append((gl, gr, feat, np.asarray(threshold, dtype=np.float64),
                           np.asarray(default_left, dtype=np.uint8),
                           np.asarray(cover, dtype=np.float64),
                           value.reshape(value.shape[0], -1)))
        self.roots.append(self.n)
        self.tree_out.append(out)
        self.n += left.shape[0]

    def arrays(self) -> tuple[np.ndarray, ...]:
        cols = list(zip(*self.parts, strict=True))
        return tuple(np.ascontiguousarray(np.concatenate(c)) for c in cols)


def _sk_tree(builder: _Builder, tree: Any, weight: float, out: int, classifier: bool) -> None:
    t = tree.tree_
    value = np.asarray(t.value, dtype=np.float64)
    if classifier:
        value = value[:, 0, :]
        total = value.sum(axis=1, keepdims=True)
        value = value / np.where(total > 0, total, 1.0)
    else:
        value = value[:, :, 0]
    missing = getattr(t, "missing_go_to_left", None)
    if missing is None:
        missing = np.zeros(t.node_count, dtype=np.uint8)
    builder.add(t.children_left, t.children_right, t.feature, t.threshold, missing,
                t.weighted_n_node_samples, value * weight, out)


def _hgb_tree(builder: _Builder, predictor: Any, out: int) -> None:
    nodes = predictor.nodes
    if np.any(nodes["is_categorical"]):
        raise NotSupportedError(
            describe("model", "a HistGradientBoosting model without categorical splits",
                     got_text="categorical splits",
                     fix="One-hot or ordinal-encode the categorical columns before fitting.")
        )
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(leaf, -1, nodes["right"].astype(np.int64))
    builder.add(left, right, nodes["feature_idx"], nodes["num_threshold"],
                nodes["missing_go_to_left"], nodes["count"], nodes["value"][:, None], out)


def _check_fitted(model: Any, attribute: str) -> None:
    if not hasattr(model, attribute):
        raise InputError(
            describe("model", "a fitted estimator", got_text=f"an unfitted "
                     f"{type(model).__name__}", fix="Call model.fit(X, y) before explaining it.")
        )


def _names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def read_model(model: Any) -> FlatEnsemble:
    """Read a fitted scikit-learn tree model into a :class:`FlatEnsemble`.

    Parameters
    ----------
    model : estimator
        One of :data:`SUPPORTED_MODELS`, fitted.

    Returns
    -------
    FlatEnsemble

    Raises
    ------
    InputTypeError
        For any other model; the message lists the supported ones.
    InputError
        When the model is not fitted.
    NotSupportedError
        Multi-output classifiers, categorical HistGradientBoosting splits, a
        gradient boosting ``init`` estimator other than the default.
    """
    from sklearn import ensemble, tree

    name = type(model).__name__
    builder = _Builder()
    classes = None
    link = "identity"
    base = None
    input_dtype = np.float32
    if isinstance(model, (tree.BaseDecisionTree, ensemble.RandomForestClassifier,
                          ensemble.RandomForestRegressor, ensemble.ExtraTreesClassifier,
                          ensemble.ExtraTreesRegressor)):
        single = isinstance(model, tree.BaseDecisionTree)
        _check_fitted(model, "tree_" if single else "estimators_")
        estimators = [model] if single else list(model.estimators_)
        classifier = hasattr(model, "classes_")
        if classifier and model.n_outputs_ != 1:
            raise NotSupportedError(
                describe("model", "a single-output classifier", got_text=f"{name} with "
                         f"{model.n_outputs_} outputs", fix="Fit one classifier per output.")
            )
        weight = 1.0 / len(estimators)
        for est in estimators:
            _sk_tree(builder, est, weight, 0, classifier)
        n_outputs = len(model.classes_) if classifier else model.n_outputs_
        if classifier:
            classes = [str(c) for c in model.classes_]
        base = np.zeros(n_outputs)
    elif isinstance(model, (ensemble.GradientBoostingClassifier,
                            ensemble.GradientBoostingRegressor)):
        _check_fitted(model, "estimators_")
        init = model.init_
        if init != "zero" and type(init).__name__ not in ("DummyClassifier", "DummyRegressor"):
            raise NotSupportedError(
                describe("model", "gradient boosting with the default init", got_text=f"init="
                         f"{type(init).__name__}", fix="Refit with init=None or init='zero'.")
            )
        n_outputs = model.estimators_.shape[1]
        probe = np.zeros((1, model.n_features_in_), dtype=np.float32)
        base = np.asarray(model._raw_predict_init(probe), dtype=np.float64)[0]
        lr = float(model.learning_rate)
        for stage in model.estimators_:
            for k, est in enumerate(stage):
                _sk_tree(builder, est, lr, k, False)
        if hasattr(model, "classes_"):
            link = "logistic" if n_outputs == 1 else "softmax"
            classes = [str(c) for c in model.classes_]
            if n_outputs == 1:
                classes = classes[1:]
    elif isinstance(model, (ensemble.HistGradientBoostingClassifier,
                            ensemble.HistGradientBoostingRegressor)):
        _check_fitted(model, "_predictors")
        input_dtype = np.float64
        n_outputs = int(model.n_trees_per_iteration_)
        base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
        base = np.broadcast_to(base, (n_outputs,)).copy()
        for stage in model._predictors:
            for k, predictor in enumerate(stage):
                _hgb_tree(builder, predictor, k)
        if hasattr(model, "classes_"):
            link = "logistic" if n_outputs == 1 else "softmax"
            classes = [str(c) for c in model.classes_]
            if n_outputs == 1:
                classes = classes[1:]
    else:
        raise InputTypeError(
            describe("model", "a fitted scikit-learn tree model: " + ", ".join(SUPPORTED_MODELS),
                     got_text=f"{type(model).__module__}.{name}",
                     fix="For other models use whylens.shap.KernelExplainer or "
                         "PermutationExplainer; XGBoost and LightGBM are not supported yet.")
        )
    if not builder.parts:
        raise InputError(describe("model", "at least one tree", got_text="none"))
    left, right, feature, threshold, default_left, cover, value = builder.arrays()
    internal = left >= 0
    return FlatEnsemble(
        left=left, right=right, feature=feature, threshold=threshold,
        default_left=default_left, cover=cover, value=value,
        roots=np.asarray(builder.roots, dtype=np.int64),
        tree_out=np.asarray(builder.tree_out, dtype=np.int64),
        n_outputs=int(n_outputs), n_features=int(model.n_features_in_),
        base_offset=np.asarray(base, dtype=np.float64), input_dtype=input_dtype,
        output_names=classes, link=link, is_classifier=hasattr(model, "classes_"),
        feature_names=_names(model), model_name=name,
        used_features=np.unique(feature[internal]).astype(np.int64),
    )


def model_output(model: Any, ensemble: FlatEnsemble, X: np.ndarray,
                 frame: Any = None) -> np.ndarray:
    """The model's own raw output on ``X`` (what the SHAP values add up to), (n, n_outputs).

    ``frame``: the same rows as the DataFrame the user passed, given to the
    estimator's checked methods (no feature-name warning for a model fitted
    on a DataFrame).
    """
    table = X if frame is None else frame
    if ensemble.model_name.startswith("HistGradientBoosting"):
        out = model._raw_predict(table)
    elif ensemble.model_name.startswith("GradientBoosting"):
        out = model._raw_predict(np.ascontiguousarray(X, dtype=np.float32))
    elif ensemble.is_classifier:
        out = model.predict_proba(table)
    else:
        out = model.predict(table)
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(X.shape[0], ensemble.n_outputs)

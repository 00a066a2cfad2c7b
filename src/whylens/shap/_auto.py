"""``Explainer``: shap's front door, choosing the algorithm from the model and the masker.

``shap.Explainer(model, X)`` is the first line of shap's README; here it
returns the whylens explainer shap would pick (Tree for tree ensembles,
Linear for linear models, Exact for up to 10 features, Permutation
otherwise), with the choice in its ``algorithm`` attribute and in every
Explanation's ``params["explainer"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, describe

__all__ = ["ALGORITHMS", "Explainer"]

#: Names ``algorithm=`` takes (shap's), each mapped to a whylens explainer.
ALGORITHMS = ("auto", "tree", "linear", "exact", "permutation", "kernel")

#: shap's ``Explainer`` uses the exact algorithm up to this many features.
EXACT_MAX_FEATURES = 10


def _is_tree_model(model: Any) -> bool:
    from whylens.errors import WhylensError
    from whylens.shap._tree_models import read_model

    if not hasattr(model, "fit") and not hasattr(model, "get_booster"):
        return False
    try:
        read_model(model)
    except (WhylensError, AttributeError, TypeError, ValueError):
        return False
    return True


def _is_linear_model(model: Any) -> bool:
    from sklearn.base import is_classifier, is_regressor

    coef = getattr(model, "coef_", None)
    if coef is None or not hasattr(model, "intercept_"):
        return False
    if not (is_classifier(model) or is_regressor(model)):
        return False
    module = type(model).__module__
    return module.startswith("sklearn.linear_model") or module.startswith("sklearn.svm._classes")


def _n_features(masker: Any) -> int | None:
    from whylens.shap._maskers import TabularMasker

    if isinstance(masker, TabularMasker):
        return masker.n_features
    if hasattr(masker, "shape") and len(getattr(masker, "shape", ())) == 2:
        return int(masker.shape[1])
    if isinstance(masker, (list, tuple)) and masker and np.ndim(masker[0]) == 1:
        return len(masker[0])
    return None


def _choose(model: Any, masker: Any) -> str:
    if _is_tree_model(model):
        return "tree"
    if masker is not None and _is_linear_model(model):
        return "linear"
    d = _n_features(masker)
    if d is not None and d <= EXACT_MAX_FEATURES:
        return "exact"
    return "permutation"


class Explainer:
    """shap's ``Explainer``: pick the algorithm for ``model`` and return that explainer.

    Parameters
    ----------
    model : estimator, callable or torch module
        What the chosen explainer takes: a tree ensemble (TreeExplainer), a
        scikit-learn linear model (LinearExplainer), or any prediction
        function / model (Exact or Permutation, through
        :func:`whylens.models.as_model`).
    masker : array-like, DataFrame or a whylens masker, optional
        The background (or a :class:`~whylens.shap.TextMasker` /
        :class:`~whylens.shap.ImageMasker`). Required except for tree
        models (then path-dependent TreeSHAP).
    link : {"identity", "logit"}, default="identity"
        For Exact, Permutation and Kernel (shap's ``link``). A tree or linear
        model explains its raw output; asking those for ``"logit"`` is an
        error (use ``model_output`` of TreeExplainer).
    algorithm : {"auto", "tree", "linear", "exact", "permutation", "kernel"}
        ``"auto"`` chooses as shap does: tree ensembles -> tree; linear models
        with a background -> linear; at most 10 features -> exact; otherwise
        permutation (also for text and images, where shap would use its
        partition explainer, which whylens does not have).
    feature_names, output_names : sequence of str, optional
    seed : int, optional
        shap's name of ``random_state``.
    **kwargs
        Passed to the chosen explainer (``batch_size``, ``max_evals``,
        ``nsamples`` ...).

    Returns
    -------
    TreeExplainer, LinearExplainer, ExactExplainer, PermutationExplainer or KernelExplainer
        With ``algorithm`` set to the chosen name.

    Raises
    ------
    InputError
        Unknown algorithm or link, no masker where one is needed, a link a
        tree or linear explainer cannot apply.
    """

    def __new__(cls, model: Any, masker: Any = None, *, link: str = "identity",
                algorithm: str = "auto", feature_names: Any = None,
                output_names: Any = None, seed: Any = None, **kwargs: Any) -> Any:
        from whylens.shap._explainer_base import check_link

        link = check_link(getattr(link, "__name__", link) if not isinstance(link, str)
                          else link)
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise InputError(describe("algorithm", f"one of {list(ALGORITHMS)}", algorithm))
        if seed is not None:
            kwargs.setdefault("random_state", seed)
        chosen = _choose(model, masker) if algorithm == "auto" else algorithm
        if chosen in ("tree", "linear"):
            if link != "identity":
                raise InputError(describe(
                    "link", "'identity' for a tree or linear model", link,
                    "Pass algorithm='permutation' (or 'exact') to explain log-odds of "
                    "predict_proba, or TreeExplainer(model_output=...)."))
            if chosen == "tree":
                from whylens.shap._tree import TreeExplainer

                kwargs.pop("random_state", None)  # TreeSHAP draws nothing

                explainer = TreeExplainer(model, masker, feature_names=feature_names, **kwargs)
            else:
                if masker is None:
                    raise InputError(describe("masker", "a background table for a linear model",
                                              None, "Pass shap.Explainer(model, X_train)."))
                from whylens.shap._linear import LinearExplainer

                explainer = LinearExplainer(model, masker, feature_names=feature_names, **kwargs)
        else:
            if masker is None:
                raise InputError(describe(
                    "masker", "a background table or a whylens masker", None,
                    "Pass shap.Explainer(model, X_train) (a sample of the training rows)."))
            from whylens.shap._explainers import (
                ExactExplainer,
                KernelExplainer,
                PermutationExplainer,
            )

            kind = {"exact": ExactExplainer, "permutation": PermutationExplainer,
                    "kernel": KernelExplainer}[chosen]
            explainer = kind(model, masker, feature_names=feature_names,
                             output_names=output_names, link=link, **kwargs)
        explainer.algorithm = chosen
        return explainer

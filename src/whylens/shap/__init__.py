"""SHAP: exact, kernel, permutation, linear and tree Shapley-value explainers.

Every explainer follows the calling convention, is called on a batch and
returns one :class:`whylens.Explanation`::

    from whylens.shap import KernelExplainer, summarize_background
    explainer = KernelExplainer(model.predict_proba, summarize_background(X_train, 20),
                                batch_size=None, random_state=0)
    exp = explainer(X_test[:50])               # values (50, n_outputs, n_features)
    exp = explainer(X_test[:50], target=None)  # each row's predicted class: (50, 1, d)
    sv = explainer.shap_values(X_test)         # shap's layout, (n, d) or (n, d, k)

``target`` defaults to ``"all"`` (every output costs the same evaluations);
``progress=`` and ``callback=`` are per call. A DataFrame background keeps its
columns and dtypes all the way to the model.
"""

from whylens.shap._auto import Explainer
from whylens.shap._explainers import (
    EfficiencyWarning,
    ExactExplainer,
    KernelExplainer,
    PermutationExplainer,
    ShapExplainer,
)
from whylens.shap._legacy import ForcePlot, force_plot, summary_plot
from whylens.shap._linear import LinearExplainer
from whylens.shap._maskers import (
    BackgroundSizeWarning,
    Game,
    ImageMasker,
    TabularMasker,
    TextMasker,
    summarize_background,
)
from whylens.shap._tree import TreeExplainer

__all__ = [
    "BackgroundSizeWarning",
    "EfficiencyWarning",
    "ExactExplainer",
    "Explainer",
    "ForcePlot",
    "Game",
    "ImageMasker",
    "KernelExplainer",
    "LinearExplainer",
    "PermutationExplainer",
    "ShapExplainer",
    "TabularMasker",
    "TextMasker",
    "TreeExplainer",
    "force_plot",
    "summarize_background",
    "summary_plot",
]


def __getattr__(name: str) -> object:
    """``whylens.shap.DeepExplainer`` is :class:`whylens.torch.DeepShap` (imports torch on use);
    ``whylens.shap.plots`` is shap's plot namespace over :mod:`whylens.plot`."""
    if name == "DeepExplainer":
        from whylens.torch import DeepShap

        return DeepShap
    if name == "plots":  # shap.plots.<name> over whylens.plot (imports matplotlib on use)
        import importlib

        return importlib.import_module("whylens.shap.plots")
    raise AttributeError(f"module 'whylens.shap' has no attribute {name!r}")

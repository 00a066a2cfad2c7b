"""Global views of a model: permutation importance, partial dependence and ICE,
accumulated local effects, global SHAP summaries and submodular pick.

Every function here evaluates the model through :mod:`whylens.models` in large
chunked calls (progress, cancellation and the memory bound come from there),
returns a result object that serialises to JSON, and has a scikit-learn style
Display (``from_estimator``, ``from_result``, ``.plot(ax=...)``) in
:mod:`whylens.inspection._display`.
"""

from __future__ import annotations

__all__: list[str] = []

# ---- permutation importance, partial dependence, displays (owner: issue 18 part A) ----
from whylens.inspection._display import PartialDependenceDisplay, PermutationImportanceDisplay
from whylens.inspection._importance import ImportanceResult, impurity_importance
from whylens.inspection._partial_dependence import PartialDependenceResult, partial_dependence
from whylens.inspection._permutation import permutation_importance
from whylens.inspection._results import InspectionResult, SubsamplingWarning

__all__ += [
    "ImportanceResult",
    "InspectionResult",
    "PartialDependenceDisplay",
    "PartialDependenceResult",
    "PermutationImportanceDisplay",
    "SubsamplingWarning",
    "impurity_importance",
    "partial_dependence",
    "permutation_importance",
]

# ---- other global views: append imports and ``__all__ += [...]`` lines below ----
from whylens.inspection._ale import accumulated_local_effects  # noqa: E402
from whylens.inspection._ale_display import ALEDisplay  # noqa: E402
from whylens.inspection._ale_result import ALEEffect, ALEResult  # noqa: E402
from whylens.inspection._global_shap import GlobalShap, global_shap, summary_plot  # noqa: E402

__all__ += [
    "ALEDisplay",
    "ALEEffect",
    "ALEResult",
    "GlobalShap",
    "accumulated_local_effects",
    "global_shap",
    "summary_plot",
]

"""whylens: explain the predictions of machine-learning models.

One result type (:class:`Explanation`) for every method and modality; model
adapters that turn any model into one batched ``predict``
(:func:`whylens.models.as_model`); LIME for tables, text and images
(:mod:`whylens.lime`); SHAP (:mod:`whylens.shap`); CAMs, feature maps, filter
patterns and gradient attributions for PyTorch networks (:mod:`whylens.torch`);
global views (:mod:`whylens.inspection`); trust figures (:mod:`whylens.metrics`);
whole-dataset jobs (:mod:`whylens.batch`); the browser workbench
(:mod:`whylens.app`). Submodules load on first use, so
``import whylens`` stays fast and never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from whylens import errors
from whylens.explanation import Explanation, Features, Surrogate

__version__ = "0.1.0"

_SUBMODULES = (
    "lime", "models", "plot", "render", "representations", "shap", "text", "torch", "demo",
    "inspection", "metrics", "batch", "app",
)

__all__ = ["Explanation", "Features", "Surrogate", "__version__", "errors", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"whylens.{name}")
    if name == "as_model":
        from whylens.models import as_model

        return as_model
    raise AttributeError(f"module 'whylens' has no attribute {name!r}")

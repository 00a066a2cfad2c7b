"""The embedded models of ``whylens serve``: EfficientNet-Lite0, the demo text and table models."""

from __future__ import annotations

import warnings
from typing import Any

from whylens.app._served import Served
from whylens.errors import MissingDependencyError

__all__ = ["embedded_models", "lite0"]


def lite0() -> Served:
    """EfficientNet-Lite0 (ImageNet) with scikit-image's photos, as a VisionModel.

    Raises
    ------
    MissingDependencyError
        The ``demo`` extra is missing.
    """
    from whylens.app._vision import VisionModel
    from whylens.demo._image import PHOTOS, efficientnet_lite0, load_photo

    model, names = efficientnet_lite0()
    images = {name: load_photo(name, 224) for name in PHOTOS}
    return VisionModel(model, labels=names, images=images, size=224,
                       title="EfficientNet-Lite0 (ImageNet)")


def embedded_models(*, seed: int = 0, on_step: Any = None) -> dict[str, Served]:
    """See :func:`whylens.app.embedded_models`."""
    makers = [("lite0", lite0)]
    out: dict[str, Served] = {}
    for name, make in makers:
        if on_step is not None:
            on_step(f"loading {name}")
        try:
            out[name] = make()
        except MissingDependencyError as exc:
            warnings.warn(f"whylens serve: {name} left out: {exc}", UserWarning, stacklevel=2)
    return out

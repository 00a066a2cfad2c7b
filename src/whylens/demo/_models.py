"""The demo's trained models, shared by the sections that explain them.

The breast-cancer random forest is explained by LIME and by Kernel SHAP; the
review classifier by LIME and by Permutation SHAP. Each is trained once per
demo run and kept in :attr:`DemoContext.models`.
"""

from __future__ import annotations

import time
from typing import Any

from whylens.demo._data import breast_cancer_split, rotten_tomatoes_split
from whylens.demo._report import DemoContext, TrainedModel, accuracy

__all__ = ["forest_model", "review_model"]


def _train_once(ctx: DemoContext, key: str, split: Any, estimator: Any, step: str, data: str,
                description: str) -> TrainedModel:
    """Fit ``estimator`` on ``split``'s training rows, time it, score it on the test rows,
    and keep the result as ``ctx.models[key]``."""
    ctx.step(step)
    start = time.perf_counter()
    estimator.fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - start
    ctx.models[key] = TrainedModel(split, estimator, seconds,
                                   accuracy(estimator, split.X_test, split.y_test),
                                   data=data, description=description)
    return ctx.models[key]


def forest_model(ctx: DemoContext, section: str) -> TrainedModel:
    """The breast-cancer random forest, trained once per demo run (LIME and SHAP share it).

    Returns
    -------
    TrainedModel
    """
    from sklearn.ensemble import RandomForestClassifier

    if "forest" in ctx.models:
        return ctx.models["forest"]
    split = breast_cancer_split(ctx.seed)
    return _train_once(
        ctx, "forest", split,
        RandomForestClassifier(n_estimators=100, random_state=ctx.seed, n_jobs=-1),
        f"{section}: training a random forest on {len(split.X_train)} tumours",
        data=f"{split.name}: {split.n_total} tumours, {len(split.feature_names or [])} "
             f"features, classes {' / '.join(split.class_names)}",
        description=f"RandomForestClassifier(n_estimators=100, random_state={ctx.seed})")


def review_model(ctx: DemoContext, section: str) -> TrainedModel:
    """TF-IDF + naive Bayes on the review snippets, trained once per demo run.

    Returns
    -------
    TrainedModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    if "reviews" in ctx.models:
        return ctx.models["reviews"]
    split = rotten_tomatoes_split(ctx.seed)
    return _train_once(
        ctx, "reviews", split,
        make_pipeline(TfidfVectorizer(lowercase=True), MultinomialNB(alpha=0.1)),
        f"{section}: training TF-IDF + naive Bayes on {len(split.X_train)} reviews",
        data=f"{split.name}: {split.n_total} reviews, classes {' / '.join(split.class_names)}",
        description="TfidfVectorizer(lowercase=True) + MultinomialNB(alpha=0.1)")

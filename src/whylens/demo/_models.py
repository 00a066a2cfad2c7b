"""The demo's trained models, shared by the sections that explain them.

The breast-cancer random forest is explained by LIME and by Kernel SHAP; the
review classifier by LIME and by Permutation SHAP. Each is trained once per
demo run and kept in :attr:`DemoContext.models`.
"""

from __future__ import annotations

import time

from whylens.demo._data import breast_cancer_split, rotten_tomatoes_split
from whylens.demo._report import DemoContext, TrainedModel, accuracy

__all__ = ["forest_model", "review_model"]


def forest_model(ctx: DemoContext, section: str) -> TrainedModel:
    """The breast-cancer random forest, trained once per demo run (LIME and SHAP share it).

    Returns
    -------
    TrainedModel
    """
    from sklearn.ensemble import RandomForestClassifier

    if "forest" not in ctx.models:
        split = breast_cancer_split(ctx.seed)
        ctx.step(f"{section}: training a random forest on {len(split.X_train)} tumours")
        start = time.perf_counter()
        rf = RandomForestClassifier(n_estimators=100, random_state=ctx.seed, n_jobs=-1)
        rf.fit(split.X_train, split.y_train)
        seconds = time.perf_counter() - start
        ctx.models["forest"] = TrainedModel(
            split, rf, seconds, accuracy(rf, split.X_test, split.y_test),
            data=f"{split.name}: {split.n_total} tumours, {len(split.feature_names or [])} "
                 f"features, classes {' / '.join(split.class_names)}",
            description=f"RandomForestClassifier(n_estimators=100, random_state={ctx.seed})")
    return ctx.models["forest"]


def review_model(ctx: DemoContext, section: str) -> TrainedModel:
    """TF-IDF + naive Bayes on the review snippets, trained once per demo run.

    Returns
    -------
    TrainedModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    if "reviews" not in ctx.models:
        split = rotten_tomatoes_split(ctx.seed)
        ctx.step(f"{section}: training TF-IDF + naive Bayes on {len(split.X_train)} reviews")
        start = time.perf_counter()
        pipeline = make_pipeline(TfidfVectorizer(lowercase=True), MultinomialNB(alpha=0.1))
        pipeline.fit(split.X_train, split.y_train)
        seconds = time.perf_counter() - start
        ctx.models["reviews"] = TrainedModel(
            split, pipeline, seconds, accuracy(pipeline, split.X_test, split.y_test),
            data=f"{split.name}: {split.n_total} reviews, classes "
                 f"{' / '.join(split.class_names)}",
            description="TfidfVectorizer(lowercase=True) + MultinomialNB(alpha=0.1)")
    return ctx.models["reviews"]

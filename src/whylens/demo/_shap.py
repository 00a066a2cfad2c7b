"""SHAP sections of ``whylens demo``: the tabular and the text model explained with SHAP.

- ``shap_tabular``: the breast cancer random forest, Kernel SHAP over a batch
  of test rows with a 10-centre k-means background; a beeswarm and a global
  bar chart of the batch, and per explained row a waterfall and a force plot.
- ``shap_text``: the TF-IDF + naive Bayes review model, Permutation SHAP over
  the review's words; token highlights and a force plot per review.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

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

__all__ = ["SHAP_BATCH", "SHAP_NSAMPLES", "shap_tabular_section", "shap_text_section"]

#: Test rows in the tabular beeswarm (quick mode, full mode).
SHAP_BATCH = (15, 60)
#: Kernel SHAP coalitions per row (quick mode, full mode).
SHAP_NSAMPLES = (200, 1000)


def _figure_html(src: str, caption: str) -> str:
    e = html.escape
    return (f"<figure class='wl-demo-chart'><img src='{e(src)}' alt='{e(caption)}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>")


def _shap_instance(ctx: DemoContext, section: str, i: int, title: str, exp: Explanation,
                   label: int, true_class: str, seconds: float, png: Path) -> InstanceResult:
    from whylens.plot import force_html

    return instance_result(ctx, f"{section}_{i}", title, exp, label, true_class, seconds, png,
                           force_html(exp, label=label))


def shap_tabular_section(ctx: DemoContext) -> SectionResult:
    """Random forest on the breast cancer data, explained with Kernel SHAP.

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult
    """
    from whylens.plot import beeswarm, global_bar, waterfall
    from whylens.shap import KernelExplainer, summarize_background

    trained = forest_model(ctx, "shap tabular")
    split, rf = trained.split, trained.model

    n_batch = SHAP_BATCH[0] if ctx.quick else SHAP_BATCH[1]
    nsamples = SHAP_NSAMPLES[0] if ctx.quick else SHAP_NSAMPLES[1]
    background = summarize_background(split.X_train, 10, random_state=ctx.seed)
    explainer = KernelExplainer(rf, background, feature_names=split.feature_names,
                                nsamples=nsamples, random_state=ctx.seed)
    ctx.step(f"shap tabular: Kernel SHAP on {n_batch} test rows ({nsamples} coalitions each)")
    explain_start = time.perf_counter()
    batch = explainer(split.X_test[:n_batch])
    explain_seconds = time.perf_counter() - explain_start
    label = 1
    name = split.class_names[label]
    out = ctx.out_dir
    save_figure(beeswarm(batch, label=label,
                         title=f"SHAP values for '{name}' ({n_batch} test rows)"),
                out / "shap_beeswarm.png")
    save_figure(global_bar(batch, label=label, title=f"Mean |SHAP value| for '{name}'"),
                out / "shap_bar.png")
    (out / "explanations" / "shap_tabular_batch.json").write_text(batch.to_json(),
                                                                   encoding="utf-8")
    summary_html = (
        _figure_html("shap_beeswarm.png", f"Beeswarm: every dot is one of {n_batch} test rows; "
                     "colour is the feature's value")
        + _figure_html("shap_bar.png", "Global importance: mean |SHAP value| per feature")
    )
    instances = []
    per_row = explain_seconds / n_batch
    for i in range(ctx.n_instances):
        exp = batch[i]
        png = out / f"shap_tabular_{i}.png"
        save_figure(waterfall(exp, label=label, title=f"Test row {i}: from E[f(X)] to f(x)"), png)
        instances.append(_shap_instance(
            ctx, "shap_tabular", i, f"Test row {i}", exp, label,
            split.class_names[int(split.y_test[i])], per_row, png))
    return trained.section(
        "shap_tabular", "SHAP, tabular: breast cancer diagnosis",
        f"whylens.shap.KernelExplainer, background summarize_background(X_train, 10), "
        f"nsamples={nsamples}, {n_batch} test rows, random_state={ctx.seed}; "
        f"largest efficiency gap {batch.params['efficiency_max_abs_error']:.1e}",
        explain_seconds, instances, fragment=summary_html)


def shap_text_section(ctx: DemoContext) -> SectionResult:
    """TF-IDF + naive Bayes on Rotten Tomatoes snippets, explained with Permutation SHAP.

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult
    """
    from whylens.plot import text
    from whylens.shap import PermutationExplainer, TextMasker

    trained = review_model(ctx, "shap text")
    split, pipeline = trained.split, trained.model
    explainer = PermutationExplainer(pipeline, TextMasker(), random_state=ctx.seed,
                                     output_names=split.class_names)
    chosen = long_documents(split.X_test, ctx.n_instances)
    label = 1
    instances = []
    explain_start = time.perf_counter()
    for i, j in enumerate(chosen):
        ctx.step(f"shap text: explaining test review {j} ({i + 1}/{len(chosen)})")
        t0 = time.perf_counter()
        exp = explainer(split.X_test[j])
        seconds = time.perf_counter() - t0
        png = ctx.out_dir / f"shap_text_{i}.png"
        save_figure(text(exp, label=label, title=f"Review {j}: SHAP values for "
                         f"'{split.class_names[label]}' (red raises, blue lowers)"), png)
        instances.append(_shap_instance(ctx, "shap_text", i, f"Test review {j}", exp, label,
                                        split.class_names[int(split.y_test[j])], seconds, png))
    return trained.section(
        "shap_text", "SHAP, text: movie review sentiment",
        f"whylens.shap.PermutationExplainer over the review's words (TextMasker, removed "
        f"words deleted), 10 antithetic pairs, random_state={ctx.seed}",
        time.perf_counter() - explain_start, instances)

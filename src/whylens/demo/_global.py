"""The global section of ``whylens demo``: what the breast-cancer forest does overall.

Where the other sections explain single predictions, this one looks at the
whole model (:mod:`whylens.inspection`) on the test rows:

- permutation importance of every feature, and of the three feature families
  (``mean``, ``error``, ``worst``: each measurement's mean, standard error and
  worst value over the cell nuclei) permuted jointly;
- partial dependence with ICE curves, and accumulated local effects with
  bootstrap bands, of the most important features;
- a SHAP beeswarm of TreeSHAP values over the test rows;
- a submodular pick (SP-LIME) of five LIME explanations that together cover
  the features the model uses.

Everything goes onto its own page, ``global.html``; on ``index.html`` the
global charts open the section (its fragment) and its instances are the five
picked explanations. Every result is also saved as JSON in
``explanations/global_*.json``.
"""

from __future__ import annotations

import dataclasses
import html
import time
import warnings
from typing import Any

import numpy as np

from whylens.demo._models import forest_model
from whylens.demo._report import (
    DemoContext,
    InstanceResult,
    SectionResult,
    instance_result,
    save_figure,
)

__all__ = ["GLOBAL_FAMILIES", "GLOBAL_SETTINGS", "global_section"]

#: The class every chart of the section is about (benign), as in the LIME sections.
LABEL = 1
#: Feature families of the breast cancer data, permuted jointly.
GLOBAL_FAMILIES = ("mean", "error", "worst")
#: Work per view, (quick mode, full mode).
GLOBAL_SETTINGS: dict[str, tuple[int, int]] = {
    "n_repeats": (3, 10),        # permutations per feature
    "top_features": (4, 4),      # features in the PDP/ICE and ALE panels
    "grid_resolution": (20, 50),  # PDP grid points
    "ale_bins": (10, 20),        # ALE bins per feature
    "n_bootstrap": (20, 100),    # ALE bootstrap resamples for the bands
    "sp_sample": (15, 60),       # test rows LIME explains for the submodular pick
}
#: Explanations the submodular pick keeps.
N_PICKS = 5


def _setting(ctx: DemoContext, name: str) -> int:
    quick, full = GLOBAL_SETTINGS[name]
    return quick if ctx.quick else full


def family_groups(feature_names: list[str]) -> dict[str, list[int]]:
    """Columns of each breast-cancer feature family (``"mean radius"``, ``"radius error"``, ...).

    Returns
    -------
    dict of str -> list of int
        ``{"mean": [...], "error": [...], "worst": [...]}``; families with no
        column are left out.
    """
    groups: dict[str, list[int]] = {}
    for family in GLOBAL_FAMILIES:
        cols = [i for i, n in enumerate(feature_names)
                if n.startswith(f"{family} ") or n.endswith(f" {family}")]
        if cols:
            groups[family] = cols
    return groups


def _figure_html(src: str, caption: str, json_path: str | None = None) -> str:
    e = html.escape
    link = "" if json_path is None else f" JSON: <a href='{e(json_path)}'>{e(json_path)}</a>"
    return (f"<figure class='wl-demo-chart'><img src='{e(src)}' alt='{e(caption)}'>"
            f"<figcaption>{e(caption)}{link}</figcaption></figure>")


def _save_json(ctx: DemoContext, name: str, result: Any) -> str:
    path = ctx.out_dir / "explanations" / f"{name}.json"
    path.write_text(result.to_json(), encoding="utf-8")
    return f"explanations/{path.name}"


def global_section(ctx: DemoContext) -> SectionResult:
    """Global views of the breast cancer random forest, and a submodular pick of LIME.

    Writes ``global.html``, the charts ``global_importance.png``,
    ``global_importance_groups.png``, ``global_pdp.png``, ``global_ale.png``,
    ``global_shap_beeswarm.png`` and ``global_<i>.png`` (the picked LIME
    explanations), and the results as ``explanations/global_*.json``.
    ``ctx.quick`` makes every view cheaper (:data:`GLOBAL_SETTINGS`).

    Parameters
    ----------
    ctx : DemoContext

    Returns
    -------
    SectionResult
        Its instances are the :data:`N_PICKS` explanations the submodular pick chose.
    """
    from whylens.inspection import (
        ALEDisplay,
        PartialDependenceDisplay,
        PermutationImportanceDisplay,
        accumulated_local_effects,
        global_shap,
        partial_dependence,
        permutation_importance,
        summary_plot,
    )
    from whylens.lime import LimeTabularExplainer, submodular_pick
    from whylens.plot import bar
    from whylens.render.html import explanation_html, page
    from whylens.shap import TreeExplainer

    trained = forest_model(ctx, "global")
    split, rf = trained.split, trained.model
    names = list(split.feature_names or [f"x{j}" for j in range(split.X_test.shape[1])])
    X, y = split.X_test, split.y_test
    out = ctx.out_dir
    seed = ctx.seed
    n_repeats = _setting(ctx, "n_repeats")
    k = _setting(ctx, "top_features")
    class_name = split.class_names[LABEL]
    start = time.perf_counter()
    figures: list[str] = []

    # ---- permutation importance: every feature, then the families jointly
    ctx.step(f"global: permutation importance ({n_repeats} repeats, {len(names)} features)")
    imp = permutation_importance(rf, X, y, n_repeats=n_repeats, random_state=seed,
                                 progress=ctx.progress)
    imp = dataclasses.replace(imp, names=[names[g[0]] for g in imp.groups])
    groups = family_groups(names)
    imp_groups = permutation_importance(rf, X, y, n_repeats=n_repeats, feature_groups=groups,
                                        random_state=seed, progress=ctx.progress)
    disp = PermutationImportanceDisplay.from_result(imp, kind="boxplot", max_display=12)
    disp.ax_.set_title(f"Permutation importance: drop in test accuracy ({n_repeats} repeats)")
    save_figure(disp.figure_, out / "global_importance.png")
    disp = PermutationImportanceDisplay.from_result(imp_groups, kind="bar")
    disp.ax_.set_title("Feature families permuted jointly")
    disp.figure_.set_size_inches(6.4, 2.6)
    save_figure(disp.figure_, out / "global_importance_groups.png")
    imp_json = _save_json(ctx, "global_importance", imp)
    top = [int(j) for j in np.argsort(-imp.mean[0], kind="stable")[:k]]
    top_names = [names[j] for j in top]
    figures.append(_figure_html(
        "global_importance.png",
        f"Permutation importance of the 12 most important features on {len(y)} test rows "
        f"(baseline accuracy {float(imp.baseline[0]):.3f}); each box spans the {n_repeats} "
        f"repeats.", imp_json))
    figures.append(_figure_html(
        "global_importance_groups.png",
        "Permutation importance of feature families (" + "; ".join(
            f"{g}: {len(c)} columns" for g, c in groups.items())
        + "): correlated features that hide each other when permuted alone are measured "
          "together.", _save_json(ctx, "global_importance_groups", imp_groups)))

    # ---- partial dependence with ICE of the top features
    grid = _setting(ctx, "grid_resolution")
    ctx.step(f"global: partial dependence and ICE of {', '.join(top_names)}")
    pd = partial_dependence(rf, X, top, kind="both", grid_resolution=grid, target=LABEL,
                            method="brute", progress=ctx.progress)
    pd = dataclasses.replace(pd, feature_names=names,
                             target_names=[class_name for _ in pd.targets])
    disp = PartialDependenceDisplay.from_result(pd, n_cols=k // 2 if k > 3 else k,
                                                max_ice_lines=60, random_state=seed)
    disp.figure_.suptitle(f"Partial dependence (thick) and ICE curves: P({class_name})")
    save_figure(disp.figure_, out / "global_pdp.png")
    figures.append(_figure_html(
        "global_pdp.png",
        f"PDP/ICE of the {k} most important features ({grid} grid points between the 5th and "
        f"95th percentiles; thin lines: 60 test rows; ticks: deciles).",
        _save_json(ctx, "global_pdp", pd)))

    # ---- accumulated local effects of the same features
    bins, n_boot = _setting(ctx, "ale_bins"), _setting(ctx, "n_bootstrap")
    ctx.step(f"global: accumulated local effects ({n_boot} bootstrap resamples)")
    ale = accumulated_local_effects(rf, X, top, bins=bins, target=LABEL, n_bootstrap=n_boot,
                                    random_state=seed, feature_names=names,
                                    progress=ctx.progress)
    ale = dataclasses.replace(ale, target_names=[class_name for _ in ale.targets])
    disp = ALEDisplay.from_result(ale, n_cols=k // 2 if k > 3 else k)
    disp.figure_.suptitle(f"Accumulated local effects on P({class_name}), 95% bootstrap bands")
    save_figure(disp.figure_, out / "global_ale.png")
    figures.append(_figure_html(
        "global_ale.png",
        f"ALE of the same features ({bins} quantile bins, bands from {n_boot} bootstrap "
        "resamples); unlike the PDP, only rows near each value count, so correlated features "
        "do not create impossible rows.", _save_json(ctx, "global_ale", ale)))

    # ---- SHAP beeswarm over the test rows
    ctx.step(f"global: TreeSHAP on {len(X)} test rows")
    shap_batch = TreeExplainer(rf, feature_names=names)(X)
    summary = global_shap(shap_batch, keep_explanation=False)
    save_figure(summary_plot(shap_batch, plot_type="dot", label=LABEL, max_display=12,
                             title=f"TreeSHAP values for '{class_name}' ({len(X)} test rows)"),
                out / "global_shap_beeswarm.png")
    shap_top = ", ".join(n for n, _ in summary.ranking(label=LABEL)[:3])
    figures.append(_figure_html(
        "global_shap_beeswarm.png",
        f"SHAP beeswarm (TreeExplainer, exact, path-dependent): every dot is a test row, "
        f"colour the feature's value; largest mean |SHAP value|: {shap_top}.",
        _save_json(ctx, "global_shap", summary)))
    views_seconds = time.perf_counter() - start

    # ---- submodular pick of LIME explanations
    n_sample = _setting(ctx, "sp_sample")
    ctx.step(f"global: submodular pick of {N_PICKS} LIME explanations out of {n_sample}")
    explainer = LimeTabularExplainer(split.X_train, feature_names=names,
                                     class_names=split.class_names, random_state=seed)
    sp_start = time.perf_counter()
    with warnings.catch_warnings():  # a tiny test split: "explaining all of them" is expected
        warnings.simplefilter("ignore", UserWarning)
        sp = submodular_pick(explainer, X, rf.predict_proba, sample_size=n_sample,
                             num_exps_desired=N_PICKS, num_features=6, random_state=seed,
                             top_labels=None, labels=(LABEL,), num_samples=ctx.num_samples,
                             progress=ctx.progress)
    sp_seconds = time.perf_counter() - sp_start
    per_exp = sp_seconds / max(len(sp.explanations), 1)
    coverage = sp.coverage[-1] / max(float(sp.importance.sum()), 1e-300)
    instances: list[InstanceResult] = []
    pick_html: list[str] = []
    for i, (v, exp) in enumerate(zip(sp.V, sp.sp_explanations, strict=True)):
        j = int(sp.indices[v])
        name, title = f"global_{i}", f"SP-LIME pick {i + 1} of {len(sp.V)}: test row {j}"
        png = out / f"{name}.png"
        save_figure(bar(exp, label=LABEL, title=f"Test row {j}: LIME weights for "
                                                f"'{class_name}'"), png)
        fragment = explanation_html(exp, standalone=False)
        instances.append(instance_result(ctx, name, title, exp, LABEL,
                                         split.class_names[int(y[j])], per_exp, png, fragment))
        pick_html.append(f"<h3>{html.escape(title)}</h3>"
                         + _figure_html(png.name, f"LIME weights for '{class_name}', test "
                                        f"row {j} (true class {split.class_names[int(y[j])]})"))

    sp_text = (f"Submodular pick (Ribeiro et al. 2016): LIME explained {len(sp.explanations)} "
               f"test rows ({ctx.num_samples} samples each, 6 features); these {len(sp.V)} "
               f"cover {coverage:.0%} of the total feature importance sqrt(sum |W|).")

    def views(link: str) -> str:
        intro = (f"<p class='wl-demo-meta'>How the forest behaves over all {len(y)} test rows "
                 f"rather than for one of them. Most important by permutation: "
                 f"{html.escape(', '.join(top_names))}. The global views took "
                 f"{views_seconds:.2f} s; the submodular pick {sp_seconds:.2f} s. {link}</p>")
        return "<div class='wl-demo-global'>" + intro + "".join(figures) + "</div>"

    # index.html: the global charts under the section's heading, before the picks
    section_html = (
        views("This is also a page of its own: <a href='global.html'>global.html</a>.")
        + f"<h3>Submodular pick</h3><p class='wl-demo-meta'>{html.escape(sp_text)}</p>")
    from whylens.demo._page import _STYLE  # the charts' look of index.html

    global_page = page(
        "whylens demo: global views of the breast cancer forest",
        [_STYLE + views("Back to <a href='index.html'>index.html</a>."),
         f"<h2>Submodular pick of LIME explanations</h2><p class='wl-demo-meta'>"
         f"{html.escape(sp_text)}</p>" + "".join(pick_html)])
    (out / "global.html").write_text(global_page, encoding="utf-8")
    return trained.section(
        "global", "Global views, tabular: breast cancer diagnosis",
        f"whylens.inspection (permutation importance, {n_repeats} repeats, families "
        f"{'/'.join(groups)}; PDP/ICE, {grid} grid points; ALE, {bins} bins, {n_boot} "
        f"bootstrap resamples; TreeSHAP) and SP-LIME ({N_PICKS} of {len(sp.explanations)}), "
        f"random_state={seed}",
        views_seconds + sp_seconds, instances, fragment=section_html)

"""How far to trust each whylens method: deletion / insertion AUC against a random control,
and stability across seeds, on the embedded image, text and tabular models (issue 21).

Run from the repository root (the ``demo`` extra installed)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_trust.py            # ~3-5 min, 2 cores
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_trust.py --quick    # smoke run
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_trust.py --only tabular text

Models (the demo's, nothing downloaded):

* image: EfficientNet-Lite0 (ImageNet weights) on scikit-image photos (``chelsea``,
  ``coffee``), ``--size`` px; Grad-CAM and Grad-CAM++ on ``net._bn1``, Score-CAM on
  ``net._blocks.14``, Integrated Gradients (black baseline), SmoothGrad (``abs=True``), LIME
  image (quickshift segments computed once per photo, as the workbench does, so the seeds
  change only LIME's sampling);
* text: TF-IDF + naive Bayes on the Rotten Tomatoes snippets; LIME text, Permutation SHAP and
  Kernel SHAP over the review's words (``TextMasker``);
* tabular: the breast-cancer random forest; TreeSHAP (path-dependent), Kernel SHAP (background
  ``summarize_background(X_train, 10)``) and LIME tabular.

Every method explains each instance's predicted class. The figures
(:mod:`whylens.metrics`):

* **deletion AUC** (lower is better): the class probability as the most important features
  are removed first, area under the curve over the fraction removed; **insertion AUC**
  (higher is better): the same as they are added to the all-removed input. Removal: images
  blurred (Gaussian, sigma 5 px), words deleted (every occurrence for LIME's bag of words),
  table cells set to the training mean. Images are scored on a grid of ``--cell`` px squares
  (default 8): every method's (H, W) map (LIME's segment weights painted on their segments,
  gradient maps summed over the channels) averaged over each square, the squares removed in
  order. ``--granularity pixel`` scores single pixels instead, but then the random control
  removes scattered pixels, and blurring scattered pixels destroys the class faster than
  removing any contiguous region does: every CAM loses to chance on deletion there.
  ``random`` beside each: the same metric for random attributions of the same shape, mean ±
  standard deviation over ``--n-random`` draws (a method is only worth its margin over it).
* **stability**: mean pairwise top-k Jaccard of the attributions over seeds 0, 1, 2
  (:func:`whylens.metrics.stability`; k = 5 features or words, 5 % of the grid squares (or
  pixels) for images),
  with the same figure for random attributions beside it; 1 for a deterministic method.
* **s / instance**: wall time of one explanation (seed 0), per instance.

Rows are ranked by insertion − deletion (the gap between the two curves). Markdown on stdout,
progress on stderr. Nothing here asserts a time or a score.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whylens.metrics import RandomControl, deletion, insertion, stability

SEEDS = (0, 1, 2)


# ---------------------------------------------------------------------- records
@dataclass
class Figure:
    """A score over the instances and its random control."""

    score: float
    random: RandomControl


@dataclass
class Row:
    method: str
    deletion: Figure
    insertion: Figure
    stability: float | None  # None: deterministic
    stability_random: float | None
    seconds: float  # per instance, seed 0
    note: str = ""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def combine(results: Sequence[Any]) -> Figure:
    """Scores and controls of per-instance metric calls as one figure (every instance weighs
    the same; the control's draws are averaged over the instances draw by draw)."""
    score = float(np.mean([r.score for r in results]))
    draws = np.mean([r.random.scores for r in results], axis=0)
    return Figure(score, RandomControl.from_scores(draws))


def figure(result: Any) -> Figure:
    return Figure(float(result.score), result.random)


def curves(model: Any, attributions: Any, x: Any, target: Any, args: argparse.Namespace,
           **kwargs: Any) -> tuple[Figure, Figure]:
    """Deletion and insertion of one batch of attributions (arrays with ``target``, or an
    Explanation with ``target=None``)."""
    common = dict(target=target, steps=args.steps, n_random=args.n_random, random_state=0,
                  progress=False, **kwargs)
    d = deletion(model, attributions, x, **common)
    i = insertion(model, attributions, x, **common)
    return figure(d), figure(i)


def stable(explain: Callable[[int], Any], first: Any, k: int, args: argparse.Namespace
           ) -> tuple[float, float]:
    """(top-k Jaccard over SEEDS, its random control) with ``first`` as seed 0's result."""
    done = {SEEDS[0]: first}

    def run(_: Any, random_state: int) -> Any:
        if random_state not in done:
            done[random_state] = explain(random_state)
        return done[random_state]

    res = stability(run, None, seeds=SEEDS, k=k, n_random=args.n_random, random_state=0)
    return res.jaccard, res.random["jaccard"].mean


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# ---------------------------------------------------------------------- tabular
def tabular(args: argparse.Namespace) -> list[Row]:
    from whylens.demo._models import forest_model
    from whylens.demo._report import DemoContext
    from whylens.lime import LimeTabularExplainer
    from whylens.shap import KernelExplainer, TreeExplainer, summarize_background

    ctx = DemoContext(out_dir=Path("."), num_samples=args.lime_samples, seed=0,
                      quick=args.quick)
    trained = forest_model(ctx, "trust")
    split, rf = trained.split, trained.model
    X = split.X_test[: args.n_tabular]
    target = rf.predict_proba(X).argmax(axis=1)
    n = len(X)
    k = 5
    background = summarize_background(split.X_train, 10, random_state=0)
    log(f"tabular: random forest, {n} test rows, {X.shape[1]} features")

    def score(values: np.ndarray) -> tuple[Figure, Figure]:
        return curves(rf, values, X, target, args, background=split.X_train, baseline="mean")

    def tree(seed: int) -> np.ndarray:
        exp = TreeExplainer(rf)(X, target=target)
        return np.asarray(exp.values)[:, 0]

    def kernel(seed: int) -> np.ndarray:
        exp = KernelExplainer(rf, background, nsamples=args.kernel_samples,
                              random_state=seed)(X, target=target)
        return np.asarray(exp.values)[:, 0]

    def lime(seed: int) -> np.ndarray:
        explainer = LimeTabularExplainer(split.X_train, random_state=seed)
        return np.stack([
            np.asarray(explainer.explain_instance(
                X[i], rf.predict_proba, labels=(int(target[i]),), top_labels=None,
                num_features=X.shape[1], num_samples=args.lime_samples,
                progress=False).values)[0, 0]
            for i in range(n)])

    methods: list[tuple[str, Callable[[int], np.ndarray], bool, str]] = [
        ("TreeSHAP (path-dependent)", tree, False, ""),
        ("Kernel SHAP", kernel, True, f"nsamples={args.kernel_samples}"),
        ("LIME tabular", lime, True, f"num_samples={args.lime_samples}"),
    ]
    rows = []
    for name, explain, stochastic, note in methods:
        log(f"  {name}")
        values, seconds = timed(lambda explain=explain: explain(SEEDS[0]))
        d, i = score(values)
        st = stable(explain, values, k, args) if stochastic else (None, None)
        rows.append(Row(name, d, i, st[0], st[1], seconds / n, note))
    return rows


# ---------------------------------------------------------------------- text
def text(args: argparse.Namespace) -> list[Row]:
    from whylens.demo._lime import long_documents
    from whylens.demo._models import review_model
    from whylens.demo._report import DemoContext
    from whylens.lime import LimeTextExplainer
    from whylens.shap import KernelExplainer, PermutationExplainer, TextMasker

    ctx = DemoContext(out_dir=Path("."), num_samples=args.lime_samples, seed=0,
                      quick=args.quick)
    trained = review_model(ctx, "trust")
    split, pipe = trained.split, trained.model
    docs = [split.X_test[j] for j in long_documents(split.X_test, args.n_text)]
    target = pipe.predict_proba(docs).argmax(axis=1)
    k = 5
    log(f"text: TF-IDF + naive Bayes, {len(docs)} test reviews")

    def lime(seed: int, i: int) -> Any:
        return LimeTextExplainer(random_state=seed).explain_instance(
            docs[i], pipe.predict_proba, labels=(int(target[i]),), top_labels=None,
            num_features=10_000, num_samples=args.lime_samples, progress=False)

    def permutation(seed: int, i: int) -> Any:
        return PermutationExplainer(pipe, TextMasker(), random_state=seed)(
            [docs[i]], target=int(target[i]), progress=False)

    def kernel(seed: int, i: int) -> Any:
        return KernelExplainer(pipe, TextMasker(), nsamples=args.kernel_samples,
                               random_state=seed)([docs[i]], target=int(target[i]),
                                                  progress=False)

    methods: list[tuple[str, Callable[[int, int], Any], str]] = [
        ("LIME text", lime, f"num_samples={args.lime_samples}, bag of words"),
        ("Permutation SHAP", permutation, "10 antithetic permutations"),
        ("Kernel SHAP", kernel, f"nsamples={args.kernel_samples}"),
    ]
    rows = []
    for name, explain, note in methods:
        log(f"  {name}")
        dels, inss, jac, jac_random, total = [], [], [], [], 0.0
        for i in range(len(docs)):
            exp, seconds = timed(lambda explain=explain, i=i: explain(SEEDS[0], i))
            total += seconds
            common = dict(n_random=args.n_random, random_state=0, progress=False)
            if args.steps is not None:
                common["steps"] = min(args.steps, exp.values.shape[-1])
            dels.append(deletion(pipe, exp, **common))
            inss.append(insertion(pipe, exp, **common))
            kk = min(k, exp.values.shape[-1])
            j, jr = stable(lambda seed, explain=explain, i=i: explain(seed, i), exp, kk, args)
            jac.append(j)
            jac_random.append(jr)
        rows.append(Row(name, combine(dels), combine(inss), float(np.mean(jac)),
                        float(np.mean(jac_random)), total / len(docs), note))
    return rows


# ---------------------------------------------------------------------- image
def image(args: argparse.Namespace) -> list[Row]:
    import torch
    from whylens.demo._image import efficientnet_lite0, load_photo
    from whylens.lime import LimeImageExplainer
    from whylens.models import as_model
    from whylens.plot._image import heat_map
    from whylens.representations.image import SegmentationAlgorithm
    from whylens.torch import (
        GradCAM,
        GradCAMPlusPlus,
        IntegratedGradients,
        ScoreCAM,
        SmoothGrad,
    )

    net, names = efficientnet_lite0()
    photos = list(args.photos)
    pixels = np.stack([load_photo(p, args.size) for p in photos])  # (n, H, W, 3)
    x = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))  # (n, 3, H, W)
    xt = torch.from_numpy(x)
    with torch.inference_mode():
        target = net(xt).argmax(dim=1).numpy()
    n = len(photos)
    grid = args.granularity == "grid"
    side = args.size // args.cell
    cells = np.arange(side * side).reshape(side, side).repeat(args.cell, 0).repeat(args.cell, 1)
    k = max(1, round(0.05 * (side * side if grid else args.size * args.size)))
    prob = as_model(net, output="probability")
    log(f"image: EfficientNet-Lite0 at {args.size} px on {', '.join(photos)} "
        f"({', '.join(names[c] for c in target)})")
    segments = [SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2,
                                      random_seed=0)(p) for p in pixels]

    def to_cells(m: np.ndarray) -> np.ndarray:
        """(n, H, W) pixel maps as (n, side * side) grid squares (their mean), if grid."""
        if not grid:
            return m
        c = args.cell
        return m.reshape(len(m), side, c, side, c).mean(axis=(2, 4)).reshape(len(m), -1)

    def maps(exps: Sequence[Any]) -> np.ndarray:
        return to_cells(np.stack([heat_map(e) for e in exps]))

    def scored(values: np.ndarray) -> Any:
        """What the metrics score: the pixel maps, or an Explanation over the grid squares."""
        if not grid:
            return values
        from whylens.explanation import Explanation, Features

        return Explanation(
            values=values[:, None], labels=target[:, None], method="bench.grid",
            features=Features(kind="image", names=[f"square {j}" for j in range(side * side)],
                              data=pixels, segments=np.broadcast_to(cells, (n, *cells.shape))
                              .copy()))

    def per_image(build: Callable[[int], Any]) -> Callable[[int], np.ndarray]:
        def explain(seed: int) -> np.ndarray:
            return maps([build(seed)(xt[i:i + 1], target=int(target[i]), progress=False)
                         for i in range(n)])
        return explain

    def lime(seed: int) -> np.ndarray:
        out = []
        for i in range(n):
            seg = segments[i]
            exp = LimeImageExplainer(random_state=seed).explain_instance(
                pixels[i], net, target=int(target[i]), num_samples=args.lime_image_samples,
                segmentation_fn=lambda _, seg=seg: seg, progress=False)
            out.append(heat_map(exp))
        return to_cells(np.stack(out))

    methods: list[tuple[str, Callable[[int], np.ndarray], bool, str]] = [
        ("Grad-CAM", per_image(lambda s: GradCAM(net, "net._bn1")), False, "net._bn1"),
        ("Grad-CAM++", per_image(lambda s: GradCAMPlusPlus(net, "net._bn1")), False,
         "net._bn1"),
        ("Score-CAM", per_image(lambda s: ScoreCAM(net, "net._blocks.14")), False,
         "net._blocks.14 (192 channels)"),
        ("Integrated Gradients", per_image(lambda s: IntegratedGradients(
            net, n_steps=args.ig_steps)), False, f"n_steps={args.ig_steps}, black baseline"),
        ("SmoothGrad", per_image(lambda s: SmoothGrad(
            net, nt_samples=args.nt_samples, abs=True, random_state=s)), True,
         f"nt_samples={args.nt_samples}, stdevs=0.15"),
        ("LIME image", lime, True,
         f"num_samples={args.lime_image_samples}, quickshift "
         f"({', '.join(str(int(s.max()) + 1) for s in segments)} segments)"),
    ]
    rows = []
    for name, explain, stochastic, note in methods:
        log(f"  {name}")
        values, seconds = timed(lambda explain=explain: explain(SEEDS[0]))
        control = ({} if args.control == "iid" else
                   {"control": "smooth", "control_sigma": args.control_sigma})
        d, i = curves(prob, scored(values), x, None if grid else target, args,
                      baseline="blur", **control)
        st = stable(explain, values, k, args) if stochastic else (None, None)
        rows.append(Row(name, d, i, st[0], st[1], seconds / n, note))
    return rows


# ---------------------------------------------------------------------- output
def fmt(f: Figure) -> tuple[str, str]:
    return f"{f.score:.3f}", f"{f.random.mean:.3f} ± {f.random.std:.3f}"


def table(title: str, rows: list[Row], k_text: str) -> str:
    rows = sorted(rows, key=lambda r: -(r.insertion.score - r.deletion.score))
    lines = [f"### {title}", "",
             "| method | deletion AUC ↓ | random | insertion AUC ↑ | random | ins − del | "
             f"stability ({k_text}, 3 seeds) | s / instance | settings |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d, dr = fmt(r.deletion)
        i, ir = fmt(r.insertion)
        st = "1 (deterministic)" if r.stability is None else (
            f"{r.stability:.2f} (random {r.stability_random:.2f})")
        lines.append(f"| {r.method} | **{d}** | {dr} | **{i}** | {ir} | "
                     f"{r.insertion.score - r.deletion.score:+.3f} | {st} | {r.seconds:.3g} | "
                     f"{r.note} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer instances, "
                        "smaller images and budgets")
    parser.add_argument("--control", choices=("iid", "smooth"), default="iid",
                        help="images: the random control, i.i.d. per square or smooth random "
                             "maps (Gaussian-filtered on the grid; default iid)")
    parser.add_argument("--control-sigma", type=float, default=2.0,
                        help="images, --control smooth: the filter's sigma in squares (default 2:"
                             " half the side of a square of Grad-CAM's 5x5 map at 160 px in 8 "
                             "px squares, the workbench's matched control)")
    parser.add_argument("--only", nargs="+", choices=("image", "text", "tabular"),
                        default=("image", "text", "tabular"))
    parser.add_argument("--size", type=int, default=None, help="image side (default 160)")
    parser.add_argument("--granularity", choices=("grid", "pixel"), default="grid",
                        help="images: score grid squares (default) or single pixels")
    parser.add_argument("--cell", type=int, default=8, help="grid square side in px")
    parser.add_argument("--photos", nargs="+", default=None,
                        help="scikit-image photos (default chelsea coffee)")
    parser.add_argument("--steps", type=int, default=None,
                        help="curve steps (default 20 for images and tables, every word "
                             "for text)")
    parser.add_argument("--n-random", type=int, default=None,
                        help="random-control draws (default 5; quick 3)")
    args = parser.parse_args(argv)
    q = args.quick
    args.size = args.size or (96 if q else 160)
    if args.granularity == "grid" and (args.cell < 1 or args.size % args.cell):
        parser.error(f"--size ({args.size}) must be a multiple of --cell ({args.cell})")
    args.photos = args.photos or (["chelsea"] if q else ["chelsea", "coffee"])
    args.n_random = args.n_random or (3 if q else 5)
    args.n_tabular, args.n_text = (2, 1) if q else (5, 3)
    args.lime_samples = 300 if q else 1000
    args.kernel_samples = 200 if q else 500
    args.lime_image_samples = 50 if q else 150
    args.ig_steps = 8 if q else 16
    args.nt_samples = 5 if q else 10

    import torch

    start = time.perf_counter()
    out = ["## Trust figures (bench_trust.py)", "",
           f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch "
           f"thread(s); `bench_trust.py{' --quick' if q else ''}`. Deletion / insertion: "
           "class probability, area under the curve; random: random attributions of the "
           f"same shape, mean ± std over {args.n_random} draws.", ""]
    steps_tab = args.steps
    if "image" in args.only:
        args.steps = steps_tab or 20
        unit = (f"{args.cell} px squares" if args.granularity == "grid" else "pixels")
        if args.control == "smooth" and args.granularity != "grid":
            parser.error("--control smooth scores grid squares: drop --granularity pixel")
        control = ("" if args.control == "iid" else
                   f"; random control: smooth maps, sigma {args.control_sigma:g} squares")
        out += [table(f"Image: EfficientNet-Lite0, {args.size} px, {len(args.photos)} photo(s) "
                      f"({', '.join(args.photos)}), blur removal of {unit}, "
                      f"{args.steps} steps{control}", image(args), f"top 5 % {unit}"), ""]
    if "text" in args.only:
        args.steps = steps_tab
        out += [table(f"Text: TF-IDF + naive Bayes, {args.n_text} review(s), words deleted",
                      text(args), "top-5 words"), ""]
    if "tabular" in args.only:
        args.steps = steps_tab or 20
        out += [table(f"Tabular: breast-cancer random forest, {args.n_tabular} test rows, "
                      f"mean removal, {args.steps} steps", tabular(args), "top-5 features"),
                ""]
    out.append(f"Total {time.perf_counter() - start:.0f} s.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

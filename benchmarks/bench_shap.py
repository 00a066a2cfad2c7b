"""whylens SHAP against shap 0.51, side by side in one run, reported as ratios.

Run from the repository root with the dev virtual environment::

    .venv/bin/python benchmarks/bench_shap.py                 # full run (~10 min on 2 cores)
    .venv/bin/python benchmarks/bench_shap.py --quick         # smoke run
    .venv/bin/python benchmarks/bench_shap.py --only accuracy # or overhead

What is measured (see benchmarks/README.md):

* **accuracy per evaluation**: a gradient-boosted regressor (100 trees, depth 4)
  on synthetic data with interactions, d = 12 and d = 30, a 10-row background.
  Truth: whylens ``ExactExplainer`` at d = 12 (checked against shap's
  interventional TreeSHAP), shap's interventional TreeSHAP at d = 30. Relative
  L2 error ``||phi - truth|| / ||truth||`` per row, mean over rows and seeds, of
  whylens Kernel and Permutation and shap Kernel (``l1_reg=False`` and its
  default) and shap Permutation at 500, 1000, 2000 and 5000 evaluations
  (coalitions; each costs one model row per background row).
* **overhead**: explanation wall time divided by the time the same model takes
  on the same rows in one direct call. The rows are captured by wrapping the
  prediction function in an untimed run. Random forest (100 trees, n_jobs=1)
  and logistic regression, d = 12, 10-row background. Medians of 5 interleaved
  repeats for the forest and 15 for the logistic regression (a few ms each:
  single wall times scatter by 2x on a loaded machine); the overhead is also
  given in CPU time of the calling thread (one BLAS thread, so it is what the
  call itself cost).
* **Exact at d = 12**: whylens vs shap ``ExactExplainer``, time ratio and
  largest difference of the values.
* **linear** (``--only linear``): ``LinearExplainer(...,
  "correlation_dependent", nsamples=1000)``, construction (the transform,
  sampled over 1000 orderings at d = 30) plus explaining 20 rows, on
  standardised breast cancer (30 features, logistic regression) with a
  10-row background (singular covariance) and the full 569-row one; medians
  of interleaved repeats, the largest efficiency gap of each, and the largest
  difference between the two (both are sampled estimates; with a singular
  covariance shap's game differs, see ``LinearExplainer``).

Calls are interleaved (whylens, shap, model, ...) so a noisy neighbour slows
every contender alike. Nothing here asserts a time; this script only reports.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import logging
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

SEED = 0
BUDGETS = (500, 1000, 2000, 5000)


def make_data(d: int, n: int = 3000, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Correlated normal features; a target with interactions and non-linearities."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] += 0.6 * X[:, 0]
    X[:, 5] -= 0.4 * X[:, 3]
    y = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + X[:, 3] ** 2 + (X[:, 4] > 0) * X[:, 5]
         + 0.5 * X[:, 6:].sum(axis=1) + X[:, 7] * X[:, 8] * (X[:, 9] > 0))
    return X, y


def rel_error(values: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(values - truth, axis=1)
                         / np.linalg.norm(truth, axis=1)))


# ------------------------------------------------------------------ accuracy
def accuracy(d: int, budgets: tuple[int, ...], n_rows: int, seeds: int) -> list[dict[str, Any]]:
    from sklearn.ensemble import GradientBoostingRegressor

    import shap
    from whylens.shap import ExactExplainer, KernelExplainer, PermutationExplainer

    X, y = make_data(d)
    model = GradientBoostingRegressor(n_estimators=100, max_depth=4, random_state=SEED).fit(X, y)
    f = model.predict
    bg = X[:10]
    rows = X[-n_rows:]
    tree = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional")
    truth = np.asarray(tree.shap_values(rows))
    note = "shap interventional TreeSHAP"
    if d <= 16:
        exact = ExactExplainer(f, bg)(rows).values[:, 0]
        note = (f"whylens ExactExplainer (max |diff| to TreeSHAP "
                f"{np.abs(exact - truth).max():.1e})")
        truth = exact
    out = []
    for budget in budgets:
        errs: dict[str, list[float]] = {k: [] for k in
                                        ("whylens kernel", "whylens permutation",
                                         "shap kernel l1_reg=False", "shap kernel default",
                                         "shap permutation")}
        for seed in range(seeds):
            errs["whylens kernel"].append(rel_error(
                KernelExplainer(f, bg, nsamples=budget, random_state=seed)(rows).values[:, 0],
                truth))
            errs["whylens permutation"].append(rel_error(
                PermutationExplainer(f, bg, max_evals=budget, random_state=seed)(rows)
                .values[:, 0], truth))
            np.random.seed(seed)  # noqa: NPY002 - shap's Kernel samples with numpy's global RNG
            sk = shap.KernelExplainer(f, bg)
            errs["shap kernel l1_reg=False"].append(rel_error(
                np.asarray(sk.shap_values(rows, nsamples=budget, l1_reg=False, silent=True)),
                truth))
            np.random.seed(seed)  # noqa: NPY002
            errs["shap kernel default"].append(rel_error(
                np.asarray(sk.shap_values(rows, nsamples=budget, silent=True)), truth))
            sp = shap.PermutationExplainer(f, shap.maskers.Independent(bg), seed=seed)
            errs["shap permutation"].append(rel_error(
                sp(rows, max_evals=budget, silent=True).values, truth))
        row = {"d": d, "budget": budget, "truth": note,
               **{k: float(np.mean(v)) for k, v in errs.items()}}
        row["exact budget"] = budget >= 2**d
        row["whylens kernel / shap kernel (l1_reg=False)"] = (
            float("nan") if row["exact budget"]
            else row["whylens kernel"] / row["shap kernel l1_reg=False"])
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


# ------------------------------------------------------------------ overhead
class Recorder:
    """Wrap a prediction function; keep the rows it receives while ``on``."""

    def __init__(self, fn):
        self.fn = fn
        self.on = False
        self.seen: list[np.ndarray] = []

    def __call__(self, X):
        if self.on:
            self.seen.append(np.array(X, copy=True))
        return self.fn(X)


def _times(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread) of one call; one BLAS thread, so the
    CPU time is what the call cost, whatever a loaded machine's neighbours do."""
    w0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - w0, time.thread_time() - c0


def _contenders(rec: Recorder, bg: np.ndarray, rows: np.ndarray, budget: int) -> dict:
    """(whylens call, shap call) per method, on the recording model ``rec``."""
    import shap
    from whylens.shap import ExactExplainer, KernelExplainer, PermutationExplainer

    return {
        "kernel": (lambda: KernelExplainer(rec, bg, nsamples=budget, random_state=0)(rows),
                   lambda: shap.KernelExplainer(rec, bg).shap_values(
                       rows, nsamples=budget, l1_reg=False, silent=True)),
        "permutation": (
            lambda: PermutationExplainer(rec, bg, max_evals=budget, random_state=0)(rows),
            lambda: shap.PermutationExplainer(rec, shap.maskers.Independent(bg), seed=0)(
                rows, max_evals=budget, silent=True)),
        "exact": (lambda: ExactExplainer(rec, bg)(rows),
                  lambda: shap.ExactExplainer(rec, shap.maskers.Independent(bg))(rows)),
    }


def overhead(repeats: int, n_rows: int, budget: int,
             cheap_repeats: int | None = None) -> list[dict[str, Any]]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    d = 12
    X, y = make_data(d)
    label = (y > np.median(y)).astype(int)
    models = {
        "random forest (100 trees)": RandomForestClassifier(
            n_estimators=100, random_state=SEED, n_jobs=1).fit(X, label),
        "logistic regression": LogisticRegression(max_iter=1000).fit(X, label),
    }
    bg = X[:10]
    rows = X[-n_rows:]
    cheap_repeats = repeats if cheap_repeats is None else cheap_repeats
    out = []
    for model_name, model in models.items():
        rec = Recorder(model.predict_proba)
        contenders = _contenders(rec, bg, rows, budget)
        for method, (ours, theirs) in contenders.items():
            record = {}
            for who, call in (("whylens", ours), ("shap", theirs)):
                rec.seen, rec.on = [], True
                result = call()
                rec.on = False
                batch = np.concatenate(rec.seen)
                record[who] = {"rows": int(batch.shape[0]), "calls": len(rec.seen),
                               "result": result, "batch": batch}
            t = {"whylens": [], "shap": [], "model whylens": [], "model shap": []}
            cpu = {k: [] for k in t}
            calls = {"whylens": ours, "shap": theirs,
                     "model whylens": lambda b=record["whylens"]["batch"], m=model:
                     m.predict_proba(b),
                     "model shap": lambda b=record["shap"]["batch"], m=model: m.predict_proba(b)}
            n_rep = repeats if "forest" in model_name else cheap_repeats
            for _ in range(n_rep):  # interleaved
                for key, call in calls.items():
                    wall, cpu_s = _times(call)
                    t[key].append(wall)
                    cpu[key].append(cpu_s)
            med = {k: statistics.median(v) for k, v in t.items()}
            med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
            ours_vals = record["whylens"]["result"].shap_values
            theirs_res = record["shap"]["result"]
            theirs_vals = np.asarray(getattr(theirs_res, "values", theirs_res))
            row = {
                "model": model_name, "method": method, "budget": budget if method != "exact"
                else 2**d,
                "whylens ms": 1e3 * med["whylens"], "shap ms": 1e3 * med["shap"],
                "shap/whylens": med["shap"] / med["whylens"],
                "whylens rows": record["whylens"]["rows"],
                "shap rows": record["shap"]["rows"],
                "whylens overhead": med["whylens"] / med["model whylens"],
                "shap overhead": med["shap"] / med["model shap"],
                "whylens overhead (CPU time)": med_cpu["whylens"] / med_cpu["model whylens"],
                "repeats": n_rep,
                "whylens calls": record["whylens"]["calls"],
                "max |whylens - shap|": float(np.abs(ours_vals - theirs_vals).max())
                if method == "exact" else None,
            }
            print(json.dumps(row), flush=True)
            out.append(row)
    return out


# -------------------------------------------------------------------- linear
def linear(repeats: int, nsamples: int = 1000) -> list[dict[str, Any]]:
    """whylens vs shap LinearExplainer, correlation_dependent, d = 30."""
    import contextlib
    import io

    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import shap
    from whylens.shap import LinearExplainer

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    rows = X[-20:]
    out = []
    for n_bg in (10, X.shape[0]):
        bg = X[:n_bg]
        target = clf.decision_function(rows) - clf.decision_function(bg).mean()

        def ours(bg=bg):
            return LinearExplainer(clf, bg, "correlation_dependent", nsamples=nsamples,
                                   random_state=SEED).shap_values(rows)

        def theirs(bg=bg):
            np.random.seed(SEED)  # noqa: NPY002 - shap samples with the global RNG
            with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
                return shap.LinearExplainer(clf, bg, feature_perturbation="correlation_dependent",
                                            nsamples=nsamples).shap_values(rows)

        t: dict[str, list[float]] = {"whylens": [], "shap": []}
        vals = {}
        for _ in range(repeats):  # interleaved
            for who, call in (("whylens", ours), ("shap", theirs)):
                w0 = time.perf_counter()
                vals[who] = call()
                t[who].append(time.perf_counter() - w0)
        med = {k: statistics.median(v) for k, v in t.items()}
        row = {"background rows": n_bg, "d": X.shape[1], "nsamples": nsamples,
               "whylens s": med["whylens"], "shap s": med["shap"],
               "shap/whylens": med["shap"] / med["whylens"],
               "whylens efficiency gap": float(np.abs(vals["whylens"].sum(1) - target).max()),
               "shap efficiency gap": float(np.abs(vals["shap"].sum(1) - target).max()),
               "max |whylens - shap|": float(np.abs(vals["whylens"] - vals["shap"]).max()),
               "max |whylens|": float(np.abs(vals["whylens"]).max()), "repeats": repeats}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def _markdown_linear(lin: list[dict[str, Any]]) -> str:
    lines = ["| background rows | d | orderings | whylens s | shap s | shap/whylens | "
             "efficiency gap whylens / shap | max diff (max value) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in lin:
        lines.append(
            f"| {r['background rows']} | {r['d']} | {r['nsamples']} | {r['whylens s']:.3f} | "
            f"{r['shap s']:.3f} | **{r['shap/whylens']:.1f}×** | "
            f"{r['whylens efficiency gap']:.1e} / {r['shap efficiency gap']:.1e} | "
            f"{r['max |whylens - shap|']:.2g} ({r['max |whylens|']:.2g}) |")
    return "\n".join(lines)


def _markdown(acc: list[dict[str, Any]], ovh: list[dict[str, Any]]) -> str:
    lines = []
    if acc:
        lines += ["| d | evaluations | whylens kernel | whylens permutation | shap kernel "
                  "(l1_reg=False) | shap kernel (default) | shap permutation | whylens/shap "
                  "kernel |", "|---|---|---|---|---|---|---|---|"]
        for r in acc:
            ratio = ("exact (both)" if r["exact budget"]
                     else f"**{r['whylens kernel / shap kernel (l1_reg=False)']:.2f}**")
            lines.append(
                f"| {r['d']} | {r['budget']} | {r['whylens kernel']:.2g} | "
                f"{r['whylens permutation']:.4f} | {r['shap kernel l1_reg=False']:.4f} | "
                f"{r['shap kernel default']:.4f} | {r['shap permutation']:.4f} | {ratio} |")
        lines.append("")
    if ovh:
        lines += ["| model | method | evaluations | whylens ms | shap ms | shap/whylens | "
                  "whylens overhead (wall) | whylens overhead (CPU) | shap overhead | "
                  "whylens calls |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in ovh:
            extra = (f" (max diff {r['max |whylens - shap|']:.1e})"
                     if r["max |whylens - shap|"] is not None else "")
            lines.append(
                f"| {r['model']} | {r['method']} | {r['budget']} | {r['whylens ms']:.1f} | "
                f"{r['shap ms']:.1f} | **{r['shap/whylens']:.1f}×**{extra} | "
                f"{r['whylens overhead']:.2f} | {r['whylens overhead (CPU time)']:.2f} | "
                f"{r['shap overhead']:.1f} | {r['whylens calls']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--only", choices=("accuracy", "overhead", "linear"))
    parser.add_argument("--json", type=Path, help="write all rows to this JSON file")
    args = parser.parse_args(argv)
    logging.getLogger("shap").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    acc, ovh, lin = [], [], []
    if args.only in (None, "accuracy"):
        for d in (12, 30):
            acc += accuracy(d, BUDGETS[:2] if args.quick else BUDGETS,
                            n_rows=2 if args.quick else 4, seeds=1 if args.quick else 6)
    if args.only in (None, "overhead"):
        ovh = overhead(repeats=1 if args.quick else 5, n_rows=2 if args.quick else 5,
                       budget=1000, cheap_repeats=1 if args.quick else 15)
    if args.only in (None, "linear"):
        lin = linear(repeats=1 if args.quick else 5)
    print()
    print(_markdown(acc, ovh))
    if lin:
        print()
        print(_markdown_linear(lin))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"accuracy": acc, "overhead": ovh, "linear": lin},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""whylens.inspection against sklearn.inspection, side by side in one run, as ratios.

Run from the repository root with the dev virtual environment::

    .venv/bin/python benchmarks/bench_inspection.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_inspection.py --quick    # smoke run

What is measured:

* **permutation importance**: the same fitted model, rows, scorer and number of
  repeats; scikit-learn's ``permutation_importance(n_jobs=1)`` (one model call
  per feature and repeat) against whylens' (all repeats of a feature stacked,
  the features merged into calls of up to 500,000 rows). Models: a random
  forest regressor (100 trees, ``n_jobs=1``) scored by R², a random forest
  classifier scored by log loss, and a logistic regression scored by accuracy
  and log loss (scikit-learn is called once per scorer there, and once with the list;
  whylens scores both from one set of model calls). **overhead** is whylens'
  time over the time the model alone takes on the same kind of rows in the
  same calls (the baseline rows, then every feature's ``n_repeats * n``
  permuted rows stacked in one call, as whylens merges them up to 500,000
  rows), ``predict``/``predict_proba`` called directly.
* **brute PDP**: ``kind="average"`` and ``kind="both"`` for three 1-way
  features on a grid of 50 points; scikit-learn's ``partial_dependence
  (method="brute")`` once per feature (one model call per grid point) against
  whylens' one chunked call over all features and grid points. **overhead**:
  over the model alone on the same rows (every row at every grid point), one
  call per feature.

Calls are interleaved (whylens, scikit-learn, model alone, ... repeated) and the
median is kept, so a noisy neighbour slows every contender alike. Nothing is
asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _interleaved(contenders: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    for fn in contenders.values():  # warm-up: imports, caches, the chunk probe
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(_timed(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


def _permutation_case(name: str, model: Any, X: np.ndarray, y: np.ndarray, scoring: Any,
                      method: str, n_repeats: int, repeats: int) -> dict[str, float]:
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    from whylens.inspection import permutation_importance

    n, d = X.shape
    rng = np.random.default_rng(0)
    stacks = []  # the rows whylens builds: feature j permuted, every repeat stacked
    for j in range(d):
        stacked = np.tile(X, (n_repeats, 1))
        for t in range(n_repeats):
            stacked[t * n:(t + 1) * n, j] = X[rng.permutation(n), j]
        stacks.append(stacked)
    merged = np.concatenate(stacks)  # whylens merges the features' rows into one call
    predict = getattr(model, method)
    scorers = scoring if isinstance(scoring, list) else [scoring]

    def sklearn_run() -> None:
        for s in scorers:  # scikit-learn's permutation_importance takes the scorers as a list
            sk_permutation_importance(model, X, y, scoring=s, n_repeats=n_repeats,
                                      random_state=0, n_jobs=1)

    def sklearn_multi() -> None:
        sk_permutation_importance(model, X, y, scoring=scorers, n_repeats=n_repeats,
                                  random_state=0, n_jobs=1)

    def whylens_run() -> None:
        permutation_importance(model, X, y, scoring=scoring, n_repeats=n_repeats,
                               random_state=0)

    def model_only() -> None:
        methods = [predict] if method == "predict" or scorers == ["neg_log_loss"] else [
            model.predict, model.predict_proba]
        for fn in methods:
            fn(X)
            fn(merged)

    contenders = {"whylens": whylens_run, "sklearn": sklearn_run, "model": model_only}
    if len(scorers) > 1:
        contenders["sklearn (list of scorers)"] = sklearn_multi
    t = _interleaved(contenders, repeats)
    print(f"  {name}: whylens {t['whylens'] * 1e3:.0f} ms, scikit-learn "
          f"{t['sklearn'] * 1e3:.0f} ms, model alone {t['model'] * 1e3:.0f} ms")
    out = {"sklearn / whylens": t["sklearn"] / t["whylens"],
           "overhead": t["whylens"] / t["model"]}
    if "sklearn (list of scorers)" in t:
        out["sklearn(list) / whylens"] = t["sklearn (list of scorers)"] / t["whylens"]
    return out


def _pdp_case(name: str, model: Any, X: np.ndarray, features: list[int], kind: str,
              grid_resolution: int, repeats: int) -> dict[str, float]:
    from sklearn.inspection import partial_dependence as sk_partial_dependence

    from whylens.inspection import partial_dependence

    def sklearn_run() -> None:
        for j in features:
            sk_partial_dependence(model, X, [j], kind=kind, grid_resolution=grid_resolution,
                                  method="brute")

    def whylens_run() -> None:
        partial_dependence(model, X, features, kind=kind, grid_resolution=grid_resolution,
                           method="brute")

    n = X.shape[0]
    method = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    blocks = []  # the rows brute force needs: every row at every grid point of the feature
    for j in features:
        grid = np.linspace(*np.quantile(X[:, j], [0.05, 0.95]), grid_resolution)
        block = np.tile(X, (grid_resolution, 1))
        block[:, j] = np.repeat(grid, n)
        blocks.append(block)

    def model_only() -> None:  # the same rows, in one call per feature
        for block in blocks:
            method(block)

    t = _interleaved({"whylens": whylens_run, "sklearn": sklearn_run, "model": model_only},
                     repeats)
    print(f"  {name} ({kind}, {len(features)} features x {grid_resolution} points x {n} rows): "
          f"whylens {t['whylens'] * 1e3:.0f} ms, scikit-learn {t['sklearn'] * 1e3:.0f} ms, "
          f"model alone {t['model'] * 1e3:.0f} ms")
    return {"sklearn / whylens": t["sklearn"] / t["whylens"],
            "overhead": t["whylens"] / t["model"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    n = 300 if args.quick else 2000
    trees = 20 if args.quick else 100

    import sklearn
    from sklearn.datasets import make_classification, make_regression
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression

    warnings.filterwarnings("ignore", category=UserWarning)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, {os.cpu_count()} cpus")
    rows: list[tuple[str, dict[str, float]]] = []

    print("permutation importance (n_repeats=5):")
    X, y = make_regression(n_samples=n, n_features=10, n_informative=5, random_state=0)
    forest = RandomForestRegressor(n_estimators=trees, n_jobs=1, random_state=0).fit(X, y)
    rows.append(("permutation, random forest regressor, r2", _permutation_case(
        "random forest, r2", forest, X, y, "r2", "predict", 5, repeats)))
    Xc, yc = make_classification(n_samples=n, n_features=10, n_informative=5, n_classes=3,
                                 random_state=0)
    logistic = LogisticRegression(max_iter=1000).fit(Xc, yc)
    rows.append(("permutation, logistic regression, accuracy + log loss", _permutation_case(
        "logistic regression, accuracy + neg_log_loss", logistic, Xc, yc,
        ["accuracy", "neg_log_loss"], "predict_proba", 5, repeats)))
    forest_c = RandomForestClassifier(n_estimators=trees, n_jobs=1, random_state=0).fit(Xc, yc)
    rows.append(("permutation, random forest classifier, neg_log_loss", _permutation_case(
        "random forest classifier, neg_log_loss", forest_c, Xc, yc, "neg_log_loss",
        "predict_proba", 5, repeats)))

    print("brute partial dependence (grid of 50):")
    pdp_rows = 200 if args.quick else 1000
    for kind in ("average", "both"):
        rows.append((f"brute PDP, random forest classifier, {kind}", _pdp_case(
            "random forest classifier", forest_c, Xc[:pdp_rows], [0, 1, 2], kind, 50,
            repeats)))
        rows.append((f"brute PDP, logistic regression, {kind}", _pdp_case(
            "logistic regression", logistic, Xc[:pdp_rows], [0, 1, 2], kind, 50, repeats)))

    print("\n| case | sklearn ÷ whylens | overhead (whylens ÷ model alone) |")
    print("|---|---|---|")
    for case, r in rows:
        extra = (f" ({r['sklearn(list) / whylens']:.2f}× against one call with the list)"
                 if "sklearn(list) / whylens" in r else "")
        print(f"| {case} | {r['sklearn / whylens']:.2f}×{extra} | {r['overhead']:.2f} |")


if __name__ == "__main__":
    main()

"""whylens TreeExplainer against shap 0.51's TreeExplainer, side by side, as ratios.

Run from the repository root with the dev virtual environment::

    .venv/bin/python benchmarks/bench_tree.py            # full run (~10 min on 2 busy cores)
    .venv/bin/python benchmarks/bench_tree.py --quick    # smoke run

What is measured (see benchmarks/README.md):

* **path-dependent**: a RandomForestClassifier (100 trees, d = 30, fitted on
  5,000 rows) with ``max_depth=8`` and full depth; SHAP values of 1,000 rows.
  whylens on one numba thread and on all cores, shap (its C++ is
  single-threaded), both with their default additivity check.
* **interventional**: the depth-8 forest, 200 explained rows, 100 and 1,000
  background rows. shap's interventional C++ returns wrong values past 100
  background rows (shap#2487, shap#3461; the script prints the gap), so at
  1,000 rows shap is also run the way that gives the right answer: ten chunks
  of 100 background rows, averaged.
* Every time is also given as a multiple of one ``predict_proba`` of the same
  forest (``n_jobs=1``) on the same rows.

Calls are interleaved (whylens, shap, predict, ... repeated) and the median is
kept, so a noisy neighbour slows every contender alike. Nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _timing import interleaved, timed

RESULTS = Path(__file__).resolve().parent / "results" / "tree.json"


def _forest(depth: int | None, n_train: int, seed: int = 0):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_train + 3000, 30, n_informative=12, n_redundant=4,
                               random_state=seed)
    model = RandomForestClassifier(n_estimators=100, max_depth=depth, random_state=seed,
                                   n_jobs=1).fit(X[:n_train], y[:n_train])
    return model, X[n_train:]


def _contenders(one, every, theirs, model, rows) -> dict[str, Any]:
    return {
        "whylens_1_thread": lambda: one.shap_values(rows),
        "whylens_all_cores": lambda: every.shap_values(rows),
        "shap": lambda: theirs.shap_values(rows),
        "predict": lambda: model.predict_proba(rows),
    }


def path_dependent(n_rows: int, n_train: int, repeats: int) -> list[dict[str, Any]]:
    import shap
    from whylens.shap import TreeExplainer

    out = []
    for depth in (8, None):
        model, rest = _forest(depth, n_train)
        rows = rest[:n_rows]
        one = TreeExplainer(model, n_jobs=1)
        every = TreeExplainer(model, n_jobs=-1)
        theirs = shap.TreeExplainer(model)
        one.shap_values(rows[:2])  # compile or load numba's cache outside the timing
        every.shap_values(rows[:2])
        contenders = _contenders(one, every, theirs, model, rows)
        t = interleaved(contenders, repeats)
        gap = float(np.abs(one.shap_values(rows[:100]) - theirs.shap_values(rows[:100])).max())
        leaves = sum(int(e.tree_.n_leaves) for e in model.estimators_)
        row = {
            "case": "path_dependent", "max_depth": depth or "full",
            "deepest": int(max(e.tree_.max_depth for e in model.estimators_)),
            "leaves": leaves, "rows": n_rows, **{f"{k}_s": v for k, v in t.items()},
            "shap_over_whylens_1_thread": t["shap"] / t["whylens_1_thread"],
            "shap_over_whylens_all_cores": t["shap"] / t["whylens_all_cores"],
            "x_predict_whylens_1_thread": t["whylens_1_thread"] / t["predict"],
            "x_predict_whylens_all_cores": t["whylens_all_cores"] / t["predict"],
            "x_predict_shap": t["shap"] / t["predict"],
            "max_abs_diff_vs_shap": gap,
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def interventional(n_rows: int, n_train: int, repeats: int) -> list[dict[str, Any]]:
    import shap
    from whylens.shap import TreeExplainer

    out = []
    model, rest = _forest(8, n_train)
    rows = rest[:n_rows]
    for n_bg in (100, 1000):
        background = rest[1000:1000 + n_bg]
        setup = timed(lambda bg=background: TreeExplainer(model, bg, n_jobs=1))
        one = TreeExplainer(model, background, n_jobs=1)
        every = TreeExplainer(model, background, n_jobs=-1)
        theirs = shap.TreeExplainer(model, background, feature_perturbation="interventional")
        one.shap_values(rows[:2])
        every.shap_values(rows[:2])
        chunks = [shap.TreeExplainer(model, background[i:i + 100],
                                     feature_perturbation="interventional")
                  for i in range(0, n_bg, 100)]

        def shap_chunked(chunks=chunks):
            return np.mean([c.shap_values(rows) for c in chunks], axis=0)

        contenders = _contenders(one, every, theirs, model, rows)
        if n_bg > 100:
            contenders["shap_chunks_of_100"] = shap_chunked
        t = interleaved(contenders, repeats if n_bg <= 100 else 1)
        ours = one.shap_values(rows[:20])
        correct = np.mean([c.shap_values(rows[:20]) for c in chunks], axis=0)
        row = {
            "case": "interventional", "max_depth": 8, "background": n_bg, "rows": n_rows,
            "whylens_setup_s": setup, **{f"{k}_s": v for k, v in t.items()},
            "shap_over_whylens_1_thread": t["shap"] / t["whylens_1_thread"],
            "shap_over_whylens_all_cores": t["shap"] / t["whylens_all_cores"],
            "x_predict_whylens_1_thread": t["whylens_1_thread"] / t["predict"],
            "x_predict_shap": t["shap"] / t["predict"],
            "max_abs_diff_vs_shap": float(np.abs(ours - theirs.shap_values(rows[:20])).max()),
            "max_abs_diff_vs_shap_chunks_of_100": float(np.abs(ours - correct).max()),
        }
        if n_bg > 100:
            row["shap_chunks_over_whylens_1_thread"] = (t["shap_chunks_of_100"]
                                                        / t["whylens_1_thread"])
            row["x_predict_shap_chunks"] = t["shap_chunks_of_100"] / t["predict"]
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--only", choices=("path", "interventional"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import numba

    n_train, n_rows, n_int, repeats = (5000, 1000, 200, 3) if not args.quick \
        else (1000, 100, 40, 1)
    print(f"numba threads: {numba.get_num_threads()}", flush=True)
    results: dict[str, Any] = {"numba_threads": numba.get_num_threads()}
    if args.only in (None, "path"):
        results["path_dependent"] = path_dependent(n_rows, n_train, repeats)
    if args.only in (None, "interventional"):
        results["interventional"] = interventional(n_int, n_train, repeats)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

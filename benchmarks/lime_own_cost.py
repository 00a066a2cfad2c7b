"""whylens' own cost of one tabular LIME explanation, stage by stage.

Run from the repository root with the dev virtual environment::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lime_own_cost.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lime_own_cost.py --samples 5000 --calls 200

The model is a null model (it returns a constant array it made once), so
everything timed is whylens' own work: scikit-learn's breast cancer (d=30),
lime's defaults (5000 samples, quartile bins, num_features=10). Each stage is
timed in two states: *warm* (calls back to back) and *cold* (after summing a
64 MB array, which evicts the CPU caches as a large model call does: a
100-tree random forest on 5000 rows gives the same timings). The stages are
those of ``LimeTabularExplainer.explain_instance``; their sum is a little
below the whole call (checks, labels, the Explanation). Medians in ms.

This is the budget that bench_lime.py's overhead goal leaves: with a 24 ms
forest, an overhead of at most 1.1 allows 2.4 ms of own work per explanation.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=100, help="timed calls per state")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_breast_cancer

    from whylens._workspace import scratch
    from whylens.lime import LimeTabularExplainer
    from whylens.lime._common import distances_to_first, fit_labels, surrogate_solver

    data = load_breast_cancer()
    X = data.data
    explainer = LimeTabularExplainer(X, feature_names=list(data.feature_names),
                                     class_names=list(data.target_names), random_state=0)
    n, d = args.samples, X.shape[1]
    constant = np.full((n, 2), 0.5)
    row = X[3]
    flush_array = np.ones(8 * 2**20)

    def stages() -> dict[str, float]:
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        rng = np.random.default_rng(0)
        with scratch((d, n), slot="lime.samples") as buffer:
            # The rows for the model are new memory, as in explain_instance.
            Z, _ = explainer.sampler.sample(row, n, rng, out=buffer)
            t1 = time.perf_counter()
            weights = explainer.kernel(distances_to_first(Z, "euclidean"),
                                       explainer.kernel_width)
            t2 = time.perf_counter()
            solver = surrogate_solver(Z, weights, None)
            t3 = time.perf_counter()
            fit_labels(solver, constant, [1], 10, "auto", None)
            t4 = time.perf_counter()
        times["sampling"] = t1 - t0
        times["distances + weights"] = t2 - t1
        times["solver (Gram matrix)"] = t3 - t2
        times["fits"] = t4 - t3
        times["sum of stages"] = t4 - t0
        return times

    def whole() -> float:
        t0 = time.perf_counter()
        explainer.explain_instance(row, lambda batch: constant, progress=False)
        return time.perf_counter() - t0

    def measure(before: Callable[[], object]) -> dict[str, float]:
        runs: dict[str, list[float]] = {}
        for _ in range(args.calls):
            before()
            for key, value in stages().items():
                runs.setdefault(key, []).append(value)
            before()
            runs.setdefault("whole explain_instance", []).append(whole())
        return {k: statistics.median(v) * 1e3 for k, v in runs.items()}

    for _ in range(5):
        stages()
    gc.disable()
    warm = measure(lambda: None)
    cold = measure(flush_array.sum)
    gc.enable()
    print(f"whylens tabular LIME own cost, {n} x {d} samples, null model (median ms of "
          f"{args.calls} calls)\n")
    print("| stage | warm | after a cache flush |")
    print("|---|---|---|")
    for key in warm:
        print(f"| {key} | {warm[key]:.2f} | {cold[key]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

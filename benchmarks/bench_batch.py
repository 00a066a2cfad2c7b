"""Whole-dataset jobs (whylens.batch): rows/s of the engines against the bare explainer.

Run from the repository root with the dev virtual environment (needs the scale extra)::

    .venv/bin/python benchmarks/bench_batch.py                 # 100,000 rows
    .venv/bin/python benchmarks/bench_batch.py --rows 20000    # a quick run

What is measured, for Kernel SHAP (a logistic regression, 10 features, 20
background rows, nsamples=64) and Tree SHAP (a random forest of 50 trees of
depth 8, path-dependent), on a Parquet table of ``--rows`` rows:

* **bare**: the whylens explainer called directly on the table in memory, chunk by
  chunk (``--chunk-rows``), with the same per-chunk seeds, one BLAS thread;
* **local x1**: ``explain_dataset(engine="local", jobs=1)``: reading the Parquet
  file, explaining in this process, writing parts, manifest and summary;
* **local x2**: two worker processes (the fork server's start and each worker's
  imports and numba compilation are counted: a job pays them once);
* **ray x2**: Ray tasks on a local 2-CPU instance started before the clock, after
  a 2,000-row job that lets its workers import whylens and the model (the
  start-up and that first job are printed apart).

``--memory`` instead measures the peak resident memory of a Linear SHAP job over
Parquet tables of 100,000 and 1,000,000 rows (chunks of 10,000): flat in the
number of rows when the table is streamed.

Reported: rows/s, the engine's time over the bare explainer's (overhead; the
goal is <= 5 % at one worker) and the scaling efficiency (rows/s of two
workers / (2 x one worker's)). The machine's cores are shared, so two workers
cannot reach 2x when something else runs. Nothing is asserted. Results go to
benchmarks/results/batch.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "batch.json"
N_FEATURES = 10


def _table(rows: int, folder: Path):
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, N_FEATURES))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(N_FEATURES)])
    path = folder / "table.parquet"
    frame.to_parquet(path, row_group_size=50_000)
    return X, path


def _models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, N_FEATURES))
    y = (X[:, 0] + X[:, 1] * X[:, 2] - X[:, 3] > 0).astype(int)
    return (LogisticRegression().fit(X, y),
            RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(X, y))


def _bare(method: str, model, X: np.ndarray, background: np.ndarray, chunk_rows: int,
          params: dict) -> float:
    """The explainer alone on the rows in memory, chunk by chunk (same seeds as a job)."""
    from threadpoolctl import threadpool_limits

    from whylens.batch import chunk_seed
    from whylens.shap import KernelExplainer, TreeExplainer

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        if method == "shap.kernel":
            explainer = KernelExplainer(model, background, random_state=0, **params)
        else:
            explainer = TreeExplainer(model, n_jobs=1)
        for lo in range(0, X.shape[0], chunk_rows):
            hi = min(lo + chunk_rows, X.shape[0])
            if method == "shap.kernel":
                explainer.random_state = chunk_seed(0, lo, hi)
            explainer(X[lo:hi], progress=False)
    return time.perf_counter() - start


def _job(method: str, model, path: Path, out: Path, chunk_rows: int, params: dict,
         engine: str, jobs: int) -> float:
    from whylens.batch import explain_dataset

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    explain_dataset(model, path, method, params=params, output=out, chunk_rows=chunk_rows,
                    engine=engine, jobs=jobs, progress=False)
    return time.perf_counter() - start


_MEMORY_CHILD = """
import resource, sys
from sklearn.linear_model import LogisticRegression
import numpy as np
from whylens.batch import explain_dataset
rng = np.random.default_rng(1)
X = rng.normal(size=(2000, {d})); y = (X[:, 0] > 0).astype(int)
explain_dataset(LogisticRegression().fit(X, y), sys.argv[1], "shap.linear",
                output=sys.argv[2], chunk_rows=10_000, progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _memory(folder: Path, sizes: list[int]) -> dict[int, float]:
    """Peak resident memory (MiB) of a Linear SHAP job over Parquet tables of ``sizes`` rows."""
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    peaks = {}
    for rows in sizes:
        path = folder / f"mem{rows}.parquet"
        rng = np.random.default_rng(2)
        names = [f"x{j}" for j in range(N_FEATURES)]
        with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in names])) as writer:
            for lo in range(0, rows, 100_000):  # written in blocks: never whole here either
                block = rng.normal(size=(min(100_000, rows - lo), N_FEATURES))
                writer.write_table(pa.table(dict(zip(names, block.T, strict=True))))
        out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD.format(d=N_FEATURES),
                              str(path), str(folder / f"mem{rows}")],
                             capture_output=True, text=True, check=True)
        peaks[rows] = int(out.stdout.split()[-1]) / 1024
        path.unlink()
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--nsamples", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of bare and local x1 (interleaved; medians kept)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    parser.add_argument("--memory", action="store_true",
                        help="only the peak memory of a Linear SHAP job on 100k and 1M rows")
    parser.add_argument("--memory-rows", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="table sizes of --memory [default: 100000 1000000]")
    args = parser.parse_args()

    if args.memory:
        with tempfile.TemporaryDirectory() as tmp:
            peaks = _memory(Path(tmp), args.memory_rows)
        for rows, mib in peaks.items():
            print(f"Linear SHAP job over {rows:>9,} Parquet rows: peak RSS {mib:7.1f} MiB")
        return
    logistic, forest = _models()
    results: dict = {"rows": args.rows, "chunk_rows": args.chunk_rows, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        X, path = _table(args.rows, folder)
        small = folder / "small.parquet"
        import pandas as pd

        pd.DataFrame(X[:2000], columns=[f"x{j}" for j in range(N_FEATURES)]).to_parquet(small)
        from whylens.batch._data import as_source, sample_rows

        rows = sample_rows(args.rows, 20, 0)  # the background a job samples with seed 0
        background = as_source(path).take(rows)
        ray_start = None
        if not args.no_ray:
            import ray

            from whylens.batch._engines import start_ray

            t = time.perf_counter()
            start_ray(2, None)
            ray_start = time.perf_counter() - t
            results["ray_start_s"] = ray_start
        cases = {
            "shap.kernel": (logistic, {"nsamples": args.nsamples, "background": 20}),
            "shap.tree": (forest, {}),
        }
        for method, (model, params) in cases.items():
            bare_params = {k: v for k, v in params.items() if k != "background"}
            # Warm-up (imports, numba compilation in this process), then bare and local x1
            # interleaved, medians kept: a noisy neighbour slows both alike.
            _bare(method, model, X[:200], background, 100, bare_params)
            bare, local = [], []
            for _ in range(args.repeats):
                bare.append(_bare(method, model, X, background, args.chunk_rows,
                                  bare_params))
                local.append(_job(method, model, path, folder / "out", args.chunk_rows,
                                  params, "local", 1))
            times = {"bare": statistics.median(bare), "local x1": statistics.median(local)}
            runs = [("local x2", "local", 2)]
            if not args.no_ray:
                runs.append(("ray x2", "ray", 2))
            for name, engine, jobs in runs:
                if engine == "ray":  # the workers' first imports, timed apart
                    t = time.perf_counter()
                    _job(method, model, small, folder / "warm", 500, params, engine, jobs)
                    results.setdefault("ray_warm_up_s", {})[method] = time.perf_counter() - t
                times[name] = _job(method, model, path, folder / "out", args.chunk_rows,
                                   params, engine, jobs)
            case = {name: {"seconds": round(t, 3), "rows_per_s": round(args.rows / t, 1)}
                    for name, t in times.items()}
            case["overhead_local_x1"] = round(times["local x1"] / times["bare"] - 1, 4)
            case["scaling_local_x2"] = round(times["local x1"] / (2 * times["local x2"]), 3)
            if "ray x2" in times:
                case["scaling_ray_x2"] = round(times["local x1"] / (2 * times["ray x2"]), 3)
            results["cases"][method] = case
            print(f"\n{method} on {args.rows:,} rows (chunks of {args.chunk_rows:,})")
            for name, t in times.items():
                print(f"  {name:9s} {t:8.2f} s  {args.rows / t:12,.0f} rows/s")
            print(f"  overhead of the local engine at one worker: "
                  f"{100 * case['overhead_local_x1']:+.1f} %")
            print(f"  scaling efficiency, local x2: {case['scaling_local_x2']:.2f}"
                  + (f"; ray x2: {case['scaling_ray_x2']:.2f}" if "scaling_ray_x2" in case
                     else ""))
        if ray_start is not None:
            warm = ", ".join(f"{m} {t:.1f} s" for m, t in results["ray_warm_up_s"].items())
            print(f"\nRay start-up (not in the times above): {ray_start:.1f} s; a first "
                  f"2,000-row job on fresh workers (imports, not timed above): {warm}")
            ray.shutdown()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""whylens accumulated_local_effects against PyALE 1.2, side by side: agreement and speed.

Run from the repository root with the dev virtual environment (PyALE is a bench
extra: ``.venv/bin/python -m pip install PyALE``)::

    .venv/bin/python benchmarks/bench_ale.py            # full run (~1 min on 2 busy cores)
    .venv/bin/python benchmarks/bench_ale.py --quick    # smoke run

What is measured:

* A RandomForestRegressor (50 trees, depth 8, ``n_jobs=1``) fitted on a
  DataFrame of n = 5,000 rows and 8 features (``make_friedman1``, so x0 and x1
  interact); every method gets the same DataFrame.
* **1-D**: the ALE of x0 with 20 quantile bins; **4 x 1-D**: x0..x3 (PyALE: one
  call each; whylens: one call for all four); **2-D**: (x0, x1) on a 20 x 20
  grid; **bootstrap**: whylens' 1-D ALE with 200 bootstrap resamples (PyALE's
  band is a t interval per bin, with no resampling).
* Agreement: whylens is given PyALE's own bin edges (PyALE's quantiles are
  nearly R's type 1; whylens' default is exactly type 1), and the largest
  absolute difference of the centred effects is printed.
* ``model`` is one ``predict`` of the same forest on the rows ALE needs (2n per
  1-D feature, 4n per pair), built in advance: the cost neither can avoid.

Calls are interleaved (whylens, PyALE, model, ... repeated) and the median is
kept, so a noisy neighbour slows every contender alike. Nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _timing import interleaved

RESULTS = Path(__file__).resolve().parent / "results" / "ale.json"


def _setup(n: int) -> tuple[Any, Any]:
    import pandas as pd
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import RandomForestRegressor

    X, y = make_friedman1(n_samples=n, n_features=8, noise=0.5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)])
    model = RandomForestRegressor(n_estimators=50, max_depth=8, n_jobs=1,
                                  random_state=0).fit(frame, y)
    return model, frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, two repeats")
    args = parser.parse_args(argv)
    import pandas as pd

    try:
        from PyALE import ale as pyale
    except ImportError:
        print("PyALE is not installed: .venv/bin/python -m pip install PyALE")
        return 1
    from whylens.inspection import accumulated_local_effects

    n = 1000 if args.quick else 5000
    repeats = 2 if args.quick else 5
    model, frame = _setup(n)
    warnings.filterwarnings("ignore")
    logging.getLogger("PyALE._ALE_generic").setLevel(logging.WARNING)

    def pyale_1d(feature: str) -> Any:
        return pyale(frame, model, [feature], grid_size=20, include_CI=False, plot=False)

    def pyale_2d() -> Any:
        return pyale(frame, model, ["x0", "x1"], grid_size=20, plot=False)

    rows: list[dict[str, Any]] = []

    # ---- agreement on PyALE's own edges
    ref = pyale_1d("x0")
    edges = np.asarray(ref.index, dtype=float)
    ours = accumulated_local_effects(model, frame, "x0", bins=edges)[0]
    gap_1d = float(np.abs(ours.values[0] - ref["eff"].to_numpy()).max())
    ref2 = pyale_2d()
    e0, e1 = np.asarray(ref2.index, dtype=float), np.asarray(ref2.columns, dtype=float)
    ours2 = accumulated_local_effects(model, frame, ("x0", "x1"),
                                      bins={"x0": e0, "x1": e1})[0]
    gap_2d = float(np.abs(ours2.values[0] - ref2.to_numpy()).max())
    scale = float(np.ptp(ours.values[0]))
    print(f"agreement (same edges): 1-D max |diff| {gap_1d:.2e} (effect range {scale:.3g}); "
          f"2-D max |diff| {gap_2d:.2e} (range {float(np.ptp(ours2.values[0])):.3g})")

    # ---- speed
    def model_rows(k: int) -> Any:
        big = pd.concat([frame] * k, ignore_index=True)
        return lambda: model.predict(big)

    cases = {
        "1-D x0": ({"whylens": lambda: accumulated_local_effects(model, frame, "x0"),
                    "PyALE": lambda: pyale_1d("x0"), "model": model_rows(2)}),
        "4 x 1-D": ({"whylens": lambda: accumulated_local_effects(model, frame,
                                                                  ["x0", "x1", "x2", "x3"]),
                     "PyALE": lambda: [pyale_1d(f) for f in ("x0", "x1", "x2", "x3")],
                     "model": model_rows(8)}),
        "2-D (x0, x1)": ({"whylens": lambda: accumulated_local_effects(model, frame,
                                                                       ("x0", "x1")),
                          "PyALE": pyale_2d, "model": model_rows(4)}),
        "1-D + 200 bootstrap": ({"whylens": lambda: accumulated_local_effects(
            model, frame, "x0", n_bootstrap=200, random_state=0),
            "PyALE": lambda: pyale(frame, model, ["x0"], grid_size=20, include_CI=True,
                                   plot=False),
            "model": model_rows(2)}),
    }
    print(f"\nn = {n} rows, median of {repeats} interleaved repeats (seconds)")
    print(f"{'case':<22}{'whylens':>9}{'PyALE':>9}{'model':>9}{'PyALE/whylens':>15}"
          f"{'whylens/model':>15}")
    for name, contenders in cases.items():
        t = interleaved(contenders, repeats)
        speedup = t["PyALE"] / t["whylens"]
        overhead = t["whylens"] / t["model"]
        print(f"{name:<22}{t['whylens']:>9.3f}{t['PyALE']:>9.3f}{t['model']:>9.3f}"
              f"{speedup:>15.2f}{overhead:>15.2f}")
        rows.append({"case": name, **t, "pyale_over_whylens": speedup,
                     "whylens_over_model": overhead})
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({"n": n, "repeats": repeats, "gap_1d": gap_1d,
                                       "gap_2d": gap_2d, "cases": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

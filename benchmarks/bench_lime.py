"""whylens LIME against lime 0.2.0.1, side by side in one run, reported as ratios.

Run from the repository root with the dev virtual environment::

    .venv/bin/python benchmarks/bench_lime.py                 # full run
    .venv/bin/python benchmarks/bench_lime.py --quick         # smoke run (~1 min)
    .venv/bin/python benchmarks/bench_lime.py --repeats 9 --json benchmarks/results/lime.json

What is measured (see benchmarks/README.md for the column meanings):

* tabular: scikit-learn breast cancer (d=30), lime's defaults (5000 samples,
  num_features=10, quartile discretisation, fixed random_state), the same test
  rows for a logistic-regression pipeline, a histogram gradient-boosting
  classifier and a random forest (n_jobs=1);
* text: rt-polarity (``../shared/data/rt-polarity``), TF-IDF + MultinomialNB,
  typical-length test sentences and the longest test sentence, lime's defaults.

For each case, the time of one ``explain_instance`` call of lime and of whylens
(median of ``--repeats`` per instance, then median across instances), their
ratio, and the *overhead*: explanation time divided by the time the same model
takes on the same perturbed rows called directly in one call. The perturbed
rows are captured by wrapping the prediction function once (an untimed call);
the model is then timed on the concatenation of what it received.

Timings are interleaved (lime, whylens, model, lime, whylens, model, ...) so
that a noisy neighbour slows every contender alike. Nothing here asserts a
wall-clock time: tests never do; this script only reports.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RT_POLARITY = REPO.parent / "shared" / "data" / "rt-polarity"

NUM_SAMPLES = 5000
NUM_FEATURES = 10
SEED = 0


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """CPU, library versions and thread pools of this run."""
    import scipy
    import sklearn

    import lime
    import whylens

    cpu_model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    pools: list[dict[str, Any]] = []
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ]
    except ImportError:
        pass
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "lime": getattr(lime, "__version__", None) or _dist_version("lime"),
        "whylens": getattr(whylens, "__version__", None) or _dist_version("whylens"),
        "threadpools": pools,
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- timing


class Recorder:
    """Wraps a prediction function and keeps every batch it is given."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.batches: list[Any] = []

    def __call__(self, batch: Any) -> Any:
        self.batches.append(batch)
        return self.fn(batch)

    def rows(self) -> Any:
        """Everything received, as one batch (an array or a list of str)."""
        if isinstance(self.batches[0], np.ndarray):
            return np.concatenate(self.batches, axis=0)
        out: list[Any] = []
        for b in self.batches:
            out.extend(b)
        return out

    @property
    def sizes(self) -> list[int]:
        return [len(b) for b in self.batches]


#: How garbage collection is handled around timed calls (``--gc``):
#: "collect" runs ``gc.collect()`` before every timed call (every contender
#: starts after a full collection: on the 2-core VM of benchmarks/README.md the
#: first 1-3 ms after one run up to 2x slower, which falls on whoever's work
#: comes first in the call); "off" is timeit's convention: the collector is
#: disabled while an instance is timed and run once before it, so calls run
#: back to back as in a loop over rows.
GC_MODE = "collect"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    if GC_MODE == "collect":
        gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _rel_iqr(xs: Sequence[float]) -> float:
    """Half the inter-quartile range over the median: the ± of a set of repeats."""
    if len(xs) < 2:
        return 0.0
    q1, q3 = np.percentile(xs, [25, 75])
    return float((q3 - q1) / 2 / np.median(xs))


@dataclass
class InstanceResult:
    label: str
    lime_s: list[float] = field(default_factory=list)
    whylens_s: list[float] = field(default_factory=list)
    model_whylens_s: list[float] = field(default_factory=list)
    model_lime_s: list[float] = field(default_factory=list)
    whylens_calls: list[int] = field(default_factory=list)
    lime_calls: list[int] = field(default_factory=list)
    top_overlap: float = float("nan")
    sign_agreement: float = float("nan")
    lime_score: float = float("nan")
    whylens_score: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    def medians(self) -> dict[str, float]:
        lime_t = statistics.median(self.lime_s)
        wl_t = statistics.median(self.whylens_s)
        m_wl = statistics.median(self.model_whylens_s)
        m_lime = statistics.median(self.model_lime_s)
        return {
            "lime": lime_t,
            "whylens": wl_t,
            "ratio": lime_t / wl_t,
            "model": m_wl,
            "model_lime": m_lime,
            "overhead": wl_t / m_wl,
            "lime_overhead": lime_t / m_lime,
            "lime_extra": lime_t - m_lime,
            "whylens_extra": wl_t - m_wl,
            "noise_lime": _rel_iqr(self.lime_s),
            "noise_whylens": _rel_iqr(self.whylens_s),
            "noise_model": _rel_iqr(self.model_whylens_s),
        }


def _top_agreement(lime_pairs: list[tuple[Any, float]], wl_pairs: list[tuple[Any, float]],
                   k: int) -> tuple[float, float]:
    """Share of lime's top-k features that whylens also has in its top k, and
    the share of those shared features whose weights have the same sign."""
    a = dict(lime_pairs[:k])
    b = dict(wl_pairs[:k])
    shared = set(a) & set(b)
    overlap = len(shared) / max(min(len(a), len(b)), 1)
    signs = (sum(np.sign(a[f]) == np.sign(b[f]) for f in shared) / len(shared)
             if shared else float("nan"))
    return overlap, float(signs)


def run_instance(
    label: str,
    explain_lime: Callable[[Callable[[Any], Any]], Any],
    explain_whylens: Callable[[Callable[[Any], Any]], Any],
    predict: Callable[[Any], Any],
    repeats: int,
    model_repeats: int,
    key: Callable[[Any, str], list[tuple[Any, float]]],
) -> InstanceResult:
    """Time one instance: capture rows, then interleave lime / whylens / model."""
    res = InstanceResult(label)
    rec_wl = Recorder(predict)
    exp_wl = explain_whylens(rec_wl)
    rec_lime = Recorder(predict)
    exp_lime = explain_lime(rec_lime)
    rows_wl, rows_lime = rec_wl.rows(), rec_lime.rows()
    res.whylens_calls = rec_wl.sizes
    res.lime_calls = rec_lime.sizes
    res.top_overlap, res.sign_agreement = _top_agreement(
        key(exp_lime, "lime"), key(exp_wl, "whylens"), NUM_FEATURES)
    res.lime_score = float(exp_lime.score)
    res.whylens_score = float(exp_wl.score[1])
    if GC_MODE == "off":
        gc.collect()
        gc.disable()
    try:
        _time_repeats(res, explain_lime, explain_whylens, predict, rows_wl, rows_lime, repeats,
                      model_repeats)
    finally:
        gc.enable()
    return res


def _time_repeats(res: InstanceResult, explain_lime: Callable[[Callable[[Any], Any]], Any],
                  explain_whylens: Callable[[Callable[[Any], Any]], Any],
                  predict: Callable[[Any], Any], rows_wl: Any, rows_lime: Any, repeats: int,
                  model_repeats: int) -> None:
    """Interleave timed calls: lime, whylens, then the model on either's rows."""
    for _ in range(repeats):
        t, _ = _timed(lambda: explain_lime(predict))
        res.lime_s.append(t)
        t, _ = _timed(lambda: explain_whylens(predict))
        res.whylens_s.append(t)
        for _ in range(model_repeats):
            t, _ = _timed(lambda: predict(rows_wl))
            res.model_whylens_s.append(t)
            t, _ = _timed(lambda: predict(rows_lime))
            res.model_lime_s.append(t)


def summarise(name: str, results: list[InstanceResult], note: str = "") -> dict[str, Any]:
    """Median across instances of the per-instance medians."""
    per = [r.medians() for r in results]

    def med(k: str) -> float:
        return float(statistics.median(p[k] for p in per))

    ratios = [p["ratio"] for p in per]
    overheads = [p["overhead"] for p in per]
    return {
        "case": name,
        "note": note,
        "n_instances": len(results),
        "lime_ms": med("lime") * 1e3,
        "whylens_ms": med("whylens") * 1e3,
        "ratio": med("ratio"),
        "ratio_range": [min(ratios), max(ratios)],
        "model_ms": med("model") * 1e3,
        "overhead": med("overhead"),
        "overhead_range": [min(overheads), max(overheads)],
        "whylens_extra_ms": med("whylens_extra") * 1e3,
        "lime_model_ms": med("model_lime") * 1e3,
        "lime_extra_ms": med("lime_extra") * 1e3,
        "lime_overhead": med("lime_overhead"),
        "noise_lime": med("noise_lime"),
        "noise_whylens": med("noise_whylens"),
        "noise_model": med("noise_model"),
        "whylens_model_calls": results[0].whylens_calls,
        "lime_model_calls": results[0].lime_calls,
        "top_overlap": float(np.nanmean([r.top_overlap for r in results])),
        "sign_agreement": float(np.nanmean([r.sign_agreement for r in results])),
        "lime_score": float(np.median([r.lime_score for r in results])),
        "whylens_score": float(np.median([r.whylens_score for r in results])),
        "instances": [
            {"label": r.label, **r.medians(), "lime_s": r.lime_s, "whylens_s": r.whylens_s,
             "model_whylens_s": r.model_whylens_s, "model_lime_s": r.model_lime_s,
             "whylens_calls": r.whylens_calls, "lime_calls": r.lime_calls,
             "top_overlap": r.top_overlap, "sign_agreement": r.sign_agreement,
             "lime_score": r.lime_score, "whylens_score": r.whylens_score, **r.extra}
            for r in results
        ],
    }


# --------------------------------------------------------------------------- tabular


def tabular_cases(n_instances: int, repeats: int, model_repeats: int,
                  models: Sequence[str], log: Callable[[str], None]) -> list[dict[str, Any]]:
    from lime.lime_tabular import LimeTabularExplainer as LimeTab
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from whylens.lime import LimeTabularExplainer as WlTab

    data = load_breast_cancer()
    X_train, X_test, y_train, _ = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target)
    names = list(data.feature_names)
    classes = list(data.target_names)
    builders = {
        "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "hist_gb": lambda: HistGradientBoostingClassifier(random_state=SEED),
        "random_forest": lambda: RandomForestClassifier(n_estimators=100, random_state=SEED,
                                                        n_jobs=1),
    }
    # lime's defaults; the same seed for both (lime keeps one RandomState that
    # advances per call, whylens draws the same samples on every call).
    lime_exp = LimeTab(X_train, feature_names=names, class_names=classes,
                       discretize_continuous=True, discretizer="quartile", random_state=SEED)
    wl_exp = WlTab(X_train, feature_names=names, class_names=classes,
                   discretize_continuous=True, discretizer="quartile", random_state=SEED)
    rows = X_test[:n_instances]
    warm_row = X_test[-1]

    def key(exp: Any, _who: str) -> list[tuple[Any, float]]:
        return exp.as_map()[1]

    out = []
    for mname in models:
        model = builders[mname]().fit(X_train, y_train)
        predict = model.predict_proba

        def ex_lime(fn: Callable[[Any], Any], row: np.ndarray) -> Any:
            return lime_exp.explain_instance(row, fn, num_features=NUM_FEATURES,
                                             num_samples=NUM_SAMPLES)

        def ex_wl(fn: Callable[[Any], Any], row: np.ndarray) -> Any:
            return wl_exp.explain_instance(row, fn, num_features=NUM_FEATURES,
                                           num_samples=NUM_SAMPLES, progress=False)

        for _ in range(3):  # warm-up: imports, caches, allocator, CPU clocks
            ex_lime(predict, warm_row)
            ex_wl(predict, warm_row)
            predict(np.repeat(warm_row[None], NUM_SAMPLES, axis=0))
        results = []
        for i, row in enumerate(rows):
            r = run_instance(
                f"test row {i}",
                lambda fn, row=row: ex_lime(fn, row),
                lambda fn, row=row: ex_wl(fn, row),
                predict, repeats, model_repeats, key)
            results.append(r)
            m = r.medians()
            log(f"  tabular/{mname} row {i}: lime {m['lime'] * 1e3:7.1f} ms  whylens "
                f"{m['whylens'] * 1e3:6.1f} ms  model {m['model'] * 1e3:6.2f} ms  "
                f"ratio {m['ratio']:5.1f}  overhead {m['overhead']:5.2f}")
        out.append(summarise(f"tabular / {mname}", results, "breast cancer, d=30"))
    return out


# --------------------------------------------------------------------------- text


def load_rt_polarity() -> tuple[list[str], np.ndarray] | None:
    docs: list[str] = []
    labels: list[int] = []
    for label, fname in ((0, "rt-polarity.neg"), (1, "rt-polarity.pos")):
        path = RT_POLARITY / fname
        if not path.is_file():
            return None
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1", errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        docs.extend(lines)
        labels.extend([label] * len(lines))
    return docs, np.asarray(labels)


def text_cases(n_instances: int, repeats: int, model_repeats: int,
               log: Callable[[str], None]) -> list[dict[str, Any]]:
    loaded = load_rt_polarity()
    if loaded is None:
        log(f"SKIP text: rt-polarity not found at {RT_POLARITY} (expected rt-polarity.neg "
            "and rt-polarity.pos); the text rows are left out.")
        return []
    from lime.lime_text import LimeTextExplainer as LimeText
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    from whylens.lime import LimeTextExplainer as WlText
    from whylens.text import word_tokenize

    docs, y = loaded
    d_train, d_test, y_train, _ = train_test_split(docs, y, test_size=0.2, random_state=SEED,
                                                   stratify=y)
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(d_train, y_train)
    predict = model.predict_proba
    counts = np.array([len(word_tokenize(d)) for d in d_test])
    median_words = float(np.median(counts))
    # Typical length: the sentences closest to the median word count, picked
    # with a fixed seed among those within 2 words of it.
    typical = np.flatnonzero(np.abs(counts - median_words) <= 2)
    pick = np.random.default_rng(SEED).choice(typical, size=min(n_instances, typical.size),
                                              replace=False)
    longest = int(np.argmax(counts))
    classes = ["negative", "positive"]
    lime_exp = LimeText(class_names=classes, random_state=SEED)
    wl_exp = WlText(class_names=classes, random_state=SEED)

    def ex_lime(fn: Callable[[Any], Any], doc: str) -> Any:
        return lime_exp.explain_instance(doc, fn, num_features=NUM_FEATURES,
                                         num_samples=NUM_SAMPLES)

    def ex_wl(fn: Callable[[Any], Any], doc: str) -> Any:
        return wl_exp.explain_instance(doc, fn, num_features=NUM_FEATURES,
                                       num_samples=NUM_SAMPLES, progress=False)

    def key(exp: Any, _who: str) -> list[tuple[Any, float]]:
        return exp.as_list(label=1)

    warm_doc = d_test[int(np.flatnonzero(counts == int(median_words))[-1])]
    for _ in range(3):
        ex_lime(predict, warm_doc)
        ex_wl(predict, warm_doc)
        predict([warm_doc] * NUM_SAMPLES)

    out = []
    for name, idx in (("typical", pick), ("longest", np.array([longest]))):
        results = []
        for i in idx:
            doc = d_test[int(i)]
            r = run_instance(
                f"test doc {int(i)}",
                lambda fn, doc=doc: ex_lime(fn, doc),
                lambda fn, doc=doc: ex_wl(fn, doc),
                predict, repeats, model_repeats, key)
            r.extra = {"words": int(counts[i]), "distinct_words": len(set(
                t.text for t in word_tokenize(doc))), "chars": len(doc)}
            results.append(r)
            m = r.medians()
            log(f"  text/{name} doc {int(i)} ({int(counts[i])} words): lime "
                f"{m['lime'] * 1e3:7.1f} ms  whylens {m['whylens'] * 1e3:6.1f} ms  model "
                f"{m['model'] * 1e3:6.1f} ms  ratio {m['ratio']:5.2f}  overhead "
                f"{m['overhead']:5.2f}  calls {r.whylens_calls}")
        words = [r.extra["words"] for r in results]
        note = (f"{len(words)} docs, {min(words)}-{max(words)} words (median "
                f"{int(np.median(words))}); test-set median {median_words:.0f}"
                if name == "typical" else f"{words[0]} words, "
                f"{results[0].extra['distinct_words']} distinct")
        out.append(summarise(f"text / {name}", results, note))
    return out


# --------------------------------------------------------------------------- report


GOALS = {
    # from the project issue: overhead = whylens time / direct model time;
    # speed-up = lime time / whylens time at lime's defaults.
    "tabular / logistic": {"overhead": 1.1, "ratio": 10.0},
    "tabular / hist_gb": {"overhead": 1.1},
    "tabular / random_forest": {"overhead": 1.1, "ratio": 2.5},
    "text / typical": {"overhead": 1.2, "ratio": 2.5},
    "text / longest": {"overhead": 1.2, "ratio": 2.5},
}


def _goal_mark(case: str, key: str, value: float) -> str:
    goal = GOALS.get(case, {}).get(key)
    if goal is None:
        return ""
    ok = value <= goal if key == "overhead" else value >= goal
    return " ✓" if ok else " ✗"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    head = ("| case | lime ms | whylens ms | lime/whylens | model ms | whylens overhead "
            "| whylens − model ms | lime − model ms | lime overhead | top-10 overlap "
            "| noise ± (lime / whylens / model) |")
    sep = "|" + "---|" * 11
    lines = [head, sep]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['lime_ms']:.1f} | {r['whylens_ms']:.1f} "
            f"| **{r['ratio']:.1f}×**{_goal_mark(r['case'], 'ratio', r['ratio'])} "
            f"({r['ratio_range'][0]:.1f}–{r['ratio_range'][1]:.1f}) "
            f"| {r['model_ms']:.2f} "
            f"| **{r['overhead']:.2f}**{_goal_mark(r['case'], 'overhead', r['overhead'])} "
            f"({r['overhead_range'][0]:.2f}–{r['overhead_range'][1]:.2f}) "
            f"| {r['whylens_extra_ms']:.1f} | {r['lime_extra_ms']:.1f} "
            f"| {r['lime_overhead']:.1f} "
            f"| {r['top_overlap'] * 100:.0f}% (sign {r['sign_agreement'] * 100:.0f}%) "
            f"| {r['noise_lime'] * 100:.0f}% / {r['noise_whylens'] * 100:.0f}% / "
            f"{r['noise_model'] * 100:.0f}% |"
        )
    lines.append("")
    lines.append("Cases: " + "; ".join(f"{r['case']}: {r['n_instances']} instances, "
                                       f"{r['note']}, whylens model calls "
                                       f"{r['whylens_model_calls']}, lime "
                                       f"{r['lime_model_calls']}, surrogate R² lime "
                                       f"{r['lime_score']:.2f} / whylens "
                                       f"{r['whylens_score']:.2f}" for r in rows))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed calls per instance and library (default 5)")
    parser.add_argument("--model-repeats", type=int, default=3,
                        help="direct model calls per repeat (default 3)")
    parser.add_argument("--instances", type=int, default=10,
                        help="tabular rows / typical documents (default 10)")
    parser.add_argument("--quick", action="store_true",
                        help="3 instances, 2 repeats: a smoke run, not numbers to quote")
    parser.add_argument("--only", choices=("tabular", "text"), default=None)
    parser.add_argument("--models", default="logistic,hist_gb,random_forest",
                        help="comma-separated tabular models")
    parser.add_argument("--threads", type=int, default=1,
                        help="cap BLAS/OpenMP threads with threadpoolctl "
                        "(default 1; 0 = leave as is)")
    parser.add_argument("--gc", choices=("collect", "off"), default="collect",
                        help="'collect': gc.collect() before every timed call (default); "
                        "'off': timeit's convention, the collector off while an instance "
                        "is timed (see GC_MODE)")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    args = parser.parse_args(argv)
    global GC_MODE
    GC_MODE = args.gc
    if args.quick:
        args.repeats, args.instances = min(args.repeats, 2), min(args.instances, 3)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="lime")
    info = machine_info()
    info["threads_cap"] = args.threads
    log(f"machine: {info['cpu_model']} ({info['cpu_usable']} usable of {info['cpu_count']} "
        f"CPUs), python {info['python']}, numpy {info['numpy']}, scikit-learn "
        f"{info['sklearn']}, lime {info['lime']}, whylens {info['whylens']}")
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.only in (None, "tabular"):
        rows += tabular_cases(args.instances, args.repeats, args.model_repeats, models, log)
    if args.only in (None, "text"):
        rows += text_cases(args.instances, args.repeats, args.model_repeats, log)
    elapsed = time.perf_counter() - t0
    if limiter is not None:
        limiter.restore_original_limits()
    table = markdown_table(rows)
    print(f"\n### whylens LIME vs lime {info['lime']} — {info['date']}\n")
    print(f"{info['cpu_model']}, {info['cpu_usable']} CPUs usable; python {info['python']}, "
          f"numpy {info['numpy']}, scipy {info['scipy']}, scikit-learn {info['sklearn']}; "
          f"{NUM_SAMPLES} samples, num_features={NUM_FEATURES}; median of {args.repeats} "
          f"repeats per instance, median across instances; --gc {args.gc}; run took "
          f"{elapsed:.0f} s.\n")
    print(table)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"machine": info, "args": {k: (str(v) if isinstance(v, Path) else v)
                                             for k, v in vars(args).items()},
                   "num_samples": NUM_SAMPLES, "num_features": NUM_FEATURES,
                   "elapsed_s": elapsed, "results": rows}
        args.json.write_text(json.dumps(payload, indent=1, default=float), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

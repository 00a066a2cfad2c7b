"""whylens LIME image against lime 0.2.0.1's lime_image, side by side in one run, as ratios.

Run from the repository root (the ``demo`` extra provides the model)::

    .venv/bin/python benchmarks/bench_image.py                    # 224 px, 1000 samples
    .venv/bin/python benchmarks/bench_image.py --size 128 --json benchmarks/results/image.json
    .venv/bin/python benchmarks/bench_image.py --quick            # smoke run

Model: EfficientNet-Lite0 with its ImageNet weights (the demo's) on
scikit-image's ``chelsea`` photo. Both libraries get the same prediction
function (numpy images in, softmax probabilities out, ``torch.inference_mode``)
and the same arguments: ``num_samples``, ``top_labels=5``, mean-colour hiding,
their default quickshift segmentation (kernel_size=4, max_dist=200, ratio=0.2),
segmentation included in the time. lime uses its default ``batch_size=10``;
whylens its default (no ``batch_size``: a timing probe of 4, 8, 16, ... images
per call, up to what a 256 MiB budget allows, on the job's first samples, then
the fastest). whylens is also timed with the torch module passed directly on a
channels-first tensor. Each whylens call gets a fresh model wrapper, so each
pays its own probe.

Reference: the same number of forwards of the model called directly, in the
best of a few batch sizes (each timed twice on 64 images first, the minimum kept). Calls are
interleaved (lime, whylens, whylens-module, reference, ...); medians and
minima of ``--repeats`` (on a shared machine the minimum is the least
disturbed run). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import torch
from lime import lime_image
from whylens.demo._image import efficientnet_lite0, load_photo
from whylens.lime import LimeImageExplainer
from whylens.models import as_model

BATCHES = (4, 8, 10, 16, 32, 64, 128)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(size: int, num_samples: int, repeats: int) -> dict:
    model, names = efficientnet_lite0()
    photo = load_photo("chelsea", size).astype(np.float64)
    tensor = torch.from_numpy(np.ascontiguousarray(np.moveaxis(photo, -1, 0))).float()

    def predict(images):
        x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(np.asarray(images), -1, 1)))
        with torch.inference_mode():
            return torch.softmax(model(x.float()), dim=1).double().numpy()

    rng = np.random.default_rng(0)
    masked = (photo[None] * rng.integers(0, 2, size=(num_samples, 1, 1, 1))).astype(np.float32)
    masked_t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(masked, -1, 1)))

    def direct(batch, n=num_samples):
        with torch.inference_mode():
            for start in range(0, n, batch):
                model(masked_t[start : min(start + batch, n)])

    direct(8, 16)  # warm-up: the first forward pays one-off costs
    probe = {b: min(timed(lambda b=b: direct(b, 64))[0] for _ in range(2)) for b in BATCHES}
    best = min(probe, key=probe.get)

    def run_lime():
        explainer = lime_image.LimeImageExplainer(random_state=0)
        with contextlib.redirect_stderr(io.StringIO()):  # lime's tqdm bar
            return explainer.explain_instance(photo, predict, top_labels=5,
                                              num_samples=num_samples, random_seed=0)

    chunks = {"whylens": [], "whylens_module": []}

    def run_whylens():
        wrapped = as_model(predict)
        exp = LimeImageExplainer(random_state=0).explain_instance(
            photo, wrapped, top_labels=5, num_samples=num_samples, random_seed=0,
            progress=False)
        chunks["whylens"].append(vars(wrapped.last_chunks))
        return exp

    def run_whylens_module():
        wrapped = as_model(model, output="probability")
        exp = LimeImageExplainer(random_state=0).explain_instance(
            tensor, wrapped, top_labels=5, num_samples=num_samples, random_seed=0,
            progress=False)
        chunks["whylens_module"].append(vars(wrapped.last_chunks))
        return exp

    times = {"lime": [], "whylens": [], "whylens_module": [], "reference": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            t, theirs = timed(run_lime)
            times["lime"].append(t)
            t, ours = timed(run_whylens)
            times["whylens"].append(t)
            times["whylens_module"].append(timed(run_whylens_module)[0])
            times["reference"].append(timed(lambda: direct(best))[0])
    top = theirs.top_labels[0]
    ours_top = [f for f, _ in ours.local_exp[top][:5]]
    theirs_top = [f for f, _ in theirs.local_exp[top][:5]]
    same_segments = bool(np.array_equal(ours.segments, theirs.segments))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "machine": {"cpu": platform.processor(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "device": "cpu"},
        "size": size, "num_samples": num_samples, "repeats": repeats,
        "best_batch": best, "probe_s_per_64": probe,
        "whylens_chunks": chunks,
        "seconds": med, "all_seconds": times,
        "min_seconds": {k: min(v) for k, v in times.items()},
        "same_segments": same_segments,
        "top5_overlap": len(set(ours_top) & set(theirs_top)) / 5,
        "top_label": names[top],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="64 px, 100 samples")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.samples = 64, 100
    r = run(args.size, args.samples, args.repeats)
    s = r["seconds"]
    print(f"EfficientNet-Lite0, {r['size']} px, {r['num_samples']} samples, "
          f"{r['machine']['threads']} CPU threads; direct model best batch {r['best_batch']}")
    print(f"  lime_image (batch 10)     {s['lime']:8.2f} s   overhead "
          f"{s['lime'] / s['reference']:.3f}")
    for key in ("whylens", "whylens_module"):
        picked = [c["chunk_size"] for c in r["whylens_chunks"][key]]
        print(f"  {key}: cap {r['whylens_chunks'][key][0]['cap']}, probe chose {picked}")
    print(f"  whylens (same function)   {s['whylens']:8.2f} s   overhead "
          f"{s['whylens'] / s['reference']:.3f}   lime/whylens {s['lime'] / s['whylens']:.2f}")
    print(f"  whylens (torch module)    {s['whylens_module']:8.2f} s   overhead "
          f"{s['whylens_module'] / s['reference']:.3f}   lime/whylens "
          f"{s['lime'] / s['whylens_module']:.2f}")
    print(f"  model direct              {s['reference']:8.2f} s")
    m = r["min_seconds"]
    print(f"  minimum of the repeats: lime {m['lime']:.2f} s, whylens {m['whylens']:.2f} s, "
          f"module {m['whylens_module']:.2f} s, direct {m['reference']:.2f} s; overhead "
          f"{m['whylens'] / m['reference']:.3f} / {m['whylens_module'] / m['reference']:.3f}, "
          f"lime/whylens {m['lime'] / m['whylens']:.2f} / {m['lime'] / m['whylens_module']:.2f}")
    print(f"  same segments: {r['same_segments']}; top-5 superpixel overlap with lime: "
          f"{r['top5_overlap']:.0%} (label {r['top_label']!r})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

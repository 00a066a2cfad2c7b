"""whylens gradient attributions against captum 0.9, side by side in one run, as ratios.

Run from the repository root (the ``bench`` extra; ``--effnet`` needs the ``demo`` extra)::

    .venv/bin/python benchmarks/bench_gradients.py --json benchmarks/results/gradients.json
    .venv/bin/python benchmarks/bench_gradients.py --effnet            # adds EfficientNet-Lite0
    .venv/bin/python benchmarks/bench_gradients.py --quick             # smoke run

Cases (CPU, float32, one explained label):

* ``smallcnn``: conv(3->16) -> ReLU -> conv(16->32, /2) -> ReLU -> conv(32->64, /2) ->
  ReLU -> GAP -> Linear(10), 2 images of 3 x 64 x 64.
* ``textcnn``: seed 002's text network (embedding 50 -> Conv1d k=1|2|3 -> avg pool ->
  BiGRU(10) -> sigmoid) on 8 reviews of 40 token ids; Integrated Gradients of the
  embedding layer (whylens ``LayerIntegratedGradients``, captum's ``LayerIntegratedGradients``).
* ``effnet`` (``--effnet``): EfficientNet-Lite0 with its ImageNet weights, 1 image 224 x 224.
* ``bigig`` (``--bigig``): smallcnn at 224 x 224 (the issue's case), IG with 200 steps:
  whylens with its default 256 MiB budget against captum's default (all 200 steps in
  one batch).

Methods: IG with 50 Gauss-Legendre steps (zero baseline / padding baseline) and
SmoothGrad with 50 samples (stdev 0.15). Each is run as

* ``whylens``: defaults (chunk chosen from the 256 MiB memory budget),
* ``captum``: captum's defaults (all steps / samples in one batch),
* ``captum ibs``: captum with ``internal_batch_size`` (IG) or
  ``nt_samples_batch_size`` (SmoothGrad) equal to whylens' chunk,
* ``reference``: the forward + backward passes the method needs, in plain torch:
  the same rows in chunks of whylens' size, ``autograd.grad`` of the label's sum.
* ``reference+ends`` (IG only): the reference plus one forward, without
  gradients, of the inputs and their baselines. IG needs it for the outputs, the
  target and the convergence ``delta`` (captum runs it too when asked for delta).
* ``reference+noise`` (SmoothGrad only): the reference plus drawing the noise
  (one ``torch.randn``) and adding it to the repeated inputs, inside the call.

The script runs itself with glibc told to keep freed memory
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``;
``--fresh-malloc`` leaves them unset): otherwise every tensor of tens of MB is a fresh
``mmap`` whose pages fault in on every call, for every runner alike, and the
faults' cost varies from call to call by more than the differences measured.

Calls are interleaved (whylens, captum, captum ibs, reference, whylens, ...) so
a noisy neighbour slows all alike; times are medians of ``--repeats``, taken
in calls of their own (memory is measured in two further calls per runner). The
overhead ratios (whylens / reference) are also given as the median of the
per-repeat ratios, in wall time and in CPU time of the calling thread (with one
torch thread every pass runs there), with their quartiles: the steadier figures
on a shared machine. Peak
memory is the largest resident-set growth during the call, sampled every 2 ms
by a thread reading ``/proc/self/statm`` (Linux). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


# ---------------------------------------------------------------- measurement
class PeakRSS:
    """Peak growth of the resident set size during a block (bytes)."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak = 0

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss() - self.start)
            time.sleep(0.002)

    def __enter__(self) -> PeakRSS:
        self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss() - self.start)


def _trim() -> None:
    """Return freed heap memory to the OS, so RSS growth measures this call only."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(fn):
    """Wall seconds and CPU seconds of this thread of one ``fn()`` call.

    With one torch thread every pass runs on the calling thread, so its CPU time
    (``time.thread_time``) counts the work without the time another process held
    the core. Memory is measured in separate calls (:func:`peak_memory`): giving
    freed memory back to the system before a timed call would make every call
    fault its pages in again, tens of milliseconds that vary from call to call.
    """
    import gc

    gc.collect()
    c0 = time.thread_time()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    return seconds, time.thread_time() - c0


def peak_memory(fn) -> int:
    """Largest growth of the resident set (bytes) during one ``fn()`` call."""
    import gc

    gc.collect()
    _trim()
    with PeakRSS() as mem:
        fn()
    return mem.peak


def paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Median and quartiles of the per-repeat ratios ``a[r] / b[r]``.

    Repeat r of each runner ran back to back, so a slow spell of the machine
    slows both sides of one ratio: steadier than the ratio of two medians.
    """
    ratios = sorted(x / y for x, y in zip(a, b, strict=True))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return statistics.median(ratios), q[0], q[2]


# ---------------------------------------------------------------- models
def small_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, stride=2), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    ).eval()


def text_cnn():
    import torch
    from whylens.demo._torch_text import review_net

    torch.manual_seed(0)
    return review_net(5000, embedding_dim=50, gru_dim=10).eval()


def effnet():
    from whylens.demo._image import efficientnet_lite0

    return efficientnet_lite0()[0]


# ---------------------------------------------------------------- runners
def reference_grads(model, rows, target, chunk, layer=None, inputs=None):
    """Plain torch: forward + backward of ``rows`` in chunks (the work IG/SmoothGrad needs)."""
    import torch

    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for s in range(0, rows.shape[0], chunk):
            if layer is None:
                leaf = rows[s : s + chunk].clone().requires_grad_(True)
                out = model(leaf)
            else:
                part = rows[s : s + chunk]
                leaf = part.clone().requires_grad_(True)
                handle = layer.register_forward_hook(lambda m, i, o, leaf=leaf: leaf)
                try:
                    out = model(inputs[s : s + chunk])
                finally:
                    handle.remove()
            torch.autograd.grad(out[:, target].sum(), leaf)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)


def forward_ends(model, ends):
    """One forward without gradients of the path's ends (inputs and baselines)."""
    import torch

    with torch.no_grad():
        model(ends)


def case_runs(name, model, x, target, steps, samples, quick):
    """Callables per (method, runner) for one case."""
    from captum.attr import IntegratedGradients as CIG
    from captum.attr import LayerIntegratedGradients as CLIG
    from captum.attr import NoiseTunnel as CNT
    from captum.attr import Saliency as CSal

    import torch
    import whylens.torch as wt

    runs = {}
    n = x.shape[0]
    if name == "textcnn":
        base = torch.zeros_like(x)
        ours = wt.LayerIntegratedGradients(model, "embedding", n_steps=steps)
        chunk = ours(x[:1], target=target).params["batch_size"]
        with torch.no_grad():
            emb_x, emb_b = model.embedding(x), model.embedding(base)
        alphas, _ = wt.path_weights(steps)
        a = torch.as_tensor(alphas, dtype=emb_x.dtype)
        rows = (emb_b[:, None] + a[None, :, None, None] * (emb_x - emb_b)[:, None]).flatten(0, 1)
        inputs = x.repeat_interleave(steps, dim=0)
        runs[f"IG {steps} steps (embedding)"] = {
            "whylens": lambda: ours(x, target=target, baselines=base),
            "captum": lambda: CLIG(model, model.embedding).attribute(
                x, baselines=base, target=target, n_steps=steps),
            "captum ibs": lambda: CLIG(model, model.embedding).attribute(
                x, baselines=base, target=target, n_steps=steps, internal_batch_size=chunk),
            "reference": lambda: reference_grads(model, rows, target, chunk,
                                                 layer=model.embedding, inputs=inputs),
            "reference+ends": lambda: (
                forward_ends(model, torch.cat([x, base])),
                reference_grads(model, rows, target, chunk, layer=model.embedding,
                                inputs=inputs)),
            "_chunk": chunk, "_rows": n * steps,
        }
        return runs
    ig = wt.IntegratedGradients(model, n_steps=steps)
    chunk = ig(x[:1], target=target).params["batch_size"]
    alphas, _ = wt.path_weights(steps)
    a = torch.as_tensor(alphas, dtype=x.dtype)
    rows = (a[None, :, None, None, None] * x[:, None]).flatten(0, 1)
    runs[f"IG {steps} steps"] = {
        "whylens": lambda: ig(x, target=target),
        "captum": lambda: CIG(model).attribute(x, target=target, n_steps=steps),
        "captum ibs": lambda: CIG(model).attribute(x, target=target, n_steps=steps,
                                                   internal_batch_size=chunk),
        "reference": lambda: reference_grads(model, rows, target, chunk),
        "reference+ends": lambda: (forward_ends(model, torch.cat([x, torch.zeros_like(x)])),
                                   reference_grads(model, rows, target, chunk)),
        "_chunk": chunk, "_rows": n * steps,
    }
    if name == "bigig":
        return runs
    sg = wt.SmoothGrad(model, nt_samples=samples, stdevs=0.15, random_state=0)
    sg_chunk = sg(x[:1], target=target).params["batch_size"]
    noisy = x.repeat_interleave(samples, dim=0) + 0.15 * torch.randn(
        (n * samples, *x.shape[1:]), generator=torch.Generator().manual_seed(0))
    runs[f"SmoothGrad {samples} samples"] = {
        "whylens": lambda: sg(x, target=target),
        "captum": lambda: CNT(CSal(model)).attribute(
            x, nt_type="smoothgrad", nt_samples=samples, stdevs=0.15, target=target,
            abs=False),
        "captum ibs": lambda: CNT(CSal(model)).attribute(
            x, nt_type="smoothgrad", nt_samples=samples, stdevs=0.15, target=target,
            abs=False, nt_samples_batch_size=max(sg_chunk // n, 1)),
        "reference": lambda: reference_grads(model, noisy, target, sg_chunk),
        "reference+noise": lambda: reference_grads(
            model, x.repeat_interleave(samples, dim=0).add_(torch.randn(
                (n * samples, *x.shape[1:]), generator=torch.Generator().manual_seed(0)),
                alpha=0.15), target, sg_chunk),
        "_chunk": sg_chunk, "_rows": n * samples,
    }
    return runs


def save(path: str, row: dict, torch_version: str, captum_version: str, threads: int) -> None:
    """Add or replace ``row`` (by case and method) in the JSON file at ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(p.read_text()) if p.exists() else {"results": []}
    data.update({"torch": torch_version, "captum": captum_version, "threads": threads})
    data["results"] = [r for r in data["results"]
                       if (r["case"], r["method"]) != (row["case"], row["method"])] + [row]
    p.write_text(json.dumps(data, indent=2))


#: glibc settings that keep freed memory for reuse (see the module docstring).
STEADY_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(2**32), "MALLOC_TRIM_THRESHOLD_": str(2**34),
                 "MALLOC_TOP_PAD_": str(2**29)}


def main() -> None:
    if "--fresh-malloc" not in sys.argv and any(k not in os.environ for k in STEADY_MALLOC):
        # glibc reads these at start-up: run again with them set
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **STEADY_MALLOC})
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh-malloc", action="store_true",
                        help="do not set the glibc MALLOC_* variables (every large tensor "
                             "then faults its pages in on every call)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--effnet", action="store_true")
    parser.add_argument("--bigig", action="store_true")
    parser.add_argument("--only", default=None, help="run one case: smallcnn, textcnn, ...")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import captum

    import torch

    torch.set_num_threads(args.threads)
    steps, samples, repeats = args.steps, args.samples, args.repeats
    if args.quick:
        steps, samples, repeats = 8, 8, 1
    gen = torch.Generator().manual_seed(0)
    cases = {
        "smallcnn": (small_cnn, lambda: torch.rand(2, 3, 64, 64, generator=gen), 3, steps),
        "textcnn": (text_cnn, lambda: torch.randint(2, 5000, (8, 40), generator=gen), 0, steps),
    }
    if args.effnet:
        cases["effnet"] = (effnet, lambda: torch.rand(1, 3, 224, 224, generator=gen), 281, steps)
    if args.bigig:
        cases["bigig"] = (small_cnn, lambda: torch.rand(1, 3, 224, 224, generator=gen), 3,
                          200 if not args.quick else 20)
    if args.only:
        cases = {args.only: cases[args.only]}

    results = []
    print(f"torch {torch.__version__}, captum {captum.__version__}, {args.threads} threads, "
          f"{platform.processor() or platform.machine()}, "
          f"{'fresh' if args.fresh_malloc else 'steady'} malloc")
    for name, (make_model, make_x, target, n_steps) in cases.items():
        model, x = make_model(), make_x()
        runs = case_runs(name, model, x, target, n_steps, samples, args.quick)
        for method, fns in runs.items():
            names = [k for k in fns if not k.startswith("_")]
            times = {k: [] for k in names}
            cpus = {k: [] for k in names}
            peaks = {k: [] for k in names}
            for k in names:  # warm-up of every runner
                fns[k]()
            for r in range(repeats):
                # Alternate the order so neither side of a pair always runs first.
                for k in (names if r % 2 == 0 else names[::-1]):
                    s, cpu = measure(fns[k])
                    times[k].append(s)
                    cpus[k].append(cpu)
            for _ in range(min(repeats, 2)):
                for k in names:
                    peaks[k].append(peak_memory(fns[k]))
            med = {k: statistics.median(v) for k, v in times.items()}
            med_cpu = {k: statistics.median(v) for k, v in cpus.items()}
            mem = {k: max(v) for k, v in peaks.items()}
            row = {
                "case": name, "method": method, "rows": fns["_rows"], "chunk": fns["_chunk"],
                "repeats": repeats, "seconds": med, "cpu_seconds": med_cpu,
                "peak_mib": {k: v / 2**20 for k, v in mem.items()},
                "captum/whylens": med["captum"] / med["whylens"],
                "captum ibs/whylens": med["captum ibs"] / med["whylens"],
                "captum/reference": med["captum"] / med["reference"],
            }
            refs = [k for k in ("reference", "reference+ends", "reference+noise") if k in names]
            for ref in refs:
                row[f"whylens/{ref}"] = med["whylens"] / med[ref]
                row[f"whylens/{ref} paired wall"] = paired(times["whylens"], times[ref])
                row[f"whylens/{ref} paired cpu"] = paired(cpus["whylens"], cpus[ref])
            results.append(row)
            if args.json:  # rows of earlier runs (other --only cases) are kept
                save(args.json, row, torch.__version__, captum.__version__, args.threads)
            print(f"{name:9s} {method:28s} rows {row['rows']:5d} chunk {row['chunk']:5d} | "
                  + " ".join(f"{k} {med[k] * 1e3:8.1f} ms/{mem[k] / 2**20:6.1f} MiB"
                             for k in names)
                  + f" | captum/whylens {row['captum/whylens']:.2f}")
            for ref in refs:
                pw, pc = row[f"whylens/{ref} paired wall"], row[f"whylens/{ref} paired cpu"]
                print(f"{'':9s} whylens/{ref:15s} medians {row[f'whylens/{ref}']:.3f} | "
                      f"paired wall {pw[0]:.3f} ({pw[1]:.3f}-{pw[2]:.3f}) | "
                      f"paired cpu {pc[0]:.3f} ({pc[1]:.3f}-{pc[2]:.3f}) | "
                      f"cpu ms whylens {med_cpu['whylens'] * 1e3:.1f} {ref} "
                      f"{med_cpu[ref] * 1e3:.1f}")


if __name__ == "__main__":
    main()

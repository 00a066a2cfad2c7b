"""The workbench's latency as a person sees it: measured in the browser (Playwright, Chromium).

Run from the repository root (the ``app`` and ``demo`` extras, the ``playwright`` package and a
Chromium at ``/usr/bin/chromium`` or ``--chromium``)::

    .venv/bin/python benchmarks/bench_workbench.py                # 20 clicks per mode
    .venv/bin/python benchmarks/bench_workbench.py --clicks 8 --json benchmarks/results/wb.json

Model: the embedded EfficientNet-Lite0 at 224 x 224 on the CPU, scikit-image's ``chelsea``,
served by ``whylens serve --no-browser --port P`` in a subprocess (as a person starts it).

What is timed (in the page, ``performance.now()``, from the click to the picture):

* ``serve -> first page``: from spawning ``whylens serve`` to the first 200 of ``GET /``
  (the embedded models load before the server listens), then to both default panels showing
  their pictures in the browser.
* ``feature maps`` / ``Grad-CAM of a clicked layer``: a click on a layer box until the panel's
  new picture has loaded (``img.onload``); every click a different layer (no cache hit), over
  ``--clicks`` spatial layers spread through the network; warm (a few clicks first).
* ``cached view``: clicking back on a layer seen before (the result comes from the cache).
* ``view parameter``: moving the Grad-CAM overlay opacity (the explanation is cached, the
  picture redrawn).
* ``first LIME progress``: from the Run click until the panel shows a progress event with
  ``done > 0`` (1,000 samples, a new seed each time, then cancelled).

Nothing here asserts a time; the issue's targets are printed beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

CLICK_JS = """
async ([name, index]) => {
  const panel = document.querySelector(`[data-testid=panel-${index}]`);
  const box = document.querySelector(`[data-testid="layer-${name}"]`);
  if (!box) throw new Error("no layer box " + name);
  // make this panel the active one (the one a click on the diagram sets)
  panel.dispatchEvent(new MouseEvent("mousedown", {bubbles: true}));
  const t0 = performance.now();
  const done = new Promise((resolve, reject) => {
    const check = () => {
      if (panel.dataset.state === "done" && panel.dataset.layer === name) {
        observer.disconnect(); resolve(performance.now() - t0);
      } else if (panel.dataset.state === "error") {
        observer.disconnect(); reject(new Error(panel.innerText));
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(panel, {attributes: true});
    setTimeout(() => reject(new Error("timeout on " + name)), 120000);
  });
  box.click();
  return await done;
}
"""

VIEW_JS = """
async ([index, value]) => {
  const panel = document.querySelector(`[data-testid=panel-${index}]`);
  const input = panel.querySelector("[data-testid=param-alpha]");
  const job = panel.dataset.job;
  const t0 = performance.now();
  const done = new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => {
      if (panel.dataset.state === "done" && panel.dataset.job !== job) {
        observer.disconnect(); resolve(performance.now() - t0);
      }
    });
    observer.observe(panel, {attributes: true});
    setTimeout(() => reject(new Error("timeout")), 60000);
  });
  input.value = String(value);
  input.dispatchEvent(new Event("change", {bubbles: true}));
  return await done;
}
"""

LIME_JS = """
async ([index]) => {
  const panel = document.querySelector(`[data-testid=panel-${index}]`);
  const progress = panel.querySelector("[data-testid=progress]");
  const run = panel.querySelector("[data-testid=run]");
  const t0 = performance.now();
  let first = null;
  const done = new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => {
      const now = performance.now() - t0;
      if (first === null && !progress.hidden && progress.dataset.state) first = now;
      if (Number(progress.dataset.done) > 0) {
        observer.disconnect(); resolve([first, performance.now() - t0]);
      } else if (panel.dataset.state === "error") {
        observer.disconnect(); reject(new Error(panel.innerText));
      }
    });
    observer.observe(progress, {attributes: true});
    observer.observe(panel, {attributes: true});
    setTimeout(() => reject(new Error("timeout")), 120000);
  });
  run.click();
  return await done;
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int) -> tuple[subprocess.Popen, float]:
    exe = ROOT / ".venv" / "bin" / "whylens"
    if exe.exists():
        cmd = [str(exe), "serve", "--no-browser", "--port", str(port)]
    else:  # before the CLI command existed
        cmd = [sys.executable, "-c", "from whylens.app import serve; "
               f"serve(port={port}, open_browser=False)"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    while True:
        if proc.poll() is not None:
            raise RuntimeError("whylens serve exited: " + proc.stderr.read().decode()[-2000:])
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return proc, time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
        if time.perf_counter() - start > 300:
            proc.kill()
            raise RuntimeError("whylens serve did not answer in 300 s")


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=20, help="layers clicked per mode")
    parser.add_argument("--lime-runs", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    port = _free_port()
    t_spawn = time.perf_counter()
    proc, first_200 = _serve(port)
    rows: dict[str, list[float]] = {}
    try:
        info = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/models/lite0", timeout=30).read())
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/#model=lite0")
            page.wait_for_function(
                "() => [0, 1].every(i => document.querySelector(`[data-testid=panel-${i}]`)"
                "?.dataset.state === 'done')", timeout=300_000)
            first_pictures = time.perf_counter() - t_spawn

            spatial = [x["name"] for x in sorted(info["layers"], key=lambda x: x["order"])
                       if x["spatial"] and x["order"] >= 0 and not x["name"].endswith("padding")]
            n = args.clicks
            step = max(1, len(spatial) // (2 * n + 4))
            pool = spatial[::step]
            warm, fm_layers, cam_layers = pool[:4], pool[4::2][:n], pool[5::2][:n]
            for name in warm:  # warm-up: both modes, not timed
                page.evaluate(CLICK_JS, [name, 0])
                page.evaluate(CLICK_JS, [name, 1])
            rows["feature maps of a clicked layer"] = [
                page.evaluate(CLICK_JS, [name, 0]) / 1000 for name in fm_layers]
            rows["Grad-CAM of a clicked layer"] = [
                page.evaluate(CLICK_JS, [name, 1]) / 1000 for name in cam_layers]
            back = fm_layers[: max(3, n // 2)]
            cached = []
            for a, b in zip(back[1:], back[:-1], strict=True):
                page.evaluate(CLICK_JS, [a, 0])  # cached too; only the second click is timed
                cached.append(page.evaluate(CLICK_JS, [b, 0]) / 1000)
            rows["cached view (a layer seen before)"] = cached
            rows["view parameter (Grad-CAM opacity)"] = [
                page.evaluate(VIEW_JS, [1, v]) / 1000 for v in (0.3, 0.7, 0.4, 0.8, 0.2, 0.9)]

            page.get_by_test_id("panel-1").get_by_test_id("mode-select").select_option("lime")
            num = page.get_by_test_id("panel-1").get_by_test_id("param-num_samples")
            num.fill("1000")
            num.press("Tab")
            seed = page.get_by_test_id("panel-1").get_by_test_id("param-random_state")
            first_event, first_progress = [], []
            for k in range(args.lime_runs):
                seed.fill(str(100 + k))
                seed.press("Tab")
                a, b = page.evaluate(LIME_JS, [1])
                first_event.append(a / 1000)
                first_progress.append(b / 1000)
                page.get_by_test_id("panel-1").get_by_test_id("cancel").click()
                page.wait_for_function(
                    "() => document.querySelector('[data-testid=panel-1]').dataset.state"
                    " === 'cancelled'", timeout=120_000)
            rows["first LIME event (queued/running)"] = first_event
            rows["first LIME progress (done > 0)"] = first_progress
            browser.close()
            if errors:
                print("page errors:", errors, file=sys.stderr)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    targets = {"feature maps of a clicked layer": "p50 <= 0.5, p95 <= 1",
               "Grad-CAM of a clicked layer": "p50 <= 0.5, p95 <= 1",
               "cached view (a layer seen before)": "<= 0.1",
               "first LIME progress (done > 0)": "<= 0.5"}
    print(f"whylens workbench, EfficientNet-Lite0 224x224, CPU ({platform.processor() or '?'}, "
          f"{os.cpu_count()} cores), Chromium headless; seconds")
    print(f"{'':38s} {'n':>3s} {'p50':>7s} {'p95':>7s} {'max':>7s}  target")
    out = {"serve_first_200_s": round(first_200, 3),
           "serve_first_pictures_s": round(first_pictures, 3), "rows": {}}
    print(f"{'whylens serve -> GET / answers':38s} {1:3d} {first_200:7.3f} {'':>7s} {'':>7s}"
          "  <= 10")
    print(f"{'whylens serve -> both panels drawn':38s} {1:3d} {first_pictures:7.3f}")
    for name, values in rows.items():
        p50, p95 = statistics.median(values), _pct(values, 0.95)
        print(f"{name:38s} {len(values):3d} {p50:7.3f} {p95:7.3f} {max(values):7.3f}  "
              f"{targets.get(name, '')}")
        out["rows"][name] = {"n": len(values), "p50": round(p50, 4), "p95": round(p95, 4),
                             "max": round(max(values), 4)}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Load test of a real workbench server on 127.0.0.1 (kept out of the default run).

Run it with ``pytest -m load tests/app/test_load.py``; ``scripts/test.sh`` (CI)
runs it after the main suite. ``WHYLENS_LOAD_REQUESTS`` sets the number of
concurrent requests (default 200).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from tests.app.test_api import _vision  # noqa: E402
from whylens.app import create_app  # noqa: E402

pytestmark = pytest.mark.load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def server():
    import uvicorn

    model = _vision(delay=0.002)
    app = create_app({"cnn": model}, max_queue=16, cache_bytes=32 << 20)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", model
    srv.should_exit = True
    thread.join(timeout=10)


async def _burst(base: str, image: str, n: int) -> list[int]:
    layers = ["features.0", "features.1", "features.2", "features.3"]
    modes = ["gradcam", "layercam", "feature_maps", "predict", "page"]
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        async def one(k: int) -> int:
            mode = modes[k % len(modes)]
            if mode == "page":
                return (await client.get("/")).status_code
            body = {"image": image, "mode": mode, "layer": layers[k % 4], "target": k % 4,
                    "wait": 10}
            return (await client.post("/api/models/cnn/explain", json=body)).status_code

        return list(await asyncio.gather(*(one(k) for k in range(n))))


def test_concurrent_requests_no_5xx_but_503_and_flat_memory(server):
    base, model = server
    image = model.bundled[0].digest
    n = int(os.environ.get("WHYLENS_LOAD_REQUESTS", "200"))
    codes = asyncio.run(_burst(base, image, n))
    assert set(codes) <= {200, 503}, sorted(set(codes))
    assert codes.count(200) >= n // 5
    gc.collect()
    before = _rss_bytes()
    for _ in range(3):
        codes = asyncio.run(_burst(base, image, n))
        assert set(codes) <= {200, 503}
    gc.collect()
    growth = _rss_bytes() - before
    assert growth < 64 << 20, f"memory grew by {growth / 2**20:.1f} MiB over three bursts"

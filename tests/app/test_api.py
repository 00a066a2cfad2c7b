"""The workbench's vision API (FastAPI's TestClient): known answers and the bad-input table."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from whylens import Explanation  # noqa: E402
from whylens.app import VisionModel, create_app  # noqa: E402

SIZE = 32


class SmallCNN(torch.nn.Module):
    """Two conv blocks and a linear head; counts its forward rows; can sleep per call."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(6, 8, 3, padding=1), torch.nn.ReLU(),
        )
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.head = torch.nn.Linear(8, 4)
        self.delay = delay
        self.rows = 0

    def forward(self, x):
        self.rows += int(x.shape[0])
        if self.delay:
            time.sleep(self.delay)
        return self.head(self.pool(self.features(x)).flatten(1))


def _photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((SIZE, SIZE, 3), np.float32)
    img[8:24, 8:24] = rng.uniform(0.4, 1.0, size=3)
    return img + rng.uniform(0, 0.1, size=img.shape).astype(np.float32)


def _vision(delay: float = 0.0) -> VisionModel:
    return VisionModel(SmallCNN(delay), labels=["a", "b", "c", "d"],
                       images={"square": _photo(0), "other": _photo(1)}, size=SIZE,
                       title="small")


@pytest.fixture(scope="module")
def client():
    app = create_app({"cnn": _vision()})
    with TestClient(app) as c:
        yield c


def _image_id(client, name="square"):
    info = client.get("/api/models/cnn").json()
    return next(i["id"] for i in info["images"] if i["name"] == name)


def _explain(client, model="cnn", **body):
    body.setdefault("wait", 20)
    return client.post(f"/api/models/{model}/explain", json=body)


def _png_bytes(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


# ---------------------------------------------------------------------- known answers
def test_layer_list_equals_library_layers(client):
    from whylens.torch import default_layer, layers

    model = client.app.state.models["cnn"]
    example = torch.zeros((1, 3, SIZE, SIZE))
    expected = layers(model.module, example)
    info = client.get("/api/models/cnn").json()
    assert [(d["name"], d["kind"], d["shape"], d["spatial"]) for d in info["layers"]] == [
        (i.name, i.kind, list(i.output_shape) if i.output_shape else None, i.spatial)
        for i in expected]
    assert info["default_layer"] == default_layer(model.module, example) == "features.3"


def test_gradcam_endpoint_equals_library_call(client):
    from whylens.torch import GradCAM

    image = _image_id(client)
    r = _explain(client, image=image, mode="gradcam", layer="features.2", target=2)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    exp = Explanation.from_json(client.get(result["json"]).content)
    model = client.app.state.models["cnn"]
    x = model.tensor(model.images.get(image).pixels)
    direct = GradCAM(model.module, "features.2")(x, target=2)
    np.testing.assert_array_equal(exp.values, direct.values)
    assert result["target"] == 2 and result["target_label"] == "c"
    assert client.get(result["png"]).headers["content-type"] == "image/png"


def test_predict_gives_the_model_probabilities(client):
    image = _image_id(client)
    classes = _explain(client, image=image, mode="predict").json()["result"]["classes"]
    model = client.app.state.models["cnn"]
    with torch.no_grad():
        p = torch.softmax(model.module(model.tensor(model.images.get(image).pixels)), 1)[0]
    assert [c["index"] for c in classes] == torch.argsort(p, descending=True).tolist()
    np.testing.assert_allclose([c["p"] for c in classes], np.sort(p.numpy())[::-1], rtol=1e-6)


def test_cached_request_same_bytes_without_model_call(client):
    image = _image_id(client)
    body = {"image": image, "mode": "layercam", "layer": "features.0", "target": 1}
    first = _explain(client, **body).json()["result"]
    model = client.app.state.models["cnn"].module
    rows = model.rows
    second = _explain(client, **body).json()["result"]
    assert model.rows == rows  # no forward
    assert client.get(first["png"]).content == client.get(second["png"]).content
    # A view parameter re-draws from the cached explanation, still without the model.
    third = _explain(client, **body, params={"alpha": 0.9}).json()["result"]
    assert model.rows == rows
    assert client.get(third["png"]).content != client.get(first["png"]).content


def test_feature_maps_pages_and_ranking(client):
    from whylens.torch import feature_maps

    image = _image_id(client)
    r = _explain(client, image=image, mode="feature_maps", layer="features.1",
                 params={"per_page": 16, "page": 0}).json()["result"]
    model = client.app.state.models["cnn"]
    x = model.tensor(model.images.get(image).pixels)
    direct = feature_maps(model.module, x, "features.1")
    assert r["channels"] == direct.labels.tolist()[:16]
    assert r["n_channels"] == 6 and r["pages"] == 1
    by_index = _explain(client, image=image, mode="feature_maps", layer="features.1",
                        params={"order": "index"}).json()["result"]
    assert by_index["channels"] == list(range(6))


@pytest.mark.parametrize("mode,params", [
    ("gradcam++", {}), ("hirescam", {}), ("eigencam", {}), ("scorecam", {}),
    ("ablationcam", {}), ("layer_gradient_shap", {"n_samples": 4}),
    ("integrated_gradients", {"n_steps": 8}), ("smoothgrad", {"nt_samples": 4}),
    ("lime", {"num_samples": 40, "segmentation": "slic"}),
    ("filter_patterns", {"count": 2, "steps": 3, "size": 16}),
])
def test_every_mode_draws_a_picture(client, mode, params):
    from PIL import Image

    r = _explain(client, image=_image_id(client), mode=mode, layer="features.2", target=0,
                 params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job"]["state"] == "done"
    png = client.get(body["result"]["png"]).content
    assert Image.open(io.BytesIO(png)).size[0] > 0
    report = client.get(body["result"]["html"])
    assert report.status_code == 200 and "<img" in report.text
    assert Explanation.from_json(client.get(body["result"]["json"]).content) is not None


def test_upload_round_trip(client):
    pixels = (np.random.default_rng(3).uniform(0, 1, (40, 50, 3)) * 255).astype(np.uint8)
    r = client.post("/api/models/cnn/images", content=_png_bytes(pixels))
    assert r.status_code == 200, r.text
    image = r.json()["id"]
    got = client.get(f"/api/models/cnn/images/{image}.png")
    assert got.status_code == 200 and got.content[:4] == b"\x89PNG"
    assert _explain(client, image=image, mode="gradcam").json()["job"]["state"] == "done"


def test_progress_events_stream_until_the_end(client):
    body = {"image": _image_id(client), "mode": "lime", "target": 0, "wait": 0,
            "params": {"num_samples": 300, "random_state": 7, "segmentation": "slic"}}
    job = client.post("/api/models/cnn/explain", json=body).json()["job"]
    states = []
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                import json

                states.append(json.loads(line[6:]))
    assert states[-1]["job"]["state"] == "done"
    assert states[-1]["result"]["png"]
    assert any(0 < s["job"]["done"] < s["job"]["total"] for s in states) or len(states) >= 1


# ---------------------------------------------------------------------- cancellation, queue
def test_cancel_stops_lime_between_chunks():
    model = _vision(delay=0.05)
    app = create_app({"slow": model})
    with TestClient(app) as c:
        image = model.bundled[0].digest
        r = c.post("/api/models/slow/explain", json={
            "image": image, "mode": "lime", "target": 0,
            "params": {"num_samples": 10_000, "segmentation": "slic"}})
        job = r.json()["job"]
        deadline = time.monotonic() + 20
        while c.get(f"/api/jobs/{job['id']}").json()["job"]["done"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        c.post(f"/api/jobs/{job['id']}/cancel")
        pool = app.state.pool
        assert pool.get(job["id"]).wait(20)
        state = c.get(f"/api/jobs/{job['id']}").json()["job"]
        assert state["state"] == "cancelled"
        assert state["done"] < state["total"]
        rows = model.module.rows
        time.sleep(0.3)
        assert model.module.rows == rows  # nothing runs after the cancel
        # The cancelled job keeps neither a result nor the closure (and the arrays it held).
        from whylens.app._jobs import _spent

        assert pool.get(job["id"]).result is None and pool.get(job["id"]).fn is _spent
        # The worker serves the next request.
        again = c.post("/api/models/slow/explain", json={"image": image, "mode": "gradcam",
                                                         "wait": 20})
        assert again.json()["job"]["state"] == "done"


def test_full_queue_answers_503_with_retry_after():
    model = _vision(delay=0.2)
    app = create_app({"slow": model}, max_queue=1)
    with TestClient(app) as c:
        image = model.bundled[0].digest

        def post(k):
            return c.post("/api/models/slow/explain", json={
                "image": image, "mode": "lime", "target": 0,
                "params": {"num_samples": 200, "random_state": k, "segmentation": "slic"}})

        first = post(0)
        deadline = time.monotonic() + 20
        while c.get(f"/api/jobs/{first.json()['job']['id']}").json()["job"]["state"] \
                == "queued":  # the worker has taken it: the queue is empty again
            assert time.monotonic() < deadline
            time.sleep(0.01)
        answers = [first] + [post(k) for k in range(1, 4)]
        codes = [a.status_code for a in answers]
        assert codes == [200, 200, 503, 503]
        full = next(a for a in answers if a.status_code == 503)
        assert int(full.headers["retry-after"]) >= 1
        assert "queue" in full.json()["error"]
        for a in answers:
            if a.status_code == 200:
                c.post(f"/api/jobs/{a.json()['job']['id']}/cancel")


def test_timeout_stops_a_long_job():
    model = _vision(delay=0.05)
    app = create_app({"slow": model}, timeout=0.3)
    with TestClient(app) as c:
        r = c.post("/api/models/slow/explain", json={
            "image": model.bundled[0].digest, "mode": "lime", "target": 0, "wait": 20,
            "params": {"num_samples": 10_000, "segmentation": "slic"}})
        job = r.json()["job"]
        assert job["state"] == "cancelled"
        assert "time limit" in job["error"]


def test_same_request_twice_joins_one_job():
    model = _vision(delay=0.05)
    app = create_app({"slow": model})
    with TestClient(app) as c:
        body = {"image": model.bundled[0].digest, "mode": "lime", "target": 1,
                "params": {"num_samples": 300, "segmentation": "slic"}}
        a = c.post("/api/models/slow/explain", json=body).json()["job"]
        b = c.post("/api/models/slow/explain", json=body).json()["job"]
        assert a["id"] == b["id"]
        c.post(f"/api/jobs/{a['id']}/cancel")


def test_two_models_run_in_parallel():
    slow, fast = _vision(delay=0.3), _vision()
    app = create_app({"slow": slow, "fast": fast})
    with TestClient(app) as c:
        c.post("/api/models/slow/explain", json={
            "image": slow.bundled[0].digest, "mode": "lime", "target": 0,
            "params": {"num_samples": 2000, "segmentation": "slic"}})
        start = time.monotonic()
        r = c.post("/api/models/fast/explain", json={
            "image": fast.bundled[0].digest, "mode": "gradcam", "wait": 20})
        assert r.json()["job"]["state"] == "done"
        assert time.monotonic() - start < 5  # not behind the slow model's queue


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("body,fragment", [
    ({"mode": "gradcam", "image": None}, "image"),
    ({"mode": "gradcam", "image": "../../etc/passwd"}, "image"),
    ({"mode": "nope"}, "mode"),
    ({"mode": "gradcam", "layer": "no.such.layer"}, "layer"),
    ({"mode": "gradcam", "layer": 3}, "layer"),
    ({"mode": "gradcam", "target": 4}, "target"),
    ({"mode": "gradcam", "target": -1}, "target"),
    ({"mode": "gradcam", "target": "a"}, "target"),
    ({"mode": "lime", "params": {"num_samples": 10**9}}, "num_samples"),
    ({"mode": "lime", "params": {"num_samples": 1.5}}, "num_samples"),
    ({"mode": "lime", "params": {"segmentation": "../../etc"}}, "segmentation"),
    ({"mode": "lime", "params": {"unknown": 1}}, "params"),
    ({"mode": "lime", "params": [1, 2]}, "params"),
    ({"mode": "smoothgrad", "params": {"stdevs": float("nan")}}, "stdevs"),
    ({"mode": "gradcam", "wait": 1e9}, "wait"),
])
def test_bad_explain_requests_are_400_naming_the_field(client, body, fragment):
    import json

    body = {"image": _image_id(client), **body}
    r = client.post("/api/models/cnn/explain", content=json.dumps(body, allow_nan=True))
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]


def test_unknown_model_job_and_static_file_are_404(client):
    assert client.get("/api/models/nope").status_code == 404
    assert client.post("/api/models/nope/explain", json={}).status_code == 404
    assert client.get("/api/jobs/j999999").status_code == 404
    assert client.get("/api/jobs/j999999/result.png").status_code == 404
    assert client.get("/api/models/cnn/images/0123456789abcdef.png").status_code == 404
    for path in ("/static/../_server.py", "/static/..%2F_server.py", "/static/%2Fetc%2Fpasswd",
                 "/static/nope.js", "/static//etc/passwd"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"import" not in r.content and b"root:" not in r.content


@pytest.mark.parametrize("content", [b"{bad json", b"[1, 2]", b"\"text\"", b"[" * 100_000,
                                     b"\xff\xfe"])
def test_malformed_bodies_are_400(client, content):
    r = client.post("/api/models/cnn/explain", content=content)
    assert r.status_code == 400
    assert "body" in r.json()["error"]


def test_bad_uploads_are_refused_with_a_message():
    from PIL import Image

    model = _vision()
    app = create_app({"cnn": model}, max_upload_bytes=200_000, max_upload_pixels=1_000_000)
    with TestClient(app) as c:
        def up(data):
            return c.post("/api/models/cnn/images", content=data)

        text = up(b"this is a text file renamed .png\n" * 10)
        assert text.status_code == 400 and "image" in text.json()["error"]
        assert up(b"").status_code == 400
        big = up(b"\x89PNG" + b"0" * 300_000)
        assert big.status_code == 400 and "bytes" in big.json()["error"]
        # A decompression bomb: a small file that declares 4000 x 4000 pixels.
        buf = io.BytesIO()
        Image.new("L", (4000, 4000)).save(buf, format="PNG", optimize=True)
        assert len(buf.getvalue()) < 200_000
        bomb = up(buf.getvalue())
        assert bomb.status_code == 400 and "pixels" in bomb.json()["error"]
        noise = (np.random.default_rng(0).uniform(0, 255, (64, 64, 3))).astype(np.uint8)
        whole = _png_bytes(noise)
        truncated = up(whole[: len(whole) // 2])
        assert truncated.status_code == 400
        tiff = io.BytesIO()
        Image.new("RGB", (8, 8)).save(tiff, format="TIFF")
        assert up(tiff.getvalue()).status_code == 400
        # Still serving.
        ok = up(_png_bytes(np.zeros((20, 20, 3), np.uint8)))
        assert ok.status_code == 200


def test_user_model_left_as_it_was(client):
    model = client.app.state.models["cnn"].module
    model.train()
    flags = [m.training for m in model.modules()]
    grads = [p.requires_grad for p in model.parameters()]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for mode in ("gradcam", "integrated_gradients", "feature_maps", "lime"):
        _explain(client, image=_image_id(client, "other"), mode=mode, layer="features.2",
                 target=3, params={"num_samples": 20} if mode == "lime" else None)
    assert [m.training for m in model.modules()] == flags
    assert [p.requires_grad for p in model.parameters()] == grads
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    model.eval()


def test_threads_hammering_one_model_get_sequential_answers(client):
    image = _image_id(client)
    want = _explain(client, image=image, mode="gradcam", layer="features.0", target=0).json()
    want_png = client.get(want["result"]["png"]).content
    pngs, errors = [], []

    def hit(k):
        try:
            r = _explain(client, image=image, mode="gradcam", layer="features.0", target=0)
            pngs.append(client.get(r.json()["result"]["png"]).content)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hit, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert pngs == [want_png] * 8


def test_old_jobs_find_their_results_in_the_cache(client):
    image = _image_id(client)
    first = _explain(client, image=image, mode="gradcam", layer="features.1", target=3).json()
    png = client.get(first["result"]["png"]).content
    pool = client.app.state.pool
    for k in range(pool.keep_results + 4):  # newer jobs: the first no longer holds its result
        _explain(client, image=image, mode="layercam", layer="features.1", target=k % 4,
                 params={"alpha": 0.2 + 0.03 * k})
    assert pool.get(first["job"]["id"]).result is None
    assert client.get(first["result"]["png"]).content == png


def test_two_models_on_one_image_do_not_share_results():
    from whylens.torch import GradCAM

    a, b = _vision(), _vision()
    torch.nn.init.normal_(b.module.head.weight, generator=torch.Generator().manual_seed(5))
    app = create_app({"a": a, "b": b})
    with TestClient(app) as c:
        image = a.bundled[0].digest
        assert b.bundled[0].digest == image  # same pixels, same id
        maps = {}
        for name, model in (("a", a), ("b", b)):
            r = c.post(f"/api/models/{name}/explain", json={
                "image": image, "mode": "gradcam", "layer": "features.2", "target": 1,
                "wait": 20}).json()
            maps[name] = Explanation.from_json(c.get(r["result"]["json"]).content).values
            direct = GradCAM(model.module, "features.2")(
                model.tensor(model.images.get(image).pixels), target=1)
            np.testing.assert_array_equal(maps[name], direct.values)
        assert not np.array_equal(maps["a"], maps["b"])


@pytest.mark.parametrize("mode", ["feature_maps", "gradcam", "scorecam", "layer_gradient_shap"])
def test_layer_modes_refuse_a_flat_layer_before_any_model_call(client, mode):
    model = client.app.state.models["cnn"].module
    rows = model.rows
    r = _explain(client, image=_image_id(client), mode=mode, layer="head")
    assert r.status_code == 400
    assert "spatial" in r.json()["error"] and "head" in r.json()["error"]
    assert model.rows == rows


def test_filter_patterns_of_a_class_logit(client):
    r = _explain(client, image=_image_id(client), mode="filter_patterns", layer="head",
                 params={"first_channel": 1, "count": 2, "steps": 3, "size": 16})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["channels"] == [1, 2]


def test_lime_segments_an_image_once_per_algorithm(client):
    from whylens.lime import LimeImageExplainer
    from whylens.representations.image import SegmentationAlgorithm

    served = client.app.state.models["cnn"]
    image = _image_id(client, "other")
    body = {"image": image, "mode": "lime", "target": 2,
            "params": {"num_samples": 60, "segmentation": "slic", "random_state": 3}}
    first = _explain(client, **body).json()["result"]
    segments = served.segments.get((image, "slic"))
    assert segments is not None
    body["params"]["random_state"] = 4
    second = _explain(client, **body).json()["result"]
    assert served.segments.get((image, "slic")) is segments  # not segmented again
    exp = Explanation.from_json(client.get(second["json"]).content)
    direct = LimeImageExplainer(random_state=4).explain_instance(
        served.images.get(image).pixels, served.module, target=2, num_samples=60,
        segmentation_fn=SegmentationAlgorithm("slic", n_segments=60, compactness=10,
                                              start_label=0))
    np.testing.assert_array_equal(exp.features.segments, direct.features.segments)
    np.testing.assert_allclose(exp.values, direct.values, rtol=1e-10, atol=1e-12)
    assert first["n_segments"] == second["n_segments"]


def test_predict_segments_the_image_for_lime_in_the_background(client):
    served = client.app.state.models["cnn"]
    pixels = (np.random.default_rng(11).uniform(0, 1, (32, 32, 3)) * 255).astype(np.uint8)
    image = client.post("/api/models/cnn/images", content=_png_bytes(pixels)).json()["id"]
    assert served.segments.get((image, "quickshift")) is None
    _explain(client, image=image, mode="predict")
    deadline = time.monotonic() + 20
    while served.segments.get((image, "quickshift")) is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    warm = served.segments.get((image, "quickshift"))
    r = _explain(client, image=image, mode="lime", target=0, params={"num_samples": 30})
    exp = Explanation.from_json(client.get(r.json()["result"]["json"]).content)
    np.testing.assert_array_equal(exp.features.segments[0], warm)


def test_trust_check_reuses_the_map_and_reports_deletion_and_insertion(client):
    from whylens.app._trust import trust_meta

    image = _image_id(client)
    body = {"image": image, "mode": "gradcam", "layer": "features.3", "target": 1}
    plain = _explain(client, **body).json()["result"]
    assert "trust" not in plain
    model = client.app.state.models["cnn"]
    checked = _explain(client, **body, params={"trust": True}).json()["result"]
    exp = Explanation.from_json(client.get(checked["json"]).content)
    want = trust_meta(model, model.images.get(image), exp, 1)
    for name in ("deletion", "insertion"):
        assert checked["trust"][name]["score"] == pytest.approx(want[name]["score"], abs=1e-12)
        assert checked["trust"][name]["random"]["n_draws"] == want[name]["random"]["n_draws"]
    assert client.get(checked["png"]).content == client.get(plain["png"]).content

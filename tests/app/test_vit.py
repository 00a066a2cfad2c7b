"""The workbench's layer views on a vision transformer (token layers reshaped to a grid)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from tests.torch.test_gradcam_shapes import TinyViT  # noqa: E402
from whylens import Explanation  # noqa: E402
from whylens.app import VisionModel, create_app  # noqa: E402
from whylens.torch import GradCAM, feature_maps, vit_reshape_transform  # noqa: E402


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    net = TinyViT().eval()
    for p in net.parameters():  # visible, non-trivial weights
        torch.nn.init.normal_(p, std=0.3)
    image = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    served = VisionModel(net, size=16, images={"noise": image},
                         reshape_transform=vit_reshape_transform)
    with TestClient(create_app({"vit": served})) as client:
        yield client, served


def test_token_layers_are_shown_as_grids(vit):
    client, served = vit
    info = client.get("/api/models/vit").json()
    shapes = {d["name"]: d["shape"] for d in info["layers"]}
    assert shapes["blocks.1"] == [1, 8, 4, 4] and shapes["blocks.0.norm1"] == [1, 8, 4, 4]
    assert shapes["patch"] == [1, 8, 4, 4]  # a real conv stays as it is
    assert info["default_layer"] in served.grids
    assert shapes["head"] == [1, 3]


def test_gradcam_and_feature_maps_on_a_token_layer_equal_the_library(vit):
    client, served = vit
    image = served.bundled[0].digest
    x = served.tensor(served.images.get(image).pixels)
    r = client.post("/api/models/vit/explain", json={
        "image": image, "mode": "gradcam", "layer": "blocks.1.norm1", "target": 2, "wait": 20})
    assert r.status_code == 200, r.text
    got = Explanation.from_json(client.get(r.json()["result"]["json"]).content)
    want = GradCAM(served.module, "blocks.1.norm1", reshape_transform=vit_reshape_transform)(
        x, target=2)
    np.testing.assert_array_equal(got.values, want.values)
    r = client.post("/api/models/vit/explain", json={
        "image": image, "mode": "feature_maps", "layer": "blocks.0", "wait": 20}).json()
    direct = feature_maps(served.module, x, "blocks.0", reshape_transform=vit_reshape_transform)
    assert r["result"]["channels"] == direct.labels.tolist()
    assert r["result"]["spatial"] == [4, 4]


def test_layer_gradient_shap_is_drawn_on_the_grid_and_filter_patterns_refused(vit):
    client, served = vit
    image = served.bundled[0].digest
    r = client.post("/api/models/vit/explain", json={
        "image": image, "mode": "layer_gradient_shap", "layer": "blocks.1", "target": 0,
        "params": {"n_samples": 4}, "wait": 20})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["width"] == 16
    r = client.post("/api/models/vit/explain", json={
        "image": image, "mode": "filter_patterns", "layer": "blocks.1", "wait": 20})
    assert r.status_code == 400 and "token layer" in r.json()["error"]


def test_a_reshape_that_is_no_function_is_refused():
    from whylens.errors import InputTypeError

    with pytest.raises(InputTypeError, match="reshape_transform"):
        VisionModel(TinyViT(), size=16, reshape_transform="vit")

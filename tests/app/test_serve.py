"""``whylens serve``, ``load_model_spec``, ``serve`` and ``create_app``'s model arguments."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fastapi")

from tests.app.test_api import SmallCNN  # noqa: E402
from whylens.app import VisionModel, create_app, load_model_spec  # noqa: E402
from whylens.app._serve import _is_loopback  # noqa: E402
from whylens.cli import main  # noqa: E402
from whylens.errors import InputError, InputTypeError  # noqa: E402


@pytest.fixture
def factory_module(tmp_path, monkeypatch):
    (tmp_path / "wl_factory_mod.py").write_text(textwrap.dedent("""
        import numpy as np
        from tests.app.test_api import SmallCNN

        def make():
            return {"module": SmallCNN(), "labels": ["w", "x", "y", "z"], "size": 32,
                    "images": {"grey": np.full((40, 30, 3), 0.5, np.float32)},
                    "preprocess": lambda x: x * 2 - 1}

        def several():
            return {"one": SmallCNN(), "two": {"module": SmallCNN(), "size": 16}}

        not_callable = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "wl_factory_mod"
    sys.modules.pop("wl_factory_mod", None)


def test_factory_spec_gives_a_vision_model(factory_module):
    models = load_model_spec(f"{factory_module}:make")
    (name, model), = models.items()
    assert name == "make" and isinstance(model, VisionModel)
    assert model.labels == ["w", "x", "y", "z"] and model.size == 32
    assert [i.name for i in model.bundled] == ["grey"]
    assert model.layers[0].name == "net"  # preprocess is part of the network
    assert model.default_layer == "net.features.3"


def test_factory_can_return_several_models(factory_module):
    models = load_model_spec(f"{factory_module}:several")
    assert sorted(models) == ["one", "two"] and models["two"].size == 16


@pytest.mark.parametrize("spec", ["", "nomodule", "no_such_module_xyz:make", "os:not-an-id",
                                  "wl_factory_mod:not_callable", "wl_factory_mod:missing"])
def test_bad_specs_are_clear_errors(factory_module, spec):
    with pytest.raises(InputError, match="--model"):
        load_model_spec(spec)


def test_pickled_module_needs_trust(tmp_path):
    path = tmp_path / "cnn.pt"
    torch.save(SmallCNN(), path)
    with pytest.raises(InputError, match="--trust-model"):
        load_model_spec(str(path))
    models = load_model_spec(str(path), trust_model=True)
    assert isinstance(models["cnn"], VisionModel)
    with pytest.raises(InputError, match="--model"):
        load_model_spec(str(tmp_path / "model.joblib"), trust_model=True)


def test_create_app_takes_modules_dicts_and_refuses_others():
    app = create_app({"a": SmallCNN(), "b": {"module": SmallCNN(), "size": 16}})
    assert app.state.models["a"].size == 224 and app.state.models["b"].size == 16
    assert list(create_app(SmallCNN()).state.models) == ["model"]
    with pytest.raises(InputTypeError, match="models"):
        create_app({"a": "resnet"})
    with pytest.raises(InputError, match="models"):
        create_app({})
    with pytest.raises(InputError, match="unknown keys"):
        create_app({"a": {"module": SmallCNN(), "labelz": []}})
    with pytest.raises(InputError, match="labels"):
        create_app({"a": {"module": SmallCNN(), "labels": ["only", "two"]}})


def test_vision_model_refuses_bad_arguments():
    with pytest.raises(InputTypeError, match="module"):
        VisionModel(object())
    with pytest.raises(InputError, match="size"):
        VisionModel(SmallCNN(), size=3)
    with pytest.raises(InputError, match="images"):
        VisionModel(SmallCNN(), size=32, images={"bad": np.zeros((4, 4))})


def test_serve_warns_off_loopback_and_checks_port(monkeypatch):
    import uvicorn

    from whylens.app import serve

    ran = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: ran.append(self.config.host))
    with pytest.warns(UserWarning, match="0.0.0.0"):
        serve(SmallCNN(), host="0.0.0.0", port=8123, open_browser=False)
    serve(SmallCNN(), host="127.0.0.1", port=8123, open_browser=False)
    assert ran == ["0.0.0.0", "127.0.0.1"]
    with pytest.raises(InputError, match="port"):
        serve(SmallCNN(), port=70000, open_browser=False)
    assert _is_loopback("localhost") and _is_loopback("::1") and not _is_loopback("10.0.0.1")


def test_cli_serve_usage_errors(capsys, tmp_path):
    assert main(["serve", "--port", "70000", "--no-browser"]) == 2
    assert "--port" in capsys.readouterr().err
    path = tmp_path / "m.pt"
    torch.save(SmallCNN(), path)
    assert main(["serve", "--model", str(path), "--no-browser"]) == 2
    assert "--trust-model" in capsys.readouterr().err


def test_models_loading_in_the_background_do_not_hold_the_page():
    import threading

    from fastapi.testclient import TestClient

    from whylens.app._server import build_app

    release = threading.Event()

    def loader():
        release.wait(10)
        return {"cnn": VisionModel(SmallCNN(), size=32)}

    app = build_app(loader)
    with TestClient(app) as c:
        assert c.get("/").status_code == 200  # while the models load
        assert app.state.models == {}
        release.set()
        assert [m["name"] for m in c.get("/api/models").json()] == ["cnn"]  # waits for them
        assert c.get("/api/models/cnn").json()["kind"] == "vision"


def test_a_failed_background_load_is_a_503_saying_why():
    from fastapi.testclient import TestClient

    from whylens.app._server import build_app

    def loader():
        raise InputError("models: expected something loadable, got nothing.")

    with TestClient(build_app(loader)) as c:
        assert c.get("/").status_code == 200
        r = c.get("/api/models")
        assert r.status_code == 503 and "loadable" in r.json()["error"]
        assert c.post("/api/models/x/explain", json={}).status_code == 503

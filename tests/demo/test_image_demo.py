"""The image demo: EfficientNet-Lite0 pages written from bundled weights and photos."""

from __future__ import annotations

import re

import numpy as np
import pytest

from whylens import Explanation
from whylens.demo import DemoContext, _image, run_demo
from whylens.demo._image import ImageDemoConfig, check_image_demo
from whylens.errors import MissingDependencyError

try:
    check_image_demo()
    HAVE_DEMO = True
except MissingDependencyError:
    HAVE_DEMO = False

needs_demo = pytest.mark.skipif(not HAVE_DEMO, reason='pip install "whylens[demo]"')

# Small but real: the pretrained network at 128 px on one photo (still an Egyptian cat, p=0.69);
# cheap layers for Score-CAM and patterns.
TINY = ImageDemoConfig(photos=("chelsea",), size=128, lime_samples=12,
                       scorecam_layer="net._blocks.0",
                       feature_layers=("net._blocks.0",), pattern_layers=("net._blocks.0",),
                       pattern_channels=4, pattern_steps=2, pattern_size=32)


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    if not HAVE_DEMO:
        pytest.skip('the image demo needs: pip install "whylens[demo]"')
    out = tmp_path_factory.mktemp("image-demo")
    (out / "explanations").mkdir()
    ctx = DemoContext(out_dir=out, num_samples=1000, seed=0, quick=True)
    return out, _image.image_section(ctx, TINY)


@needs_demo
def test_pretrained_weights_classify_the_cat(section):
    _, result = section
    inst = result.instances[0]
    assert inst.predicted_class in {"tabby", "tiger cat", "Egyptian cat"}
    assert result.accuracy == 1.0  # chelsea's top-5 holds a cat class
    assert len(result.output_names) == 1000 and result.output_names[285] == "Egyptian cat"
    assert inst.explanation.method == "lime.image"
    assert inst.explanation.n_evals == 12


@needs_demo
def test_page_files_exist_and_links_resolve(section):
    out, result = section
    page = (out / "image_chelsea.html").read_text(encoding="utf-8")
    for heading in ("Top-5 classes", "Grad-CAM++", "Score-CAM on net._blocks.0",
                    "Feature maps of net._blocks.0", "Filter patterns of net._blocks.0"):
        assert heading in page
    links = re.findall(r"(?:src|href)='([^']+)'", page)
    assert len(links) >= 8
    for link in links:
        if link != "index.html":
            assert (out / link).is_file(), link
    for link in re.findall(r"(?:src|href)='([^']+)'", result.instances[0].fragment):
        assert (out / link).is_file(), link


@needs_demo
def test_saved_explanations_round_trip(section):
    out, _ = section
    for key, method in (("lime", "lime.image"), ("gradcam", "torch.gradcam"),
                        ("gradcampp", "torch.gradcam++"), ("scorecam", "torch.scorecam")):
        text = (out / "explanations" / f"image_chelsea_{key}.json").read_text(encoding="utf-8")
        exp = Explanation.from_json(text)
        assert exp.method == method
        if key != "lime":
            assert exp.values.shape == (1, 1, 128, 128)
            assert np.all(exp.values >= 0)
    grad = Explanation.from_json(
        (out / "explanations" / "image_chelsea_gradcam.json").read_text(encoding="utf-8"))
    assert grad.params["layer"] == "net._swish"  # the head's activation, found by shape
    assert grad.layer_values.shape == (1, 1, 4, 4)


def test_default_run_skips_the_image_section_without_its_packages(monkeypatch, tmp_path):
    def missing():
        raise MissingDependencyError("image demo: expected efficientnet-lite-pytorch, got "
                                     'nothing. pip install "whylens[demo]"')

    from whylens.demo import _run

    monkeypatch.setitem(_run.PREFLIGHT, "image", missing)
    with pytest.raises(MissingDependencyError, match=r"whylens\[demo\]"):
        run_demo(tmp_path, quick=True, num_samples=20, sections=["image"])
    steps = []
    monkeypatch.setattr(_run, "SECTIONS", {"tabular": _run.SECTIONS["tabular"],
                                           "image": _run.SECTIONS["image"]})
    result = run_demo(tmp_path, quick=True, num_samples=20, on_step=steps.append)
    assert "image" not in result.summary
    assert any("skipping the image section" in s and "whylens[demo]" in s for s in steps)


def test_missing_packages_name_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "efficientnet_lite_pytorch"
                        else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r'pip install "whylens\[demo\]"'):
        check_image_demo()

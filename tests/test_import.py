"""``import whylens`` is light: no torch, no plotting, no peers; the model-agnostic parts
work on a machine without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_whylens_loads_no_heavy_dependency():
    out = _run("""
        import sys
        import whylens
        heavy = ("torch", "matplotlib", "sklearn", "shap", "lime", "captum", "skimage")
        print(sorted(m for m in heavy if m in sys.modules))
    """)
    assert out == "[]"


def test_lime_and_adapters_work_without_torch():
    out = _run("""
        import sys

        class _NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is hidden for this test")
                return None

        sys.meta_path.insert(0, _NoTorch())
        import numpy as np
        from whylens.lime import LimeTabularExplainer
        from whylens.models import as_model

        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 3))
        w = np.array([1.0, -2.0, 0.5])
        model = as_model(lambda rows: rows @ w)
        exp = LimeTabularExplainer(X, mode="regression", discretize_continuous=False,
                                   feature_selection="none", random_state=0)
        e = exp.explain_instance(X[0], model, num_samples=500)
        print("torch" in sys.modules, e.values.shape)
    """)
    assert out == "False (1, 1, 3)"


def test_import_whylens_loads_only_the_result_type():
    """``import whylens`` loads the result type and the errors, nothing else of whylens
    (the subpackages load on first use), and never torch."""
    out = _run("""
        import sys
        import whylens
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("whylens", "torch")))
        whylens.plot  # a subpackage, loaded on first use
        print("whylens.plot" in sys.modules, "torch" in sys.modules)
    """)
    loaded, plot_then = out.splitlines()
    assert loaded == str(["whylens", "whylens._rendering", "whylens._serialize",
                          "whylens._shap_arrays", "whylens._types", "whylens._views",
                          "whylens.errors", "whylens.explanation"])
    assert plot_then == "True False"


def test_subpackages_load_only_what_they_use():
    """LIME does not load SHAP (nor torch); SHAP does not load LIME."""
    out = _run("""
        import sys
        import whylens.lime
        print("whylens.shap" in sys.modules, "torch" in sys.modules)
    """)
    assert out == "False False"
    out = _run("""
        import sys
        import whylens.shap
        print("whylens.lime" in sys.modules)
    """)
    assert out == "False"

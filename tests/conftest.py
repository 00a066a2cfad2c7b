"""Shared fixtures: small models and data with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    """Never open windows; close figures a test leaves behind."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(scope="session")
def breast_cancer():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data, data.target, list(data.feature_names), list(data.target_names)


@pytest.fixture(scope="session")
def rt_polarity():
    """(documents, labels) of ../shared/data/rt-polarity; skipped when absent."""
    folder = SHARED_DATA / "rt-polarity"
    if not folder.is_dir():
        pytest.skip(f"shared data folder {folder} is absent")
    pos = (folder / "rt-polarity.pos").read_text(encoding="utf-8", errors="replace").splitlines()
    neg = (folder / "rt-polarity.neg").read_text(encoding="utf-8", errors="replace").splitlines()
    docs = pos + neg
    labels = np.r_[np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)]
    return docs, labels


def linear_predict(weights: np.ndarray, bias: float = 0.0):
    """f(X) = X @ weights + bias, a regression model with known coefficients."""
    weights = np.asarray(weights, dtype=float)

    def predict(X):
        return np.asarray(X, dtype=float) @ weights + bias

    return predict

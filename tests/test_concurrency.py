"""Explainers pickle, give the same answer from many threads, and keep memory flat."""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from whylens import Explanation
from whylens.lime import LimeImageExplainer, LimeTabularExplainer, LimeTextExplainer


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X, y, LogisticRegression(max_iter=5000).fit(X, y)


def _text_model(docs):
    p = np.array([0.2 + 0.6 * ("good" in d) + 0.1 * ("film" in d) for d in docs])
    return np.c_[1 - p, p]


def _image_model(images):
    # brightness of the left half against the right half
    left = images[:, :, :8].mean(axis=(1, 2, 3))
    right = images[:, :, 8:].mean(axis=(1, 2, 3))
    z = left - right
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


def _image():
    rng = np.random.default_rng(0)
    return rng.random((16, 16, 3))


def _grid(image):
    from whylens.representations.image import grid_segments

    return grid_segments(image, 4)


def _cases(cancer):
    X, _, clf = cancer
    tab = LimeTabularExplainer(X, random_state=3)
    text = LimeTextExplainer(class_names=["neg", "pos"], random_state=3)
    img = LimeImageExplainer(random_state=3)
    return {
        "tabular": (tab, lambda e: e.explain_instance(X[5], clf.predict_proba,
                                                      num_samples=800)),
        "text": (text, lambda e: e.explain_instance("a good film , a good cast", _text_model,
                                                    num_samples=300)),
        "image": (img, lambda e: e.explain_instance(_image(), _image_model, num_samples=200,
                                                    top_labels=1, segmentation_fn=_grid)),
    }


@pytest.mark.parametrize("case", ["tabular", "text", "image"])
def test_lime_explainer_pickles_and_explains_the_same(cancer, case):
    explainer, run = _cases(cancer)[case]
    clone = pickle.loads(pickle.dumps(explainer))
    first = run(explainer)
    assert run(clone) == first
    again = pickle.loads(pickle.dumps(first))
    assert isinstance(again, Explanation) and again == first


@pytest.mark.parametrize("case", ["tabular", "text", "image"])
def test_lime_from_four_threads_equals_sequential(cancer, case):
    explainer, run = _cases(cancer)[case]
    sequential = run(explainer)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: run(explainer), range(8)))
    assert all(r == sequential for r in results)


def test_memory_is_flat_over_1000_explanations(cancer):
    X, y, _ = cancer
    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    explainer = LimeTabularExplainer(X, random_state=0)
    proba = forest.predict_proba

    def batch(k):
        for i in range(k):
            explainer.explain_instance(X[i % 50], proba, num_samples=100)

    tracemalloc.start()
    try:
        batch(300)  # warm: caches that fill once (numba's and numpy's), scratch buffers
        gc.collect()
        after_300, _ = tracemalloc.get_traced_memory()
        batch(250)
        gc.collect()
        after_550, _ = tracemalloc.get_traced_memory()
        batch(450)
        gc.collect()
        after_1000, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Caches that fill once (numpy's, numba's) add a few KB at a falling rate; a
    # leak of one small array per explanation (an empty ndarray is 112 bytes) would
    # add 50 KB over the last 450.
    assert after_1000 - after_550 < 32 * 1024, (after_300, after_550, after_1000)

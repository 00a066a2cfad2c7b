"""Maskers: weighted k-means background, automatic summarising, text masking."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError
from whylens.models import as_model
from whylens.shap import (
    BackgroundSizeWarning,
    ExactExplainer,
    ImageMasker,
    KernelExplainer,
    PermutationExplainer,
    TabularMasker,
    TextMasker,
    summarize_background,
)


def test_summarize_background_weights_and_mean():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.1, size=(30, 3)), rng.normal(5, 0.1, size=(10, 3))])
    masker = summarize_background(X, 2, random_state=0)
    assert masker.data.shape == (2, 3)
    np.testing.assert_allclose(np.sort(masker.weights), [0.25, 0.75])
    np.testing.assert_allclose(masker.weights @ masker.data, X.mean(0), atol=1e-12)
    # A linear model's base value is unchanged by the summary.
    f = as_model(lambda A: A @ np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(masker.base_value(f), f(X).mean(0), atol=1e-12)
    same = summarize_background(X[:4], 10)
    np.testing.assert_array_equal(same.data, X[:4])
    np.testing.assert_allclose(same.weights, 0.25)


def test_large_background_warns_and_is_summarised():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 4))
    with pytest.warns(BackgroundSizeWarning, match="150 rows.*summarised to 20"):
        masker = TabularMasker(X, max_background=20)
    assert masker.data.shape == (20, 4)
    np.testing.assert_allclose(masker.weights.sum(), 1.0)
    kept = TabularMasker(X, max_background=None)
    assert kept.data.shape == (150, 4)


def test_weighted_background_equals_repeated_rows():
    """Weights 1:3 give the same values as the background with the row repeated 3 times."""
    rng = np.random.default_rng(2)
    B = rng.normal(size=(2, 4))
    x = rng.normal(size=(1, 4))
    f = lambda A: A[:, 0] * A[:, 1] - np.cos(A[:, 2] * A[:, 3])  # noqa: E731
    weighted = ExactExplainer(f, TabularMasker(B, weights=[1, 3]))(x)
    repeated = ExactExplainer(f, np.vstack([B[:1], B[1:], B[1:], B[1:]]))(x)
    np.testing.assert_allclose(weighted.values, repeated.values, atol=1e-12)


def _sentiment(texts):
    """Score = #good - 2 * #bad + 0.5 (additive in token occurrences)."""
    words = [t.split() for t in texts]
    return np.array([[w.count("good") - 2 * w.count("bad") + 0.5] for w in words])


@pytest.mark.parametrize("make", [
    lambda f, m: ExactExplainer(f, m),
    lambda f, m: KernelExplainer(f, m, nsamples=40, random_state=0),
    lambda f, m: PermutationExplainer(f, m, random_state=0),
])
def test_text_masker_additive_model(make):
    exp = make(_sentiment, TextMasker())(["good movie , bad ending good", "bad"])
    assert exp.features.kind == "text"
    first = exp[0]
    assert first.features.descriptions[0] == ["good", "movie", "bad", "ending", "good"]
    np.testing.assert_allclose(first.values[0, 0], [1, 0, -2, 0, 1], atol=1e-10)
    np.testing.assert_allclose(exp.base_values[:, 0], [0.5, 0.5])
    np.testing.assert_allclose(exp.values[1, 0, :1], [-2.0], atol=1e-12)
    assert np.all(exp.values[1, 0, 1:] == 0)  # padding of the shorter document
    assert first.features.spans[0][2] == [[13, 16]]  # "good movie , " is 13 chars


def test_text_masker_hangul_and_mask_string():
    seen = []

    def f(texts):
        seen.extend(texts)
        return np.array([[float("최고" in t)] for t in texts])

    exp = ExactExplainer(f, TextMasker(mask_string="[MASK]"))("이 영화 최고")
    np.testing.assert_allclose(exp.values[0, 0], [0, 0, 1], atol=1e-12)
    assert "[MASK] [MASK] [MASK]" in seen
    assert exp.features.names == ["이", "영화", "최고"]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: TextMasker(mask_string=0), InputTypeError, "mask_string: expected a str"),
    (lambda: ExactExplainer(_sentiment, TextMasker())([1.0]), InputTypeError,
     r"X: expected a str or a list of str"),
    (lambda: ExactExplainer(_sentiment, TextMasker())([]), InputError, "X: expected at least"),
    (lambda: summarize_background(np.zeros((4, 2)), 0), InputError, "k: expected an integer"),
])
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_image_masker_additive_model_on_grid():
    """f = mean of the red channel: each grid cell's value is its share of the change."""
    rng = np.random.default_rng(3)
    image = rng.random((8, 8, 3))

    def f(batch):
        return batch[..., 0].mean(axis=(1, 2))[:, None]

    masker = ImageMasker("grid", hide_color=0.0, rows=2, cols=2)
    exp = ExactExplainer(f, masker)(image)
    seg = exp.features.segments[0]
    expected = [image[..., 0][seg == j].sum() / 64 for j in range(4)]
    np.testing.assert_allclose(exp.values[0, 0], expected, atol=1e-12)
    assert exp.base_values[0, 0] == 0.0
    np.testing.assert_allclose(exp.output[0, 0], image[..., 0].mean())
    assert exp.features.kind == "image" and exp.features.data.shape == (1, 8, 8, 3)


def test_image_masker_batch_blur_and_chunks():
    rng = np.random.default_rng(4)
    images = rng.random((2, 16, 16, 3))
    sizes = []

    def f(batch):
        sizes.append(len(batch))
        return np.column_stack([batch.mean(axis=(1, 2, 3)), batch[:, :8].std(axis=(1, 2, 3))])

    exp = PermutationExplainer(f, ImageMasker("grid", rows=3, cols=3), batch_size=5,
                               random_state=0)(images)
    assert exp.values.shape == (2, 2, 9) and max(sizes) <= 5
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values, f(images), atol=1e-10)


def test_image_masker_bad_inputs():
    with pytest.raises(InputError, match="algo_type"):
        ImageMasker("watershed")
    with pytest.raises(InputTypeError, match="segmentation: expected"):
        ImageMasker(42)
    with pytest.raises(InputTypeError, match="X: expected an image"):
        ExactExplainer(lambda b: np.zeros(len(b)), ImageMasker(rows=2, cols=2))("image.png")

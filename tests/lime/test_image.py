"""LIME for images: region recovery, determinism, agreement with lime_image, batching, errors."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError, ModelOutputError
from whylens.lime import LimeImageExplainer, SegmentationAlgorithm
from whylens.representations.image import grid_segments

RNG = np.random.default_rng(0)
IMAGE = RNG.random((16, 16, 3))
GRID = SegmentationAlgorithm("grid", rows=4, cols=4)
REGION = grid_segments(IMAGE, 4, 4) == 5  # rows 4-7, cols 4-7


def region_classifier(images):
    """P(class 1) rises with the mean brightness of segment 5's region only."""
    s = np.asarray(images)[:, REGION].mean(axis=(1, 2))
    p = 1.0 / (1.0 + np.exp(-8.0 * (s - 0.3)))
    return np.stack([1.0 - p, p], axis=1)


def explain(**kwargs):
    args = {"classifier_fn": region_classifier, "segmentation_fn": GRID, "num_samples": 300,
            "hide_color": 0, "top_labels": None, "labels": (1,)} | kwargs
    return LimeImageExplainer(random_state=0).explain_instance(IMAGE, **args)


def test_region_superpixel_ranks_first():
    exp = explain()
    ranked = exp.local_exp[1]
    assert ranked[0][0] == 5 and ranked[0][1] > 0
    assert abs(ranked[1][1]) < 0.05 * ranked[0][1]
    assert exp.segments.shape == (16, 16) and exp.image.shape == (16, 16, 3)
    assert exp.features.names[5] == "segment 5"
    assert exp.n_evals == 300


def test_same_seed_is_bit_identical_other_seed_differs():
    a = explain()
    b = explain()
    assert a == b
    other = LimeImageExplainer(random_state=1).explain_instance(
        IMAGE, region_classifier, segmentation_fn=GRID, num_samples=300, hide_color=0)
    assert not np.array_equal(a.values, other.values[:, list(other.labels).index(1)][:, None])


def test_default_quickshift_segmentation_is_seeded():
    a = LimeImageExplainer(random_state=4).explain_instance(IMAGE, region_classifier,
                                                            num_samples=50)
    b = LimeImageExplainer(random_state=4).explain_instance(IMAGE, region_classifier,
                                                            num_samples=50)
    assert a == b
    assert a.top_labels == [1, 0] or a.top_labels == [0, 1]


def test_batches_are_large_and_bounded():
    calls = []

    def counting(images):
        calls.append(len(images))
        return region_classifier(images)

    explain(classifier_fn=counting, num_samples=1000)
    assert sum(calls) == 1000 and len(calls) == 1  # 16x16 images: one chunk (lime: 100 calls)
    calls.clear()
    explain(classifier_fn=counting, num_samples=100, batch_size=7)
    assert max(calls) == 7 and sum(calls) == 100


def test_results_do_not_depend_on_batch_size():
    np.testing.assert_array_equal(explain(batch_size=7).values, explain().values)


def per_row_fastest_at(best):
    """Seconds per image of a fake model: 1 ms at ``best`` images per call, +1 ms per doubling."""
    return lambda rows: 1e-3 * (1.0 + abs(np.log2(rows / best)))


def test_probed_chunks_give_the_same_bits_and_stay_under_the_budget(monkeypatch):
    from whylens.models import _chunks, as_model

    clock = [0.0]
    monkeypatch.setattr(_chunks, "_clock", lambda: clock[0])
    calls = []
    cost = per_row_fastest_at(8)

    def timed(images):  # a row-independent model on a fake clock fastest at 8 images per call
        calls.append(len(images))
        clock[0] += len(images) * cost(len(images))
        return region_classifier(images)

    row_bytes = IMAGE.nbytes * 8  # one float64 image times the callable's working factor
    model = as_model(timed, memory_budget=row_bytes * 50)  # budget: 50 images per call
    probed = explain(classifier_fn=model, num_samples=500)
    # warm-up, 4 and 16 (rows as dear: no call cost to amortise), then every size twice:
    # 4, 8 (fastest), 16 (slower: stop)
    assert calls[:7] == [4, 4, 16, 4, 8, 8, 16]
    assert set(calls[7:-1]) == {8} and sum(calls) == 500 and max(calls) <= 50
    assert model.last_chunks.chunk_size == 8
    for other in (explain(num_samples=500), explain(num_samples=500, batch_size=7)):
        np.testing.assert_array_equal(probed.values, other.values)
        np.testing.assert_array_equal(probed.base_values, other.base_values)
        np.testing.assert_array_equal(probed.surrogate.score, other.surrogate.score)
    calls.clear()
    explain(classifier_fn=model, num_samples=500)  # same Model: the chosen size is reused
    assert set(calls[:-1]) == {8}


def test_torch_module_chunks_never_exceed_the_budget():
    torch = pytest.importorskip("torch")
    from whylens.models import as_model

    seen = []

    class Region(torch.nn.Module):
        def forward(self, x):
            seen.append(int(x.shape[0]))
            s = x[:, :, 4:8, 4:8].mean(dim=(1, 2, 3))
            return torch.stack([torch.zeros_like(s), 8.0 * (s - 0.3)], dim=1)

    tensor = torch.from_numpy(np.moveaxis(IMAGE, -1, 0).copy())
    # The images are built in the module's dtype (float32: it has no parameters).
    row_bytes = IMAGE.astype(np.float32).nbytes * 32  # times the torch working factor
    model = as_model(Region(), output="probability", memory_budget=row_bytes * 40)
    exp = LimeImageExplainer(random_state=0).explain_instance(
        tensor, model, segmentation_fn=GRID, num_samples=400, hide_color=0, top_labels=None)
    assert max(seen) <= 40 and sum(seen) == 400 and len(seen) > 10
    ref = explain(num_samples=400)
    np.testing.assert_allclose(exp.values, ref.values, atol=1e-10)


def region_module(seen, dtype=None):
    """A torch module whose softmax is region_classifier; records each batch's shape and
    dtype. With ``dtype`` it holds one parameter of that dtype (its float dtype)."""
    torch = pytest.importorskip("torch")

    class Region(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if dtype is not None:
                self.scale = torch.nn.Parameter(torch.tensor(8.0, dtype=dtype))

        def forward(self, x):
            seen.append((tuple(x.shape), x.dtype))
            s = x[:, :, 4:8, 4:8].mean(dim=(1, 2, 3))
            return torch.stack([torch.zeros_like(s), 8.0 * (s - 0.3)], dim=1)

    return Region()


def test_torch_module_on_a_numpy_image_gets_channels_first_tensors_in_its_dtype():
    torch = pytest.importorskip("torch")
    ref = explain()
    for dtype, expected in ((None, torch.float32), (torch.float64, torch.float64)):
        seen = []
        exp = explain(classifier_fn=region_module(seen, dtype), batch_size=64)
        assert {s[1:] for s, _ in seen} == {(3, 16, 16)} and {d for _, d in seen} == {expected}
        np.testing.assert_allclose(exp.values, ref.values, atol=1e-6)
        assert exp.image.shape == (16, 16, 3) and exp.params["channels_first"] is False


def test_torch_module_results_do_not_depend_on_batch_size():
    torch = pytest.importorskip("torch")
    seen = []
    module = region_module(seen, torch.float64)
    runs = [explain(classifier_fn=module, num_samples=300, batch_size=b) for b in (1, 7, 300)]
    runs.append(explain(classifier_fn=module, num_samples=300))  # the probe's chunks
    for other in runs[1:]:
        np.testing.assert_array_equal(other.values, runs[0].values)
        np.testing.assert_array_equal(other.surrogate.score, runs[0].surrogate.score)


@pytest.mark.parametrize("how", ["return False", "raise Cancelled"])
def test_callback_cancels_between_chunks(how):
    from whylens.errors import Cancelled

    calls = []

    def counting(images):
        calls.append(len(images))
        return region_classifier(images)

    def stop_after_100(done, total):
        assert total == 300
        if done >= 100:
            if how == "raise Cancelled":
                raise Cancelled("enough")
            return False
        return True

    with pytest.raises(Cancelled):
        explain(classifier_fn=counting, batch_size=20, callback=stop_after_100)
    assert sum(calls) == 100  # no chunk after the one that reached 100


def test_target_selects_one_output_per_the_convention():
    ref = explain(labels=(1,), top_labels=None)
    for target, names in ((1, None), ("b", ("a", "b")), ([1], None), (np.array([1]), None)):
        exp = explain(target=target, class_names=names, top_labels=5)
        np.testing.assert_array_equal(np.asarray(exp.labels).ravel(), [1])
        np.testing.assert_array_equal(exp.values, ref.values)
    with pytest.raises(InputError, match="target"):
        explain(target=2)


lime_image = pytest.importorskip("lime.lime_image")


@pytest.mark.parametrize("positive_only", [True, False])
@pytest.mark.parametrize("negative_only", [False, True])
@pytest.mark.parametrize("hide_rest", [False, True])
@pytest.mark.parametrize(("num_features", "min_weight"), [(5, 0.0), (3, 0.01), (16, 0.0)])
def test_get_image_and_mask_agrees_with_lime(positive_only, negative_only, hide_rest,
                                             num_features, min_weight):
    exp = explain(top_labels=2)
    theirs = lime_image.ImageExplanation(exp.image, exp.segments)
    theirs.local_exp = exp.local_exp
    kwargs = {"positive_only": positive_only, "negative_only": negative_only,
              "hide_rest": hide_rest, "num_features": num_features, "min_weight": min_weight}
    for label in (0, 1):
        if positive_only and negative_only:
            with pytest.raises(InputError, match="at most one"):
                exp.get_image_and_mask(label, **kwargs)
            continue
        img_w, mask_w = exp.get_image_and_mask(label, **kwargs)
        img_l, mask_l = theirs.get_image_and_mask(label, **kwargs)
        np.testing.assert_array_equal(mask_w, mask_l)
        np.testing.assert_array_equal(img_w, img_l)
        assert img_w.dtype == img_l.dtype


def test_agrees_with_lime_image_on_the_same_segments():
    ours = explain(num_samples=500)
    theirs = lime_image.LimeImageExplainer(random_state=0).explain_instance(
        IMAGE, region_classifier, labels=(1,), top_labels=None, hide_color=0,
        num_samples=500, segmentation_fn=GRID, batch_size=100)
    assert ours.local_exp[1][0][0] == theirs.local_exp[1][0][0] == 5
    w_ours = dict(ours.local_exp[1])[5]
    w_theirs = dict(theirs.local_exp[1])[5]
    assert abs(w_ours - w_theirs) < 0.1 * abs(w_theirs)


def test_torch_module_on_a_channels_first_tensor():
    torch = pytest.importorskip("torch")

    class Region(torch.nn.Module):
        def forward(self, x):  # (n, 3, H, W) -> logits whose softmax is region_classifier
            s = x[:, :, 4:8, 4:8].mean(dim=(1, 2, 3))
            return torch.stack([torch.zeros_like(s), 8.0 * (s - 0.3)], dim=1)

    tensor = torch.from_numpy(np.moveaxis(IMAGE, -1, 0).copy())
    exp = LimeImageExplainer(random_state=0).explain_instance(
        tensor, Region(), segmentation_fn=GRID, num_samples=300, hide_color=0,
        top_labels=None)
    ref = explain()
    np.testing.assert_allclose(exp.values, ref.values, atol=1e-10)
    assert exp.image.shape == (16, 16, 3)
    assert exp.params["channels_first"] is True


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"image": np.zeros((2, 16, 16, 3))}, InputError, "one image"),
        ({"image": np.zeros(16)}, InputError, "one image"),
        ({"image": np.full((4, 4, 3), "x")}, InputTypeError, "dtype"),
        ({"num_samples": 0}, InputError, "num_samples"),
        ({"labels": (2,)}, InputError, r"output indices in \[0, 2\)"),
        ({"segmentation_fn": lambda img: np.zeros((3, 3), int)}, InputError, "segment map"),
        ({"segmentation_fn": "slic"}, InputTypeError, "segmentation_fn"),
        ({"hide_color": "pink"}, InputError, "hide_color"),
        ({"classifier_fn": lambda x: np.ones((len(x), 2, 2))}, ModelOutputError, "shape"),
    ],
)
def test_bad_inputs(kwargs, error, match):
    image = kwargs.pop("image", IMAGE)
    args = {"classifier_fn": region_classifier, "segmentation_fn": GRID, "num_samples": 20,
            "top_labels": None} | kwargs
    with pytest.raises(error, match=match):
        LimeImageExplainer(random_state=0).explain_instance(image, **args)


def test_batch_explanation_refuses_image_views():
    from whylens import Explanation

    exp = explain()
    batch = Explanation(values=np.concatenate([exp.values, exp.values]), labels=exp.labels,
                        method=exp.method, features=exp.features)
    with pytest.raises(Exception, match="single-instance"):
        batch.get_image_and_mask(1)


def test_grayscale_image_keeps_its_layout():
    gray = IMAGE[..., 0]
    seen = []

    def gray_classifier(images):
        seen.append(np.asarray(images).shape[1:])
        return region_classifier(np.repeat(np.asarray(images)[..., None], 3, axis=-1))

    exp = LimeImageExplainer(random_state=0).explain_instance(
        gray, gray_classifier, segmentation_fn=GRID, num_samples=200, hide_color=0,
        top_labels=None)
    assert set(seen) == {(16, 16)}
    assert exp.local_exp[1][0][0] == 5
    assert exp.image.shape == (16, 16)
    image, mask = exp.get_image_and_mask(1, positive_only=False, num_features=1)
    assert image.shape == (16, 16, 3) and mask.sum() == 16

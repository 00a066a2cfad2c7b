"""Image representation and segmentation: masks by fancy index, fills, layouts, errors."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError
from whylens.representations.image import (
    ImageRepresentation,
    SegmentationAlgorithm,
    grid_segments,
    to_channels_last,
)

RNG = np.random.default_rng(0)
IMAGE = RNG.random((12, 10, 3))
SEGMENTS = grid_segments(IMAGE, rows=3, cols=2)


def lime_fudged(image, segments):
    """lime_image's mean fill, written as lime writes it (a loop per segment)."""
    fudged = image.copy()
    for x in np.unique(segments):
        fudged[segments == x] = (np.mean(image[segments == x][:, 0]),
                                 np.mean(image[segments == x][:, 1]),
                                 np.mean(image[segments == x][:, 2]))
    return fudged


def lime_masked(image, fudged, segments, row):
    """lime_image's data_labels for one mask row."""
    temp = image.copy()
    mask = np.zeros(segments.shape, bool)
    for z in np.where(row == 0)[0]:
        mask[segments == z] = True
    temp[mask] = fudged[mask]
    return temp


def test_grid_known_answer():
    seg = grid_segments(np.zeros((4, 6)), rows=2, cols=3)
    np.testing.assert_array_equal(seg, [[0, 0, 1, 1, 2, 2]] * 2 + [[3, 3, 4, 4, 5, 5]] * 2)


def test_apply_equals_lime_loop_with_mean_fill():
    rep = ImageRepresentation(IMAGE, SEGMENTS)
    assert rep.n_features == 6
    np.testing.assert_allclose(rep.fill, lime_fudged(IMAGE, SEGMENTS))
    Z = RNG.integers(0, 2, size=(9, 6)).astype(float)
    out = rep.apply(Z)
    assert out.shape == (9, 12, 10, 3) and out.dtype == IMAGE.dtype
    for i in range(9):
        np.testing.assert_array_equal(out[i], lime_masked(IMAGE, rep.fill, SEGMENTS, Z[i]))


def test_uint8_mean_fill_truncates_like_lime():
    img = (IMAGE * 255).astype(np.uint8)
    rep = ImageRepresentation(img, SEGMENTS)
    np.testing.assert_array_equal(rep.fill, lime_fudged(img, SEGMENTS))
    assert rep.apply(np.zeros((1, 6))).dtype == np.uint8


@pytest.mark.parametrize(("hide_color", "expected"), [(0, 0.0), ((0.1, 0.2, 0.3), [0.1, 0.2, 0.3])])
def test_constant_fill(hide_color, expected):
    out = ImageRepresentation(IMAGE, SEGMENTS, hide_color=hide_color).apply(np.zeros((1, 6)))
    np.testing.assert_allclose(out[0], np.broadcast_to(expected, IMAGE.shape))


def test_blur_fill_is_smooth_and_keeps_the_mean():
    rep = ImageRepresentation(IMAGE, SEGMENTS, hide_color="blur")
    assert rep.fill.std() < IMAGE.std()
    np.testing.assert_allclose(rep.fill.mean(), IMAGE.mean(), rtol=0.05)


def test_grayscale_image():
    gray = IMAGE[..., 0]
    rep = ImageRepresentation(gray, SEGMENTS)
    out = rep.apply(np.array([[1, 0, 1, 1, 1, 1.0]]))
    assert out.shape == (1, 12, 10)
    np.testing.assert_array_equal(out[0][SEGMENTS != 1], gray[SEGMENTS != 1])
    np.testing.assert_allclose(out[0][SEGMENTS == 1], gray[SEGMENTS == 1].mean())


def test_channels_first_tensor_matches_channels_last_numpy():
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(np.moveaxis(IMAGE, -1, 0).copy())
    Z = RNG.integers(0, 2, size=(5, 6)).astype(float)
    out_t = ImageRepresentation(tensor, SEGMENTS).apply(Z)
    out_n = ImageRepresentation(IMAGE, SEGMENTS).apply(Z)
    assert isinstance(out_t, torch.Tensor) and out_t.shape == (5, 3, 12, 10)
    np.testing.assert_allclose(np.moveaxis(out_t.numpy(), 1, -1), out_n)


def test_implements_the_representation_protocol():
    from whylens.representations import Representation

    for rep in (ImageRepresentation(IMAGE, SEGMENTS), ImageRepresentation(IMAGE[..., 0], SEGMENTS)):
        assert isinstance(rep, Representation)
        assert rep.n_features == 6 and rep.names == [f"segment {i}" for i in range(6)]
        assert rep.instance is not None and rep.instance.shape == rep.array.shape
        np.testing.assert_array_equal(rep.apply(np.ones((1, 6)))[0], rep.instance)


def as_channels_first(images):
    """numpy images (n, H, W[, C]) as (n[, C], H, W)."""
    return np.moveaxis(images, -1, 1) if images.ndim == 4 else images


@pytest.mark.parametrize(
    ("image", "hide_color"),
    [(IMAGE, None), (IMAGE, "blur"), (IMAGE, (0.1, 0.2, 0.3)),
     ((IMAGE * 255).astype(np.uint8), None), (IMAGE[..., 0], None), (IMAGE[..., :1], 0)],
    ids=["mean", "blur", "colour", "uint8", "gray", "one-channel"])
def test_tensors_built_for_a_module_equal_the_numpy_images(image, hide_color):
    """device=/dtype=: channels-first tensors in the module's dtype, value for value the
    numpy path's images cast to that dtype (a numpy image included)."""
    torch = pytest.importorskip("torch")
    Z = RNG.integers(0, 2, size=(9, 6)).astype(float)
    Z[0] = 1.0
    expected = as_channels_first(ImageRepresentation(image, SEGMENTS, hide_color).apply(Z))
    for dtype in (torch.float32, torch.float64, torch.bfloat16):  # bf16: torch.where's path
        rep = ImageRepresentation(image, SEGMENTS, hide_color, device="cpu", dtype=dtype)
        out = rep.apply(Z)
        assert isinstance(out, torch.Tensor) and out.dtype == dtype and rep.as_tensor
        assert out.shape == expected.shape and out.is_contiguous()
        torch.testing.assert_close(out, torch.from_numpy(expected).to(dtype), rtol=0, atol=0)
        tensor = torch.from_numpy(np.ascontiguousarray(as_channels_first(image[None])[0]))
        from_tensor = ImageRepresentation(tensor, SEGMENTS, hide_color, dtype=dtype).apply(Z)
        torch.testing.assert_close(from_tensor, out, rtol=0, atol=0)


@pytest.mark.parametrize("hide_color", [None, 0, "blur"])
def test_compiled_images_equal_the_numpy_images_bit_for_bit(monkeypatch, hide_color):
    """With numba, the one-pass kernel builds exactly the images of the numpy path
    (fill, then the shown pixels copied over it), in float32 and float64, colour and
    gray; float16 has no kernel and takes the numpy path."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("numba")
    from whylens.representations import image as image_module

    Z = RNG.integers(0, 2, size=(11, 6)).astype(float)
    for picture in (IMAGE, IMAGE[..., 0]):
        for dtype in (torch.float32, torch.float64, torch.float16):
            compiled = ImageRepresentation(picture, SEGMENTS, hide_color, device="cpu",
                                           dtype=dtype)
            assert (compiled._select is not None) == (dtype != torch.float16)
            with monkeypatch.context() as patch:
                patch.setattr(image_module, "_compiled_select", lambda: None)
                plain = ImageRepresentation(picture, SEGMENTS, hide_color, device="cpu",
                                            dtype=dtype)
            assert plain._select is None
            ours, theirs = compiled.apply(Z), plain.apply(Z)
            assert ours.dtype == theirs.dtype == dtype and ours.is_contiguous()
            assert torch.equal(ours, theirs)


def test_tensors_built_on_a_cuda_device_equal_the_cpu_ones():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    Z = RNG.integers(0, 2, size=(9, 6)).astype(float)
    cpu = ImageRepresentation(IMAGE, SEGMENTS, device="cpu", dtype=torch.float32).apply(Z)
    rep = ImageRepresentation(IMAGE, SEGMENTS, device="cuda", dtype=torch.float32)
    out = rep.apply(Z)
    assert out.device.type == "cuda" and rep.fill.device.type == "cuda"
    np.testing.assert_array_equal(out.cpu().numpy(), cpu.numpy())


def test_apply_builds_each_image_from_its_own_mask_row():
    """A chunk equals its rows applied one at a time (no state carried between rows)."""
    Z = RNG.integers(0, 2, size=(7, 6)).astype(float)
    rep = ImageRepresentation(IMAGE, SEGMENTS)
    chunk = rep.apply(Z)
    for i in range(7):
        np.testing.assert_array_equal(rep.apply(Z[i : i + 1])[0], chunk[i])


def test_slic_ids_are_relabelled_from_zero():
    seg = SegmentationAlgorithm("slic", n_segments=8, compactness=10, start_label=1)(IMAGE)
    ids = np.unique(seg)
    np.testing.assert_array_equal(ids, np.arange(ids.size))


@pytest.mark.parametrize("algo", ["quickshift", "slic", "felzenszwalb"])
def test_segmentations_on_rgb_and_gray(algo):
    params = {"quickshift": {"kernel_size": 2, "max_dist": 10, "random_seed": 0},
              "slic": {"n_segments": 6}, "felzenszwalb": {"scale": 10}}[algo]
    for img in (IMAGE, IMAGE[..., 0]):
        seg = SegmentationAlgorithm(algo, **params)(img)
        assert seg.shape == (12, 10) and seg.min() == 0
        np.testing.assert_array_equal(np.unique(seg), np.arange(seg.max() + 1))


def test_segmentation_is_deterministic():
    seg = SegmentationAlgorithm("quickshift", kernel_size=2, max_dist=10, random_seed=3)
    np.testing.assert_array_equal(seg(IMAGE), seg(IMAGE))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: SegmentationAlgorithm("watershed"), InputError, "algo_type"),
        (lambda: SegmentationAlgorithm("slic", n_segment=5), InputError, "n_segments"),
        (lambda: to_channels_last(np.zeros((2, 8, 8, 3))), InputError, r"batch: image\[0\]"),
        (lambda: to_channels_last(np.zeros(8)), InputError, "one image"),
        (lambda: to_channels_last(np.full((4, 4), "a")), InputTypeError, "dtype"),
        (lambda: to_channels_last(np.full((4, 4), np.nan)), InputError, "finite"),
        (lambda: ImageRepresentation(IMAGE, SEGMENTS[:5]), InputError, "segment map"),
        (lambda: ImageRepresentation(IMAGE, SEGMENTS, hide_color="pink"), InputError,
         "hide_color"),
        (lambda: ImageRepresentation(IMAGE, SEGMENTS, hide_color=(1, 2)), InputError,
         "3 values"),
        (lambda: grid_segments(IMAGE, rows=0), InputError, "rows"),
    ],
)
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()

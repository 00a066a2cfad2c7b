"""Images as interpretable features: superpixels that can be hidden.

:class:`SegmentationAlgorithm` wraps scikit-image's ``quickshift``, ``slic``
and ``felzenszwalb`` and a regular ``grid``, always returning segment ids
``0..n_segments-1``. :class:`ImageRepresentation` holds one image, its
segment map and the fill shown where a superpixel is hidden, and builds the
images of a whole chunk of masks from the segment map as a lookup table (one
``take`` and one ``where`` per chunk): no Python loop per sample or segment.

Images are channels-last numpy arrays ``(H, W, C)`` or ``(H, W)``, or
channels-first torch tensors ``(C, H, W)`` (kept on their device); a chunk
comes back in the same layout, dtype and library as the image, or as
channels-first tensors on a torch module's device when asked (``device=``).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._views import image_and_mask  # re-exported: it moved to the result type
from whylens.errors import InputError, InputTypeError, describe

__all__ = [
    "SEGMENTATIONS",
    "ImageRepresentation",
    "SegmentationAlgorithm",
    "grid_segments",
    "image_and_mask",
    "to_channels_last",
]

SEGMENTATIONS = ("quickshift", "slic", "felzenszwalb", "grid")


def _is_tensor(x: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def to_channels_last(image: Any, argument: str = "image") -> tuple[np.ndarray, bool]:
    """Return ``(numpy image (H, W[, C]), was_channels_first_tensor)``.

    Raises
    ------
    InputError
        Wrong number of dimensions, an empty image, NaN or infinity.
    InputTypeError
        Not a numeric array or tensor.
    """
    channels_first = _is_tensor(image)
    if channels_first:
        arr = image.detach().to("cpu").numpy()
        if arr.ndim == 3:
            arr = np.moveaxis(arr, 0, -1)
    else:
        try:
            arr = np.asarray(image)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise InputTypeError(describe(argument, "a numeric array", image)) from exc
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            describe(argument, "a numeric image (uint8 or float)", got_text=f"dtype {arr.dtype}",
                     fix="Convert it, e.g. np.asarray(pil_image) or skimage.img_as_float(img).")
        )
    layout = "(C, H, W) or (H, W) tensor" if channels_first else "(H, W, C) or (H, W) array"
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4)):
        raise InputError(
            describe(argument, f"one image as a {layout} with 1, 3 or 4 channels",
                     got_text=f"shape {tuple(getattr(image, 'shape', arr.shape))}",
                     fix="Pass one image, not a batch: image[0]. Numpy images are "
                         "channels-last, torch tensors channels-first.")
        )
    if min(arr.shape[:2]) < 1:
        raise InputError(describe(argument, "a non-empty image", got_text=f"shape {arr.shape}"))
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError(describe(argument, "finite pixel values", got_text="NaN or infinity"))
    return arr, channels_first


def grid_segments(image: np.ndarray, rows: int = 8, cols: int | None = None) -> np.ndarray:
    """A regular grid of ``rows × cols`` cells, numbered row by row.

    Returns
    -------
    ndarray of int64, shape (H, W)
    """
    cols = rows if cols is None else cols
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(describe(name, "a positive int", value))
    h, w = image.shape[:2]
    r = np.minimum(np.arange(h) * rows // h, rows - 1)
    c = np.minimum(np.arange(w) * cols // w, cols - 1)
    return (r[:, None] * cols + c[None, :]).astype(np.int64)


def _relabel(segments: np.ndarray) -> np.ndarray:
    """Segment ids as 0..n-1 (slic starts at 1; lime silently drops the last one then)."""
    _, inverse = np.unique(segments, return_inverse=True)
    return inverse.reshape(segments.shape).astype(np.int64)


class SegmentationAlgorithm:
    """A segmentation function with its parameters, as lime's ``SegmentationAlgorithm``.

    Parameters
    ----------
    algo_type : {"quickshift", "slic", "felzenszwalb", "grid"}
    **params
        Passed to ``skimage.segmentation.<algo_type>`` (or :func:`grid_segments`:
        ``rows``, ``cols``). lime's ``random_seed`` is accepted for quickshift
        (as its ``rng``). Unknown parameters raise, lime drops them silently.

    Raises
    ------
    InputError
        Unknown algorithm or parameter.

    Examples
    --------
    >>> seg = SegmentationAlgorithm("slic", n_segments=50, compactness=10)
    >>> segments = seg(image)  # doctest: +SKIP
    """

    def __init__(self, algo_type: str, **params: Any) -> None:
        if algo_type not in SEGMENTATIONS:
            raise InputError(describe("algo_type", f"one of {SEGMENTATIONS}", algo_type))
        self.algo_type = algo_type
        if algo_type == "quickshift" and "random_seed" in params:
            params["rng"] = params.pop("random_seed")
        fn = self._function()
        allowed = [p for p in inspect.signature(fn).parameters if p != "image"]
        unknown = [p for p in params if p not in allowed]
        if unknown:
            raise InputError(
                describe("params", f"parameters of {algo_type}: {', '.join(allowed)}",
                         got_text=f"unknown {', '.join(map(repr, unknown))}")
            )
        self.params = dict(params)

    def _function(self) -> Callable[..., np.ndarray]:
        if self.algo_type == "grid":
            return grid_segments
        import skimage.segmentation as seg

        return getattr(seg, self.algo_type)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"SegmentationAlgorithm({self.algo_type!r}{', ' + args if args else ''})"

    def __call__(self, image: Any) -> np.ndarray:
        """Segment one image.

        Returns
        -------
        ndarray of int64, shape (H, W)
            Segment ids ``0..n_segments-1``.
        """
        arr, _ = to_channels_last(image)
        params = dict(self.params)
        gray = arr.ndim == 2 or arr.shape[-1] == 1
        if self.algo_type == "quickshift":
            if gray:  # quickshift needs three channels
                arr = np.repeat(arr.reshape(*arr.shape[:2], 1), 3, axis=-1)
            elif arr.shape[-1] == 4:
                arr = arr[..., :3]
        elif self.algo_type in ("slic", "felzenszwalb") and gray:
            arr = arr.reshape(arr.shape[:2])
            params.setdefault("channel_axis", None)
        return _relabel(np.asarray(self._function()(arr, **params)))


class ImageRepresentation:
    """One image, its superpixels, and what a hidden superpixel shows.

    Implements :class:`~whylens.representations.Representation`: one
    feature per superpixel. :meth:`apply` builds a chunk of images from the
    segment map used as a lookup table (a mask row becomes one bool per pixel
    by one ``take``, then one ``where`` picks the image or the fill): no
    Python loop per sample or per segment.

    Parameters
    ----------
    image : ndarray (H, W, C) or (H, W), or torch.Tensor (C, H, W) or (H, W)
    segments : ndarray of int, shape (H, W)
        Segment id per pixel, ``0..n_segments-1``.
    hide_color : None, number, sequence, "mean" or "blur", default=None
        Fill of hidden superpixels. ``None`` or ``"mean"``: each superpixel's
        mean colour (lime's default); a number or one value per channel: that
        colour; ``"blur"``: a Gaussian-blurred copy of the image (sigma 5 px).
    device : str or torch.device, optional
        Build the images as channels-first torch tensors on this device (a
        torch module's), whatever the image's library: the image and the fill
        are moved there once, and each chunk is made there. ``None``: numpy
        images give numpy chunks, tensors give tensors on their own device.
    dtype : torch.dtype, optional
        dtype of those tensors (a module's parameter dtype); default the
        image's own.

    Attributes
    ----------
    n_features : int
        Number of superpixels.
    names : list of str
        ``"segment 0"``, ``"segment 1"``, ...
    instance : ndarray or Tensor
        The image as given.
    segments : ndarray of int64, shape (H, W)
    fill : ndarray (H, W[, C]) or Tensor ([C, ]H, W)
        The fully hidden image, in the layout, dtype and device of the chunks.
    as_tensor : bool
        Whether :meth:`apply` returns torch tensors.

    Raises
    ------
    InputError
        Segment map of the wrong shape or with ids that are not 0..n-1, a bad
        ``hide_color``.
    """

    def __init__(self, image: Any, segments: Any, hide_color: Any = None, *,
                 device: Any = None, dtype: Any = None) -> None:
        arr, self.channels_first = to_channels_last(image)
        self.image = image
        self.array = arr
        segments = np.asarray(segments)
        if segments.shape != arr.shape[:2] or segments.dtype.kind not in "iu":
            raise InputError(
                describe("segments", f"an int segment map of shape {arr.shape[:2]}",
                         segments, "segmentation_fn must return one id per pixel.")
            )
        segments = segments.astype(np.int64)
        n = int(segments.max()) + 1 if segments.size else 0
        if segments.min() < 0 or np.unique(segments).size != n:
            segments = _relabel(segments)
            n = int(segments.max()) + 1
        self.segments = segments
        self.n_features = n
        self.hide_color = hide_color
        fill = self._fill(arr, hide_color).astype(arr.dtype, copy=False)
        self.as_tensor = self.channels_first or device is not None or dtype is not None
        if self.as_tensor:
            self._to_tensors(image, fill, device, dtype)
        else:
            # The lookup table: the segment id of every value of the flat (H, W[, C]) image.
            channels = arr.shape[2] if arr.ndim == 3 else 1
            self._table = np.repeat(segments.ravel().astype(np.intp), channels)
            self._flat_image = np.ascontiguousarray(arr).reshape(-1)
            self._flat_fill = np.ascontiguousarray(fill).reshape(-1)
            self.fill = fill

    def _to_tensors(self, image: Any, fill: np.ndarray, device: Any, dtype: Any) -> None:
        """The image, the fill and the lookup table as tensors where the chunks are made."""
        import torch

        if self.channels_first:
            device = image.device if device is None else torch.device(device)
            self._image_t = image.detach().to(device=device,
                                              dtype=image.dtype if dtype is None else dtype)
        else:
            device = torch.device("cpu") if device is None else torch.device(device)
            moved = np.moveaxis(self.array, -1, 0) if self.array.ndim == 3 else self.array
            self._image_t = torch.as_tensor(np.ascontiguousarray(moved)).to(device=device,
                                                                             dtype=dtype)
        moved = np.moveaxis(fill, -1, 0) if fill.ndim == 3 else fill
        self.fill = torch.as_tensor(np.ascontiguousarray(moved)).to(device=device,
                                                                    dtype=self._image_t.dtype)
        self.device = device
        table = self.segments.ravel().astype(np.intp)
        # On the CPU numpy's take makes the pixel mask fastest (torch's index ops are
        # slower there), and the images are written in one pass by the numba kernel
        # (float32/float64), else by a fill then a masked copy into a new array, which
        # beats torch.where; the arrays share the tensors' memory.
        # On another device the table lives there and only the masks travel.
        self._table = table if device.type == "cpu" else torch.as_tensor(table, device=device)
        self._cpu_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self._select: Any = None
        if device.type == "cpu" and self._image_t.dtype != torch.bfloat16:  # numpy has no bf16
            flat = (1 if self._image_t.ndim == 2 else self._image_t.shape[0], -1)
            self._cpu_arrays = (self._image_t.reshape(flat).numpy(),
                                self.fill.reshape(flat).numpy())
            if self._cpu_arrays[0].dtype in (np.float32, np.float64):
                self._select = _compiled_select()

    @property
    def names(self) -> list[str]:
        """``"segment i"`` for each superpixel."""
        return [f"segment {i}" for i in range(self.n_features)]

    @property
    def instance(self) -> Any:
        """The image as given."""
        return self.image

    def _fill(self, arr: np.ndarray, hide_color: Any) -> np.ndarray:
        flat = arr.reshape(arr.shape[0] * arr.shape[1], -1).astype(np.float64)
        if hide_color is None or (isinstance(hide_color, str) and hide_color == "mean"):
            ids = self.segments.ravel()
            counts = np.bincount(ids, minlength=self.n_features)
            sums = np.stack([np.bincount(ids, weights=flat[:, c], minlength=self.n_features)
                             for c in range(flat.shape[1])], axis=1)
            means = sums / np.maximum(counts, 1)[:, None]
            if arr.dtype.kind in "iub":
                means = means.astype(arr.dtype)  # truncation, as lime's assignment
            return means[self.segments].reshape(arr.shape)
        if isinstance(hide_color, str):
            if hide_color != "blur":
                raise InputError(describe("hide_color", "None, 'mean', 'blur', a number or a "
                                                        "colour", hide_color))
            from scipy.ndimage import gaussian_filter

            sigma = (5.0, 5.0, 0.0)[: arr.ndim]
            return gaussian_filter(arr.astype(np.float64), sigma=sigma)
        try:
            colour = np.asarray(hide_color, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(describe("hide_color", "a number or one value per channel",
                                      hide_color)) from exc
        channels = 1 if arr.ndim == 2 else arr.shape[-1]
        if colour.ndim > 1 or (colour.ndim == 1 and colour.shape[0] != channels):
            raise InputError(describe("hide_color", f"a number or {channels} values",
                                      hide_color))
        return np.broadcast_to(colour, arr.shape).copy()

    def apply(self, Z: np.ndarray) -> Any:
        """Build the images of a chunk of masks.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features)
            1 shows a superpixel, 0 hides it.

        Returns
        -------
        ndarray (n_samples, H, W[, C]) or Tensor (n_samples[, C], H, W)
            Numpy images in the image's dtype, or tensors (see ``device``) in
            ``dtype``; pixel for pixel the image where its superpixel is shown
            and ``fill`` where it is hidden.
        """
        keep = np.asarray(Z, dtype=bool)
        n = keep.shape[0]
        if not self.as_tensor:
            mask = keep.take(self._table, axis=1)  # (n, H*W*C): the lookup
            out = np.where(mask, self._flat_image, self._flat_fill)
            return out.reshape(n, *self.array.shape)
        import torch

        if self._cpu_arrays is not None:
            image, fill = self._cpu_arrays  # ([C or 1], H*W), sharing the tensors' memory
            out = np.empty((n, *image.shape), image.dtype)
            mask = keep.take(self._table, axis=1)  # (n, H*W): the lookup
            if self._select is not None:
                self._select(mask, image, fill, out)  # one pass over the output
            else:
                out[...] = fill
                np.copyto(out, image, where=mask[:, None])
            return torch.from_numpy(out).view(n, *self._image_t.shape)
        shape = (n, *self.array.shape[:2])
        if isinstance(self._table, np.ndarray):
            mask = torch.from_numpy(keep.take(self._table, axis=1)).view(shape)
        else:
            keep_t = torch.as_tensor(keep, device=self.device)
            mask = keep_t.index_select(1, self._table).view(shape)
        if self._image_t.ndim == 3:
            mask = mask[:, None]  # one mask for every channel
        return torch.where(mask, self._image_t, self.fill)


def _compiled_select() -> Any:
    """The numba kernel of :meth:`ImageRepresentation.apply` on the CPU, or None without numba."""
    try:
        from whylens.representations._image_kernels import select_pixels
    except ImportError:
        return None
    return select_pixels

"""Inputs of the torch methods, read in chunks: a tensor file or a folder of images.

A tensor file (``.pt``/``.pth``) holds ONE floating-point tensor of shape
``(n, C, H, W)`` or ``(n, C, L)``; it is loaded with
``torch.load(path, mmap=True, weights_only=True)`` (no objects unpickled; the
file is memory-mapped, so only the rows of a chunk are read). An image folder
holds PNG/JPEG files only; they are taken in the order of their names, decoded
with Pillow a chunk at a time (the folder is never whole in memory), resized
(shorter side to ``size``, bilinear) and centre-cropped to ``size x size``, and
given to the model as float32 in [0, 1], channels first (1 channel when every
image is grey, else RGB; alpha is dropped).

Both are :class:`~whylens.batch._data.Source` objects, read by random access:
only the chunks a job still needs are read.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from whylens.batch._data import Source, file_digest
from whylens.errors import InputError, InputTypeError, MissingDependencyError, describe

__all__ = ["ImageFolderSource", "TensorSource", "as_torch_source"]

TENSOR_SUFFIXES = (".pt", ".pth")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_FORMATS = ("PNG", "JPEG")
_GREY = ("1", "L", "LA", "I", "I;16", "F")
_EXPECTED = ("a .pt/.pth file holding one tensor (n, C, H, W) or (n, C, L), a folder of "
             "PNG/JPEG images, or (in Python) such a tensor or array")


class _RandomAccess(Source):
    """A source whose rows are read by index (chunks it is not asked for are never read)."""

    def __init__(self, shape: tuple[int, ...], fingerprint: str, description: str) -> None:
        super().__init__([], shape[0], fingerprint, description)
        self.shape = tuple(int(s) for s in shape)

    def _rows(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self, chunk_rows: int, wanted: Callable[[int], bool]
               ) -> Iterator[tuple[int, int, int, np.ndarray]]:
        """Yield ``(index, start, stop, rows)`` of the chunks ``wanted(index)`` accepts.

        ``rows`` has shape ``(stop - start, *shape[1:])``.
        """
        for index in range(self.n_chunks(chunk_rows)):
            if wanted(index):
                start = index * chunk_rows
                stop = min(start + chunk_rows, self.n_rows)
                yield index, start, stop, np.ascontiguousarray(self._rows(start, stop))

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at the sorted indices ``rows`` (contiguous ranges read at once)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and np.array_equal(rows, np.arange(rows[0], rows[0] + rows.size)):
            return self._rows(int(rows[0]), int(rows[0]) + rows.size)
        return np.stack([self._rows(int(i), int(i) + 1)[0] for i in rows])

    def read_all(self) -> np.ndarray:
        return self._rows(0, self.n_rows)


# ---------------------------------------------------------------- tensors
class TensorSource(_RandomAccess):
    """One floating-point tensor of shape (n, C, H, W) or (n, C, L): a file or in memory."""

    kind = "tensor"

    def __init__(self, tensor: Any, fingerprint: str, description: str) -> None:
        self.tensor = tensor
        super().__init__(tuple(tensor.shape), fingerprint, description)

    def _rows(self, start: int, stop: int) -> np.ndarray:
        import torch

        part = self.tensor[start:stop]
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().numpy()
        return np.array(part, copy=True)


def _check_tensor(value: Any, argument: str, where: str) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        ok_type, dtype, ndim = value.is_floating_point(), str(value.dtype), value.ndim
    elif isinstance(value, np.ndarray):
        ok_type, dtype, ndim = value.dtype.kind == "f", str(value.dtype), value.ndim
    else:
        raise InputError(describe(argument, _EXPECTED, got_text=f"{where} holding "
                                  f"{type(value).__name__}",
                                  fix="Save one tensor: torch.save(x, path)."))
    if ndim not in (3, 4) or not ok_type or value.shape[0] == 0:
        raise InputError(describe(argument, "one floating-point tensor of shape (n, C, H, W) "
                                  "or (n, C, L) with n >= 1", got_text=f"{where} holding a "
                                  f"{dtype} tensor of shape {tuple(value.shape)}",
                                  fix="Convert images to float (e.g. x.float() / 255)."))


def load_tensor_file(path: Path) -> TensorSource:
    """Open a tensor file safely (``weights_only=True``), memory-mapped when possible.

    Raises
    ------
    InputError
        The file does not hold exactly one floating-point tensor of 3 or 4
        dimensions (a dict, a model, an object torch will not load without
        unpickling code).
    """
    import pickle

    import torch

    try:
        try:
            value = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
        except RuntimeError as exc:  # the legacy (non-zip) format cannot be memory-mapped
            if "mmap" not in str(exc):
                raise
            value = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise InputError(describe("data", _EXPECTED, str(path),
                                  f"torch.load(weights_only=True) refused it: {first}. "
                                  "Save one tensor with torch.save(x, path).")) from exc
    _check_tensor(value, "data", str(path))
    return TensorSource(value, file_digest(path), str(path))


def _array_source(value: Any) -> TensorSource:
    import torch

    _check_tensor(value, "data", "the object")
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
    digest = hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16)
    digest.update(f"{array.shape}{array.dtype}".encode())
    return TensorSource(array, digest.hexdigest(),
                        f"{type(value).__name__} of shape {tuple(array.shape)}")


# ---------------------------------------------------------------- images
def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow comes with matplotlib
        raise MissingDependencyError("Reading an image folder needs Pillow: pip install "
                                     "pillow.") from exc
    return Image


class ImageFolderSource(_RandomAccess):
    """PNG/JPEG files of a folder, sorted by name, decoded a chunk at a time.

    Parameters
    ----------
    folder : Path
    size : int, optional
        Side of the square the images are resized and centre-cropped to;
        required unless every image has the same size (then kept as it is).

    Raises
    ------
    InputError
        An empty folder, a file that is not a PNG or JPEG image (by name or by
        content), images of different sizes without ``size``, a bad ``size``.
    """

    kind = "images"

    def __init__(self, folder: Path, size: Any = None) -> None:
        Image = _pillow()
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral)
                                 or size < 1):
            raise InputError(describe("size", "an int >= 1 (the side images are resized and "
                                      "centre-cropped to)", size))
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        others = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES or
                  not p.is_file()]
        if others:
            raise InputError(describe("data", "a folder of PNG/JPEG files only", str(folder),
                                      f"It also holds {others[:3]}; move them out."))
        if not files:
            raise InputError(describe("data", "a folder holding at least one PNG/JPEG image",
                                      got_text=f"the empty folder {folder}"))
        sizes, grey = set(), True
        digest = hashlib.blake2b(digest_size=16)
        for path in files:
            try:
                with Image.open(path) as image:  # reads the header only
                    fmt, mode, dims = image.format, image.mode, image.size
            except (OSError, SyntaxError, ValueError) as exc:
                raise InputError(describe("data", "PNG/JPEG files that Pillow can decode",
                                          got_text=f"{path}, which is not an image ({exc})",
                                          fix="Remove or replace that file.")) from exc
            if fmt not in _FORMATS:
                raise InputError(describe("data", "PNG/JPEG files", got_text=f"{path}, a "
                                          f"{fmt} image named {path.suffix}"))
            sizes.add(dims)
            grey = grey and mode in _GREY
            digest.update(f"{path.name}\0{file_digest(path)}\0".encode())
        if size is None and len(sizes) > 1:
            raise InputError(describe("size", "the side to resize the images to (they have "
                                      f"{len(sizes)} different sizes)", None,
                                      "Pass --param size=N (params={'size': N})."))
        self.files = files
        self.size = None if size is None else int(size)
        self.mode = "L" if grey else "RGB"
        width, height = (self.size, self.size) if self.size else next(iter(sizes))
        digest.update(f"{self.size}{self.mode}".encode())
        super().__init__((len(files), 1 if grey else 3, height, width), digest.hexdigest(),
                         f"{folder} ({len(files)} images)")

    def _image(self, path: Path) -> np.ndarray:
        Image = _pillow()
        try:
            with Image.open(path) as image:
                image = image.convert(self.mode)
                if self.size is not None:
                    image = _resize_crop(Image, image, self.size)
                pixels = np.asarray(image, dtype=np.float32)
        except OSError as exc:
            raise InputError(describe("data", "PNG/JPEG files that Pillow can decode",
                                      got_text=f"{path} ({exc})")) from exc
        if pixels.shape[:2] != self.shape[2:]:
            raise InputError(describe("data", f"images of {self.shape[3]}x{self.shape[2]} "
                                      "pixels", got_text=f"{path} of {pixels.shape[1]}x"
                                      f"{pixels.shape[0]}", fix="Pass --param size=N."))
        pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        return pixels / np.float32(255)

    def _rows(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self.shape[1:]), dtype=np.float32)
        for i in range(start, stop):
            out[i - start] = self._image(self.files[i])
        return out


def _resize_crop(Image: Any, image: Any, size: int) -> Any:
    """Resize so the shorter side is ``size`` (bilinear), then crop the centre square."""
    width, height = image.size
    scale = size / min(width, height)
    new = (max(size, round(width * scale)), max(size, round(height * scale)))
    if new != (width, height):
        image = image.resize(new, Image.BILINEAR)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    return image.crop((left, top, left + size, top + size))


def as_torch_source(data: Any, size: Any = None) -> TensorSource | ImageFolderSource:
    """Wrap ``data`` for a torch method: a tensor file, an image folder, a tensor or an array.

    Raises
    ------
    InputError
        A path that does not exist or is neither, a file not holding one
        floating-point tensor of 3 or 4 dimensions, a folder of anything but
        PNG/JPEG images; ``size`` given for data that is not an image folder.
    InputTypeError
        Anything else.
    """
    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.is_dir():
            return ImageFolderSource(path, size)
        if size is not None:
            raise InputError(describe("size", "None unless the data is an image folder", size))
        if path.suffix.lower() not in TENSOR_SUFFIXES:
            raise InputError(describe("data", _EXPECTED, str(data)))
        if not path.is_file():
            raise InputError(describe("data", "an existing file or folder", str(data)))
        return load_tensor_file(path)
    if size is not None:
        raise InputError(describe("size", "None unless the data is an image folder", size))
    import torch

    if isinstance(data, (torch.Tensor, np.ndarray)):
        return _array_source(data)
    raise InputTypeError(describe("data", _EXPECTED, data))

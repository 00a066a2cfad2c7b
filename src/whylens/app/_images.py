"""Images of the workbench: uploads decoded safely, every image kept by its digest.

An upload is read from the request body (never from a path), decoded with
Pillow after its header passes the size checks (a decompression bomb is
refused before any pixel is decoded), converted to RGB, center-cropped to a
square and resized to the model's input size. Images are then known by the
SHA-256 digest of those pixels; the store keeps the most recent ones.
"""

from __future__ import annotations

import collections
import hashlib
import io
import threading
from dataclasses import dataclass

import numpy as np

from whylens.errors import InputError, describe

__all__ = ["ALLOWED_FORMATS", "ImageStore", "StoredImage", "decode_upload", "square_resize"]

#: Formats an upload may have (what Pillow reads safely and browsers send).
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")


@dataclass(frozen=True)
class StoredImage:
    """An image ready for the model.

    Attributes
    ----------
    digest : str
        SHA-256 of the pixels (hex, 16 characters shown in URLs).
    name : str
        The bundled photo's name or ``"upload"``.
    pixels : ndarray of shape (size, size, 3), float32 in [0, 1]
    png : bytes
        The same pixels as a PNG (what the page shows under the overlays).
    """

    digest: str
    name: str
    pixels: np.ndarray
    png: bytes


def square_resize(image: np.ndarray, size: int) -> np.ndarray:
    """Center-crop ``image`` (H, W, 3) to a square and resize it to (size, size, 3) float32 [0, 1].

    Returns
    -------
    ndarray of shape (size, size, 3), float32
    """
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(np.asarray(arr, dtype=np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = Image.fromarray(arr[top : top + side, left : left + side])
    if side != size:
        crop = crop.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(crop, dtype=np.float32) / 255.0


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode (H, W, 3) float [0, 1] or uint8 pixels as PNG bytes."""
    from PIL import Image

    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def decode_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """Decode an uploaded image, refusing anything that is not a small enough image.

    Parameters
    ----------
    data : bytes
        The request body.
    max_bytes : int
        Largest body accepted.
    max_pixels : int
        Largest width x height accepted (checked on the header, before decoding).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Raises
    ------
    InputError
        Empty, too large in bytes or in pixels, not an image, a format not in
        :data:`ALLOWED_FORMATS`, or a file that fails to decode.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InputError(describe("image", "the bytes of a PNG, JPEG, GIF, BMP or WebP file",
                                  got_text="an empty body"))
    if len(data) > max_bytes:
        raise InputError(describe("image", f"at most {max_bytes:,} bytes",
                                  got_text=f"{len(data):,} bytes",
                                  fix="Upload a smaller image."))
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            fmt = img.format
            width, height = img.size
            if fmt not in ALLOWED_FORMATS:
                raise InputError(describe("image", f"one of {', '.join(ALLOWED_FORMATS)}",
                                          got_text=f"a {fmt} file"))
            if width * height > max_pixels:
                raise InputError(describe(
                    "image", f"at most {max_pixels:,} pixels",
                    got_text=f"{width} x {height} = {width * height:,} pixels",
                    fix="Upload a smaller image (a decompression bomb is refused)."))
            img.seek(0)
            rgb = img.convert("RGB")  # decodes the first frame
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InputError(describe("image", "a PNG, JPEG, GIF, BMP or WebP image",
                                  got_text="bytes Pillow cannot read as an image",
                                  fix="Upload an image file.")) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(describe("image", "a complete, readable image file",
                                  got_text=f"a broken file ({type(exc).__name__})",
                                  fix="Upload another image.")) from exc
    return np.asarray(rgb, dtype=np.uint8)


class ImageStore:
    """The most recent images, by digest (bundled photos are never dropped).

    Parameters
    ----------
    max_images : int
        Uploaded images kept; the oldest is dropped beyond it.
    """

    def __init__(self, max_images: int = 64) -> None:
        self.max_images = int(max_images)
        self._pinned: dict[str, StoredImage] = {}
        self._recent: collections.OrderedDict[str, StoredImage] = collections.OrderedDict()
        self._lock = threading.Lock()

    def add(self, pixels: np.ndarray, name: str, *, pinned: bool = False) -> StoredImage:
        """Store (size, size, 3) float pixels; return the stored image (one per distinct pixels)."""
        arr = np.ascontiguousarray(pixels, dtype=np.float32)
        arr.flags.writeable = False
        digest = hashlib.sha256(arr.tobytes()).hexdigest()[:16]
        with self._lock:
            found = self._pinned.get(digest) or self._recent.get(digest)
            if found is not None:
                if digest in self._recent:
                    self._recent.move_to_end(digest)
                return found
        image = StoredImage(digest=digest, name=name, pixels=arr, png=png_bytes(arr))
        with self._lock:
            if pinned:
                self._pinned[digest] = image
            else:
                self._recent[digest] = image
                while len(self._recent) > self.max_images:
                    self._recent.popitem(last=False)
        return image

    def get(self, digest: str) -> StoredImage | None:
        """The image with this digest, or ``None``."""
        with self._lock:
            return self._pinned.get(digest) or self._recent.get(digest)

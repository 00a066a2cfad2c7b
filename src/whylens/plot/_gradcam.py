"""pytorch-grad-cam's ``show_cam_on_image``: a CAM blended over its image as a uint8 array.

``(1 - image_weight) * colormap(uint8(255 * mask)) + image_weight * img``,
divided by its maximum and scaled to uint8, as pytorch-grad-cam computes it.
The colours come from matplotlib's colormap of the same name (pytorch-grad-cam
uses OpenCV's, whose "jet" differs by a few levels per channel); OpenCV's
colormap numbers (``cv2.COLORMAP_JET`` is 2) are accepted and mapped to their
matplotlib names, so no OpenCV is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

__all__ = ["show_cam_on_image"]

#: OpenCV's colormap numbers and the matplotlib colormaps of the same name.
OPENCV_COLORMAPS = {
    0: "autumn", 1: "bone", 2: "jet", 3: "winter", 4: "rainbow", 5: "ocean", 6: "summer",
    7: "spring", 8: "cool", 9: "hsv", 10: "pink", 11: "hot", 13: "magma", 14: "inferno",
    15: "plasma", 16: "viridis", 17: "cividis", 18: "twilight", 19: "twilight_shifted",
    20: "turbo",
}


def _colormap(colormap: Any) -> Any:
    import matplotlib

    if isinstance(colormap, (int, np.integer)) and not isinstance(colormap, bool):
        if int(colormap) not in OPENCV_COLORMAPS:
            raise InputError(describe(
                "colormap", f"an OpenCV colormap number matplotlib also has "
                f"({sorted(OPENCV_COLORMAPS)}) or a matplotlib colormap name", colormap))
        colormap = OPENCV_COLORMAPS[int(colormap)]
    if isinstance(colormap, str):
        try:
            return matplotlib.colormaps[colormap]
        except KeyError:
            raise InputError(describe("colormap", "a matplotlib colormap name (e.g. 'jet')",
                                      colormap)) from None
    if callable(colormap):
        return colormap
    raise InputTypeError(describe("colormap", "a colormap name, an OpenCV colormap number or "
                                  "a matplotlib Colormap", colormap))


def _array(value: Any, argument: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise InputTypeError(describe(argument, "an ndarray", value))
    return value


def show_cam_on_image(img: Any, mask: Any, use_rgb: bool = False, colormap: Any = "jet",
                      image_weight: float = 0.5) -> np.ndarray:
    """Overlay a CAM on its image, as pytorch-grad-cam's function of the same name.

    Parameters
    ----------
    img : ndarray of shape (H, W, 3), float in [0, 1]
        The image, RGB (or BGR with ``use_rgb=False``).
    mask : ndarray of shape (H, W), values in [0, 1]
        One map of ``cam(input_tensor=..., targets=...)`` (``grayscale_cam[0]``).
    use_rgb : bool, default=False
        Colour the heat map in RGB order (pytorch-grad-cam's default is BGR,
        OpenCV's order; pass True for an RGB image).
    colormap : str, int or Colormap, default="jet"
        A matplotlib colormap name or object, or an OpenCV colormap number
        (``cv2.COLORMAP_JET``).
    image_weight : float, default=0.5
        The image's share in the blend, in [0, 1].

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Raises
    ------
    InputError
        An image with values above 1, a mask of another height and width or
        outside [0, 1], ``image_weight`` outside [0, 1], an unknown colormap.
    InputTypeError
        Arguments that are not arrays.
    """
    image = _array(img, "img").astype(np.float32)
    m = _array(mask, "mask")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(describe("img", "an (H, W, 3) image", got_text=f"shape {image.shape}",
                                  fix="Channels last: np.transpose(x, (1, 2, 0))."))
    if m.ndim != 2 or m.shape != image.shape[:2]:
        raise InputError(describe("mask", f"a map of shape {image.shape[:2]} (the image's)",
                                  got_text=f"shape {m.shape}",
                                  fix="Pass one image's map: grayscale_cam[0]."))
    if np.max(image) > 1:
        raise InputError(describe("img", "a float image in [0, 1]",
                                  got_text=f"values up to {np.max(image):g}",
                                  fix="Divide a uint8 image by 255."))
    if not 0 <= float(np.min(m)) and float(np.max(m)) <= 1:
        raise InputError(describe("mask", "values in [0, 1] (a CAM scaled per image)",
                                  got_text=f"values in [{np.min(m):g}, {np.max(m):g}]"))
    if isinstance(image_weight, bool) or not 0 <= image_weight <= 1:
        raise InputError(describe("image_weight", "a number in [0, 1]", image_weight))
    levels = np.uint8(255 * m)
    heat = _colormap(colormap)(levels)[..., :3]  # RGB in [0, 1]
    heat = np.float32(np.round(heat * 255)) / 255  # an 8-bit colour, as OpenCV's
    if not use_rgb:
        heat = heat[..., ::-1]
    cam = (1 - image_weight) * heat + image_weight * image
    cam = cam / np.max(cam)
    return np.uint8(255 * cam)

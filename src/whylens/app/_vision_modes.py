"""The vision view's modes: what each computes (one library call) and how it is drawn.

A :class:`Mode` pairs a ``compute`` (feature maps, filter patterns, a CAM,
layer Gradient SHAP, Integrated Gradients, SmoothGrad, LIME) with a ``draw``
that turns its Explanation into a picture and JSON facts; :func:`run_mode`
runs one for a :class:`~whylens.app.VisionModel` (typed ``Any`` here: the
model module imports this one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens.app import _pictures as pictures
from whylens.app._images import StoredImage
from whylens.app._params import Param
from whylens.app._served import Result
from whylens.errors import InputError, describe

__all__ = ["MODES", "Mode", "run_mode", "segment"]


# ---------------------------------------------------------------------- modes
@dataclass(frozen=True)
class Mode:
    """One thing the page can show for a clicked layer (or the whole input).

    Attributes
    ----------
    name, title : str
    uses_layer : bool
        Whether the result depends on the clicked layer.
    long : bool
        Whether it usually takes seconds (the page shows progress and Cancel).
    params : tuple of Param
    compute : callable
        ``compute(model, image, layer, target, params, report) -> Explanation``.
    draw : callable
        ``draw(model, image, explanation, target, params) -> (pixels, meta)``.
    uses_target : bool
        Whether the result depends on the explained class.
    needs_spatial : bool
        Whether the layer must have a spatial output (every layer mode but
        filter patterns, which can maximise any output, a class logit included).
    """

    name: str
    title: str
    uses_layer: bool
    long: bool
    params: tuple[Param, ...]
    compute: Callable[..., Any]
    draw: Callable[..., tuple[np.ndarray, dict[str, Any]]]
    uses_target: bool = True
    needs_spatial: bool = True

    def schema(self) -> dict[str, Any]:
        """The mode as the page sees it."""
        return {"name": self.name, "title": self.title, "uses_layer": self.uses_layer,
                "uses_target": self.uses_target, "long": self.long,
                "params": [p.schema() for p in self.params]}

    def compute_params(self, params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """The parameters that change the computation (the rest only change the drawing)."""
        views = {p.name for p in self.params if p.view}
        return tuple((k, v) for k, v in params.items() if k not in views)


#: Pixel attributions are scaled by this percentile of their magnitude (captum's
#: ``outlier_perc=1``), not their maximum: a few extreme pixels would hide the rest.
_PIXEL_PERCENTILE = 99.0

_ALPHA = Param("alpha", "float", 0.5, 0.0, 1.0, label="overlay opacity", view=True)
#: Deletion / insertion AUC of the map beside a random control (whylens.metrics): computed
#: from the cached explanation, so ticking it re-uses the map and costs ~2 x 17 x 4 forwards.
_TRUST = Param("trust", "bool", False, label="trust check (deletion / insertion)", view=True)


# --- feature maps
def _fmaps(model: Any, image: StoredImage, layer: str, target: int,
           params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    from whylens.torch import feature_maps

    return feature_maps(model.module, model.tensor(image.pixels), layer, callback=report,
                        progress=False, reshape_transform=_reshape_for(model, layer))


def _draw_fmaps(model: Any, image: StoredImage, exp: Any, target: int,
                params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    values = exp.values[0]  # (C, *spatial), ranked by mean activation
    channels = np.asarray(exp.labels)
    means = np.asarray(exp.base_values)[0]
    if params["order"] == "index":
        order = np.argsort(channels, kind="stable")
        values, channels, means = values[order], channels[order], means[order]
    per_page = int(params["per_page"])
    n = len(channels)
    pages = max(1, -(-n // per_page))
    page = min(int(params["page"]), pages - 1)
    sl = slice(page * per_page, (page + 1) * per_page)
    grid = pictures.channel_grid(values[sl], columns=8 if per_page >= 32 else 4,
                                 tile=96 if per_page <= 16 else 64)
    return grid, {"n_channels": n, "page": page, "pages": pages,
                  "channels": channels[sl].tolist(),
                  "means": [round(float(m), 5) for m in means[sl]],
                  "spatial": list(values.shape[1:])}


# --- filter patterns
def _patterns(model: Any, image: StoredImage, layer: str, target: int,
              params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    from whylens.torch import filter_patterns

    if layer in model.grids:
        raise InputError(describe(
            "layer", "a convolutional or linear layer for filter patterns",
            got_text=f"the token layer {layer!r}",
            fix="Filter patterns maximise a channel; a token layer's second axis is tokens."))
    info = next(i for i in model.layers if i.name == layer)
    n_channels = info.output_shape[1] if info.output_shape and len(info.output_shape) > 1 \
        else None
    start = int(params["first_channel"])
    if n_channels is not None and start >= n_channels:
        raise InputError(describe("params.first_channel",
                                  f"a channel index in [0, {n_channels})", start))
    stop = start + int(params["count"])
    if n_channels is not None:
        stop = min(stop, n_channels)
    return filter_patterns(model.module, layer, list(range(start, stop)),
                           steps=int(params["steps"]), size=int(params["size"]),
                           lr=float(params["lr"]), random_state=0,
                           input_shape=(3, int(params["size"]), int(params["size"])),
                           callback=report, progress=False)


def _draw_patterns(model: Any, image: StoredImage, exp: Any, target: int,
                   params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    pats = exp.values[0]  # (k, H, W, C)
    tiles = []
    for p in pats:
        lo, hi = np.percentile(p, [1, 99])
        tiles.append(np.clip((p - lo) / (hi - lo) if hi > lo else p * 0.0, 0.0, 1.0))
    k = len(tiles)
    cols = min(4, k)
    rows = -(-k // cols)
    h, w = tiles[0].shape[:2]
    scale = max(1, 128 // max(h, w))
    th, tw, gap = h * scale, w * scale, 2
    out = np.full((rows * (th + gap) - gap, cols * (tw + gap) - gap, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        t8 = (t * 255.0 + 0.5).astype(np.uint8)
        t8 = np.repeat(np.repeat(t8, scale, axis=0), scale, axis=1)
        r, c = divmod(i, cols)
        out[r * (th + gap) : r * (th + gap) + th, c * (tw + gap) : c * (tw + gap) + tw] = t8
    return out, {"channels": np.asarray(exp.labels).tolist(),
                 "reached": [round(float(v), 5) for v in np.asarray(exp.output)[0]]}


# --- CAMs
def _cam_compute(method: str) -> Callable[..., Any]:
    def compute(model: Any, image: StoredImage, layer: str, target: int,
                params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
        from whylens.torch import cam

        return cam(method, model.module, layer, reshape_transform=_reshape_for(model, layer))(
            model.tensor(image.pixels), target=target, callback=report, progress=False)

    return compute


def _reshape_for(model: Any, layer: str) -> Callable[[Any], Any] | None:
    """The model's reshape for a token layer it turns into a grid, else None."""
    return model.reshape_transform if layer in model.grids else None


def _heat_meta(exp: Any, lo: float, hi: float) -> dict[str, Any]:
    return {"min": round(lo, 6), "max": round(hi, 6), "n_evals": int(exp.n_evals or 0)}


def _draw_unsigned(model: Any, image: StoredImage, exp: Any, target: int,
                   params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    from whylens.plot._image import heat_map

    scaled, lo, hi = pictures.unsigned_scale(heat_map(exp))
    pixels = pictures.heat_overlay(image.pixels, scaled, cmap="jet", alpha=params["alpha"])
    return pixels, _heat_meta(exp, lo, hi)


def _draw_signed(model: Any, image: StoredImage, exp: Any, target: int,
                 params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    from whylens.plot._image import heat_map

    values = heat_map(exp)
    if values.ndim == 3:  # a layer's (C, h, w) attribution: its channels summed
        values = values.sum(axis=0)
    scaled, bound = pictures.signed_scale(values, _PIXEL_PERCENTILE)
    pixels = pictures.heat_overlay(image.pixels, scaled, cmap="bwr",
                                   alpha=min(1.0, params["alpha"] * 1.6),
                                   opacity="signed")
    meta = _heat_meta(exp, -bound, bound)
    if getattr(exp, "delta", None) is not None:
        meta["delta"] = round(float(np.abs(np.asarray(exp.delta)).max()), 6)
    return pixels, meta


def _layer_gradient_shap(model: Any, image: StoredImage, layer: str, target: int,
                         params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    import torch
    from whylens.torch import LayerGradientShap

    x = model.tensor(image.pixels)
    rng = np.random.default_rng(0)
    noise = torch.as_tensor(rng.uniform(0, 1, size=(2, *x.shape[1:])), dtype=x.dtype,
                            device=x.device)
    baselines = torch.cat([torch.zeros_like(x), noise])
    exp = LayerGradientShap(model.module, layer, n_samples=int(params["n_samples"]),
                            stdevs=float(params["stdevs"]), random_state=0)(
        x, target=target, baselines=baselines, callback=report, progress=False)
    return exp


def _draw_layer_signed(model: Any, image: StoredImage, exp: Any, target: int,
                       params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    values = np.asarray(exp.values)[0, 0]
    reshape = _reshape_for(model, exp.params.get("layer", ""))
    if reshape is not None:  # (tokens, dim) attributions onto the grid, as the activations
        import torch

        values = reshape(torch.as_tensor(values)[None]).numpy()[0]
    if values.ndim == 3:
        values = values.sum(axis=0)
    scaled, bound = pictures.signed_scale(values)
    pixels = pictures.heat_overlay(image.pixels, scaled, cmap="bwr",
                                   alpha=min(1.0, params["alpha"] * 1.6), opacity="signed")
    return pixels, _heat_meta(exp, -bound, bound)


def _baseline(image: StoredImage, kind: str) -> np.ndarray:
    if kind == "black":
        return np.zeros_like(image.pixels)
    if kind == "white":
        return np.ones_like(image.pixels)
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(image.pixels, sigma=(10, 10, 0)).astype(np.float32)


def _integrated_gradients(model: Any, image: StoredImage, layer: str, target: int,
                          params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    from whylens.torch import IntegratedGradients

    base = model.tensor(_baseline(image, params["baseline"]))
    return IntegratedGradients(model.module, n_steps=int(params["n_steps"]))(
        model.tensor(image.pixels), target=target, baselines=base, callback=report,
        progress=False)


def _smoothgrad(model: Any, image: StoredImage, layer: str, target: int,
                params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    from whylens.torch import SmoothGrad

    return SmoothGrad(model.module, nt_samples=int(params["nt_samples"]),
                      stdevs=float(params["stdevs"]), abs=True, random_state=0)(
        model.tensor(image.pixels), target=target, callback=report, progress=False)


def _draw_abs(model: Any, image: StoredImage, exp: Any, target: int,
              params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    from whylens.plot._image import heat_map

    scaled, lo, hi = pictures.unsigned_scale(np.abs(heat_map(exp)), _PIXEL_PERCENTILE)
    pixels = pictures.heat_overlay(image.pixels, scaled, cmap="inferno",
                                   alpha=min(1.0, params["alpha"] * 1.6), opacity="value")
    return pixels, _heat_meta(exp, lo, hi)


_SEGMENTATIONS = {
    "quickshift": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
    "slic": {"n_segments": 60, "compactness": 10, "start_label": 0},
    "felzenszwalb": {"scale": 200, "sigma": 0.5, "min_size": 100},
}


def segment(model: Any, image: StoredImage, algorithm: str) -> np.ndarray:
    """The (H, W) segments of ``image`` by ``algorithm``, computed once and kept."""
    from whylens.representations.image import SegmentationAlgorithm

    segments = model.segments.get((image.digest, algorithm))
    if segments is None:
        extra = {"random_seed": 0} if algorithm == "quickshift" else {}
        segments = SegmentationAlgorithm(algorithm, **_SEGMENTATIONS[algorithm], **extra)(
            image.pixels)
        model.segments.put((image.digest, algorithm), segments)
    return segments


def _lime(model: Any, image: StoredImage, layer: str, target: int,
          params: Mapping[str, Any], report: Callable[[int, int], None]) -> Any:
    from whylens.lime import LimeImageExplainer

    segments = segment(model, image, params["segmentation"])

    def seg(pixels: np.ndarray) -> np.ndarray:
        return segments  # the same image: segmented once per algorithm (LIME's slow start)

    hide = None if params["hide_color"] == "mean" else (
        0.0 if params["hide_color"] == "black" else "blur")
    explainer = LimeImageExplainer(random_state=int(params["random_state"]))
    return explainer.explain_instance(
        image.pixels, model.module, target=target, hide_color=hide,
        num_samples=int(params["num_samples"]), segmentation_fn=seg,
        class_names=model.labels, callback=report, progress=False)


def _draw_lime(model: Any, image: StoredImage, exp: Any, target: int,
               params: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    segments = exp.features.segments[0]
    weights = np.asarray(exp.values)[0, 0]
    k = int(params["num_features"])
    top = np.argsort(-np.abs(weights), kind="stable")[:k]
    shown = np.zeros_like(weights)
    shown[top] = weights[top]
    scaled, bound = pictures.signed_scale(shown[segments])
    pixels = pictures.heat_overlay(image.pixels, scaled, cmap="bwr",
                                   alpha=min(1.0, params["alpha"] * 1.6), opacity="signed")
    keep = np.isin(segments, top)
    pixels = pictures.segment_boundaries(pixels, np.where(keep, segments, -1))
    surrogate = getattr(exp, "surrogate", None)
    score = None if surrogate is None else surrogate.score
    meta = {"n_segments": int(weights.shape[0]), "min": -bound, "max": bound,
            "n_evals": int(exp.n_evals or 0),
            "top": [{"segment": int(s), "weight": round(float(weights[s]), 6)} for s in top]}
    if score is not None:
        meta["score"] = round(float(np.ravel(score)[0]), 6)
    return pixels, meta


MODES: dict[str, Mode] = {}


def _add(mode: Mode) -> None:
    MODES[mode.name] = mode


_add(Mode("feature_maps", "Feature maps", True, False, (
    Param("page", "int", 0, 0, 10_000, view=True),
    Param("per_page", "choice", 32, choices=(16, 32, 64), label="channels per page", view=True),
    Param("order", "choice", "mean", choices=("mean", "index"), label="sort by", view=True),
), _fmaps, _draw_fmaps, uses_target=False))
_add(Mode("filter_patterns", "Filter patterns", True, True, (
    Param("first_channel", "int", 0, 0, 100_000, label="first channel"),
    Param("count", "int", 8, 1, 32, label="channels"),
    Param("steps", "int", 48, 1, 512),
    Param("size", "int", 64, 16, 224),
    Param("lr", "float", 0.1, 0.0, 10.0, label="step size"),
), _patterns, _draw_patterns, uses_target=False, needs_spatial=False))
for _name, _title, _long in (("gradcam", "Grad-CAM", False), ("gradcam++", "Grad-CAM++", False),
                             ("hirescam", "HiResCAM", False), ("layercam", "LayerCAM", False),
                             ("eigencam", "EigenCAM", False), ("scorecam", "Score-CAM", True),
                             ("ablationcam", "Ablation-CAM", True)):
    _add(Mode(_name, _title, True, _long, (_ALPHA, _TRUST), _cam_compute(_name),
              _draw_unsigned, uses_target=_name != "eigencam"))
_add(Mode("layer_gradient_shap", "Layer Gradient SHAP", True, True, (
    Param("n_samples", "int", 16, 1, 256, label="samples"),
    Param("stdevs", "float", 0.0, 0.0, 1.0, label="noise"),
    _ALPHA,
    _TRUST,
), _layer_gradient_shap, _draw_layer_signed))
_add(Mode("integrated_gradients", "Integrated Gradients", False, True, (
    Param("n_steps", "int", 32, 2, 512, label="steps"),
    Param("baseline", "choice", "black", choices=("black", "white", "blur")),
    _ALPHA,
    _TRUST,
), _integrated_gradients, _draw_signed))
_add(Mode("smoothgrad", "SmoothGrad", False, True, (
    Param("nt_samples", "int", 25, 1, 256, label="samples"),
    Param("stdevs", "float", 0.15, 0.0, 1.0, label="noise"),
    _ALPHA,
    _TRUST,
), _smoothgrad, _draw_abs))
_add(Mode("lime", "LIME", False, True, (
    Param("num_samples", "int", 1000, 10, 10_000, label="samples"),
    Param("segmentation", "choice", "quickshift", choices=tuple(_SEGMENTATIONS)),
    Param("hide_color", "choice", "mean", choices=("mean", "black", "blur"),
          label="hidden segments"),
    Param("random_state", "int", 0, 0, 2**31 - 1, label="seed"),
    Param("num_features", "int", 8, 1, 100, label="segments shown", view=True),
    _ALPHA,
    _TRUST,
), _lime, _draw_lime))


def run_mode(model: Any, mode: Mode, image: StoredImage, layer: str | None,
             target: int, params: Mapping[str, Any], report: Callable[[int, int], None],
             explanation: Any = None) -> Result:
    """Compute (unless ``explanation`` is given) and draw one panel.

    Returns
    -------
    Result
    """
    start = time.perf_counter()
    if explanation is None:
        explanation = mode.compute(model, image, layer, target, params, report)
    computed = time.perf_counter() - start
    pixels, meta = mode.draw(model, image, explanation, target, params)
    meta.update({"mode": mode.name, "layer": layer if mode.uses_layer else None,
                 "target": target if mode.uses_target else None,
                 "target_label": model.labels[target] if mode.uses_target else None,
                 "seconds": round(computed, 4),
                 "draw_seconds": round(time.perf_counter() - start - computed, 4),
                 "width": int(pixels.shape[1]), "height": int(pixels.shape[0])})
    if params.get("trust"):
        from whylens.app._trust import trust_meta

        meta["trust"] = trust_meta(model, image, explanation, target, callback=report)
    return Result(explanation=explanation, meta=meta, png=pictures.png(pixels),
                  title=f"{mode.title} of {model.title}")

"""The workbench's trust figure for an image panel: deletion and insertion against chance.

:func:`trust_meta` scores the map a vision panel shows (a CAM, Integrated
Gradients, SmoothGrad, LIME ...) with :func:`whylens.metrics.deletion` and
:func:`whylens.metrics.insertion` on the class probability, beside their
random control, and returns plain JSON for the page.

The map is scored on a grid of squares (``grid`` x ``grid``, default 16 x 16),
each square's value the mean of the map over it, the squares blurred away
(deletion) or brought back (insertion) in order.

The random control is drawn at the map's own scale (``control="matched"``):
random orderings of scattered squares destroy the class faster than removing
any contiguous region, so against i.i.d. random squares a good CAM (smooth at
its layer's 7 x 7) loses to chance on deletion. The control is therefore
``control="smooth"`` of the metrics, Gaussian-smoothed random maps, with
``sigma`` (in squares) set by where the map comes from, ``L`` being the side
of the map's own cell in squares:

* a CAM or a layer attribution (``layer_values`` or a layer's (C, h, w)):
  ``L = grid / h``, ``sigma = L / 2`` (1.14 squares for 7 x 7 on 16 x 16):
  random h x w maps upsampled bilinearly and averaged over the squares have
  neighbour correlations 0.82, 0.40, 0.10 at 1, 2, 3 squares, the smooth
  control at L / 2 0.83, 0.46, 0.17;
* LIME (``features.segments``): ``L = grid * sqrt(mean segment area / image
  area)``, ``sigma = 0.35 L``: random values per segment (the photos'
  quickshift and slic segments) give 0.66-0.77 and 0.25-0.48 at 1 and 2
  squares, the smooth control at 0.35 L 0.65-0.83 and 0.18-0.47;
* pixel-level maps (Integrated Gradients, SmoothGrad, saliency): a random map
  of pixels averaged over squares is i.i.d. across squares, so the matched
  control is the i.i.d. one (``control="iid"``).

With ``grid=None`` (single pixels) the same rules hold in pixels.
``control="iid"`` forces the i.i.d. control for every map.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, NotSupportedError, describe

__all__ = ["trust_meta"]

#: Methods whose Explanation is no attribution of the class (nothing to score).
_NOT_ATTRIBUTIONS = ("torch.feature_maps", "torch.filter_patterns")


def _module_and_input(model: Any, image: Any) -> tuple[Any, np.ndarray]:
    """(the torch module, the image as a (1, 3, H, W) float32 array)."""
    import torch

    module = getattr(model, "module", model)
    if not isinstance(module, torch.nn.Module):
        raise InputTypeError(describe("model", "a VisionModel or a torch.nn.Module", model))
    pixels = np.asarray(getattr(image, "pixels", image))
    if pixels.ndim == 4 and pixels.shape[0] == 1:
        pixels = pixels[0]
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or pixels.dtype.kind not in "fiu":
        raise InputError(describe("image", "a StoredImage or (H, W, 3) pixels in [0, 1]",
                                  pixels))
    if pixels.dtype.kind in "iu":
        pixels = pixels / 255.0
    x = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32)
    return module, x


def _pixel_map(explanation: Any, target: int, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) map the panel shows for ``target`` (layer maps upsampled to the input)."""
    from whylens.explanation import Explanation
    from whylens.plot._image import heat_map

    if not isinstance(explanation, Explanation):
        raise InputTypeError(describe("explanation", "the panel's whylens Explanation",
                                      explanation))
    if explanation.method in _NOT_ATTRIBUTIONS or explanation.features.kind not in (
            "image", "layer"):
        raise NotSupportedError(describe(
            "explanation", "an attribution of the class over the image (a CAM, gradients, "
            "LIME ...)", got_text=f"a {explanation.method!r} explanation"))
    if len(explanation) != 1:
        raise InputError(describe("explanation", "the Explanation of one image",
                                  got_text=f"a batch of {len(explanation)} instances",
                                  fix="Pass exp[i], the panel's image."))
    labels = np.asarray(explanation.labels).reshape(-1)
    # a class-agnostic map (EigenCAM) is scored for the target as it is
    row = labels.tolist().index(target) if target in labels.tolist() else 0
    if explanation.features.kind == "image":
        values = heat_map(explanation, label=int(labels[row]))
        if values.shape == shape:
            return values
    else:  # a layer attribution: (C, h, w) on a convolutional layer, (T, D) on tokens
        values = np.asarray(explanation.values)[0, row]
        if values.ndim == 3 and values.shape[1] <= shape[0] and values.shape[2] <= shape[1]:
            import torch
            from whylens.torch import upsample

            # the channels summed (as the panel draws it), resized as the CAMs are
            summed = torch.as_tensor(values.sum(axis=0))[None, None]
            return upsample(summed, shape).numpy()[0, 0]
    raise NotSupportedError(describe(
        "explanation", f"a map of the image ({shape[0]} x {shape[1]}) or of a convolutional "
        "layer's (C, h, w) output", got_text=f"values of shape {values.shape} "
        f"({explanation.method!r})"))


def _squares(shape: tuple[int, int], grid: int) -> np.ndarray:
    """(H, W) ids of ``grid`` x ``grid`` near-equal squares, row by row."""
    h, w = shape
    rows = np.arange(h) * grid // h
    cols = np.arange(w) * grid // w
    return (rows[:, None] * grid + cols[None, :]).astype(np.int64)


def _grid_explanation(values: np.ndarray, squares: np.ndarray, n_squares: int,
                      target: int) -> Any:
    """An Explanation of one value per square (the map's mean over it)."""
    from whylens.explanation import Explanation, Features

    sums = np.bincount(squares.ravel(), weights=values.ravel(), minlength=n_squares)
    counts = np.bincount(squares.ravel(), minlength=n_squares)
    means = sums / np.maximum(counts, 1)
    return Explanation(
        values=means[None, None], labels=np.array([target]), method="workbench.trust_grid",
        features=Features(kind="image", names=[f"square {j}" for j in range(n_squares)],
                          segments=squares[None]))


def _matched_control(explanation: Any, shape: tuple[int, int], grid: int | None
                     ) -> dict[str, Any]:
    """The control at the map's own scale: ``kind``, ``sigma`` (cells), ``scale`` (words)."""
    cells = (1.0, 1.0) if grid is None else (grid / shape[0], grid / shape[1])  # per pixel
    layer = getattr(explanation, "layer_values", None)
    if explanation.features.kind == "layer":
        layer = np.asarray(explanation.values)
    if layer is not None and np.ndim(layer) >= 4:
        h, w = (int(s) for s in np.shape(layer)[-2:])
        side = (shape[0] / h * cells[0] + shape[1] / w * cells[1]) / 2
        return {"kind": "smooth", "sigma": round(side / 2, 6), "scale": f"layer {h}x{w}"}
    segments = explanation.features.segments
    if segments is not None:
        n_segments = int(np.unique(np.asarray(segments)[0]).size)
        side = float(np.sqrt(shape[0] * shape[1] / n_segments)) * float(np.mean(cells))
        return {"kind": "smooth", "sigma": round(0.35 * side, 6),
                "scale": f"{n_segments} segments"}
    return {"kind": "iid", "sigma": None, "scale": "pixels"}


def _summary(result: Any) -> dict[str, Any]:
    out = result.to_dict()
    out["curve"] = [round(float(v), 6) for v in np.asarray(result.curves)[0, 0]]
    return out


def trust_meta(model: Any, image: Any, explanation: Any, target: int, *, steps: int = 16,
               n_random: int = 3, grid: int | None = 16, baseline: Any = "blur",
               blur_sigma: float = 5.0, control: str = "matched", batch_size: int | None = None,
               random_state: Any = 0, callback: Callable[[int, int], Any] | None = None
               ) -> dict[str, Any]:
    """Deletion and insertion AUC of an image panel's map, beside their random control.

    The class ``target``'s probability (softmax of the module's logits) is
    recorded as the map's most important squares are blurred away (deletion:
    a faithful map makes it fall fast, lower is better) and as they are
    brought back into the blurred image (insertion: higher is better). The
    random control is the same figure for ``n_random`` random maps at the
    map's own scale (see the module). Every model evaluation (all steps of the
    map and of the random maps) runs in chunked batches through :mod:`whylens.metrics`:
    ``2 * (steps + 1) * (1 + n_random) + 1`` images in all.

    Parameters
    ----------
    model : VisionModel or torch.nn.Module
        The served model (its ``module`` is called) or a module taking
        ``(n, 3, H, W)`` images in [0, 1] and returning logits.
    image : StoredImage or ndarray of shape (H, W, 3)
        The explained image (its ``pixels``), float in [0, 1] (uint8 is
        scaled by 1/255).
    explanation : Explanation
        The panel's result: a CAM, a gradient attribution, LIME, layer
        Gradient SHAP (its layer map is upsampled to the image).
    target : int
        The explained class.
    steps : int, default=16
        Points of each curve after the first (at most the number of squares).
    n_random : int, default=3
        Random orderings in the control.
    grid : int or None, default=16
        Squares per side; None scores single pixels (see the module's note).
    baseline : {"blur", "mean", "zero"}, number or image, default="blur"
        What a removed square becomes (:func:`whylens.metrics.deletion`).
    blur_sigma : float, default=5.0
    control : {"matched", "iid"}, default="matched"
        The random maps: at the map's own scale (smooth for CAMs, layer maps
        and LIME, i.i.d. for pixel-level maps), or i.i.d. squares for all.
    batch_size : int, optional
        Images per model call (None: from the memory budget).
    random_state : int, default=0
        Seeds the random control.
    callback : callable, optional
        ``callback(done, total)`` over the images of each curve in turn;
        raising :class:`~whylens.errors.Cancelled` stops.

    Returns
    -------
    dict
        Plain JSON: ``deletion`` and ``insertion`` (each ``score``,
        ``higher_is_better``, ``random`` {``mean``, ``std``, ``n_draws``},
        ``vs_random`` (> 0: better than chance), ``params``, ``n_evals`` and
        ``curve``, the probability at each step), ``fractions`` (the curves'
        x axis), ``target``, ``probability`` (the class's probability at
        the image), ``control`` (``kind``: ``"smooth"`` or ``"iid"``,
        ``sigma`` in squares (pixels with ``grid=None``) or None, ``scale``:
        what set it, e.g. ``"layer 7x7"``, None when ``"iid"`` was asked),
        ``grid``, ``steps``, ``n_evals`` (images evaluated) and ``seconds``.

    Raises
    ------
    InputError, InputTypeError
        Not a torch model or an image, a bad ``target`` (not a class of the
        model), ``steps`` (more than the squares), ``grid`` (more squares
        per side than pixels) or ``control``.
    NotSupportedError
        Feature maps, filter patterns, or a map that does not cover the image.
    Cancelled
        The callback stopped the work.
    """
    from whylens.metrics import deletion, insertion
    from whylens.models import as_model

    start = time.perf_counter()
    module, x = _module_and_input(model, image)
    shape = (int(x.shape[2]), int(x.shape[3]))
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or target < 0:
        raise InputTypeError(describe("target", "a class index (int >= 0)", target))
    target = int(target)
    steps = check_positive_int("steps", steps)
    if control not in ("matched", "iid"):
        raise InputError(describe("control", "'matched' or 'iid'", control))
    values = _pixel_map(explanation, target, shape)
    predict = as_model(module, output="probability")
    probability = predict(x)[0]
    if target >= probability.shape[0]:
        raise InputError(describe("target", f"a class index below {probability.shape[0]}",
                                  target))
    if grid is None:
        scored: Any = values[None]
        args: dict[str, Any] = {"target": [target]}
    else:
        grid = check_positive_int("grid", grid)
        if grid > min(shape):
            raise InputError(describe("grid", f"at most the image's side ({min(shape)})", grid))
        squares = _squares(shape, grid)
        scored = _grid_explanation(values, squares, grid * grid, target)
        args = {}
    matched = _matched_control(explanation, shape, grid) if control == "matched" else {
        "kind": "iid", "sigma": None, "scale": None}
    if matched["kind"] == "smooth":
        args.update(control="smooth", control_sigma=matched["sigma"])
    common = dict(baseline=baseline, steps=steps, n_random=n_random, blur_sigma=blur_sigma,
                  batch_size=batch_size, random_state=random_state, progress=False,
                  callback=callback, **args)
    d = deletion(predict, scored, x, **common)
    i = insertion(predict, scored, x, **common)
    return {
        "deletion": _summary(d), "insertion": _summary(i),
        "fractions": [round(float(f), 6) for f in d.fractions],
        "target": target, "probability": round(float(probability[target]), 6),
        "control": matched, "grid": grid, "steps": steps, "n_evals": int(d.n_evals + i.n_evals) + 1,
        "seconds": round(time.perf_counter() - start, 4),
    }

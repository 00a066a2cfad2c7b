"""The workbench's trust figure for an image panel: deletion and insertion against chance.

:func:`trust_meta` scores the map a vision panel shows (a CAM, Integrated
Gradients, SmoothGrad, LIME ...) with :func:`whylens.metrics.deletion` and
:func:`whylens.metrics.insertion` on the class probability, beside their
random control, and returns plain JSON for the page.

The map is scored on a grid of squares (``grid`` x ``grid``, default 16 x 16),
each square's value the mean of the map over it, the squares blurred away
(deletion) or brought back (insertion) in order. Single pixels
(``grid=None``) make a poor control for images: the random control then blurs
scattered pixels, which destroys the class faster than removing any
contiguous region, so a good CAM loses to chance on deletion.
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


def _summary(result: Any) -> dict[str, Any]:
    out = result.to_dict()
    out["curve"] = [round(float(v), 6) for v in np.asarray(result.curves)[0, 0]]
    return out


def trust_meta(model: Any, image: Any, explanation: Any, target: int, *, steps: int = 16,
               n_random: int = 3, grid: int | None = 16, baseline: Any = "blur",
               blur_sigma: float = 5.0, batch_size: int | None = None, random_state: Any = 0,
               callback: Callable[[int, int], Any] | None = None) -> dict[str, Any]:
    """Deletion and insertion AUC of an image panel's map, beside their random control.

    The class ``target``'s probability (softmax of the module's logits) is
    recorded as the map's most important squares are blurred away (deletion:
    a faithful map makes it fall fast, lower is better) and as they are
    brought back into the blurred image (insertion: higher is better). The
    random control is the same figure for ``n_random`` random orderings of the
    squares. Every model evaluation (all steps of the map and of the random
    orderings) runs in chunked batches through :mod:`whylens.metrics`:
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
        the image), ``grid``, ``steps``, ``n_evals`` (images evaluated) and
        ``seconds``.

    Raises
    ------
    InputError, InputTypeError
        Not a torch model or an image, a bad ``target`` (not a class of the
        model), ``steps`` (more than the squares) or ``grid`` (more squares
        per side than pixels).
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
    common = dict(baseline=baseline, steps=steps, n_random=n_random, blur_sigma=blur_sigma,
                  batch_size=batch_size, random_state=random_state, progress=False,
                  callback=callback, **args)
    d = deletion(predict, scored, x, **common)
    i = insertion(predict, scored, x, **common)
    return {
        "deletion": _summary(d), "insertion": _summary(i),
        "fractions": [round(float(f), 6) for f in d.fractions],
        "target": target, "probability": round(float(probability[target]), 6),
        "grid": grid, "steps": steps, "n_evals": int(d.n_evals + i.n_evals) + 1,
        "seconds": round(time.perf_counter() - start, 4),
    }

"""Model-parameter randomisation check (Adebayo et al., 2018; sMPRT, Hedström et al., 2024).

A map that stays the same when the weights it should depend on are replaced
by random ones does not explain the model. The check randomises layers of a
deep copy of the model, from the output down (cascading) or one at a time
(independent), and measures how similar each map stays to the original one.
The user's model is only copied (under its lock), never called or changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens._convention import checked_callback
from whylens._locks import model_lock
from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, describe
from whylens.metrics._explain_calls import (
    attribution_rows,
    check_explain,
    check_same_shape,
    labels_of,
)
from whylens.metrics._result import RandomControl, plain
from whylens.metrics._similarity import rank_correlation

__all__ = ["RandomizationResult", "randomization_check"]

_MODES = ("cascading", "independent")


@dataclass(eq=False)
class RandomizationResult:
    """Similarity of a method's maps to the original as layers are randomised.

    Attributes
    ----------
    mode : {"cascading", "independent"}
    layers : list of str
        The randomised layers, in the order of the steps (cascading: step j
        randomises ``layers[:j + 1]``; by default from the output down).
    spearman : ndarray of shape (n_layers,)
        Mean over instances and labels of the Spearman rank correlation of
        the map after step j with the original map.
    ssim : ndarray of shape (n_layers,)
        Mean structural similarity of the 2-D maps (channels summed), each
        scaled to [0, 1]; NaN where maps are not 2-D images.
    spearman_scores, ssim_scores : ndarray of shape (n_layers, n, n_labels)
    random : dict of str to RandomControl
        The similarity of the original map to random maps of its shape.
    maps : ndarray of shape (n_layers + 1, n, n_labels, *map_shape)
        The original map (index 0), then the map after each step.
    params : dict
    """

    mode: str
    layers: list[str]
    spearman: np.ndarray
    ssim: np.ndarray
    spearman_scores: np.ndarray
    ssim_scores: np.ndarray
    random: dict[str, RandomControl]
    maps: np.ndarray
    params: dict[str, Any]

    def __repr__(self) -> str:
        return (f"RandomizationResult(mode={self.mode!r}, layers={len(self.layers)}, "
                f"spearman={np.round(self.spearman, 3).tolist()})")

    def to_dict(self) -> dict[str, Any]:
        """Per-layer figures as plain JSON numbers (NaN as None)."""
        return plain({
            "metric": "randomization_check", "higher_is_better": False, "mode": self.mode,
            "layers": self.layers,
            "spearman": self.spearman, "ssim": self.ssim,
            "random": {m: c.to_dict() for m, c in self.random.items()},
            "params": {k: v for k, v in self.params.items()
                       if v is None or isinstance(v, (str, bool, int, float))},
        })


def _torch_module(model: Any) -> Any:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputTypeError(describe(
            "model", "a torch.nn.Module (its layers are randomised)", model,
            "The check randomises a network's weights; wrap other models' weights in a "
            "module."))
    return model


def _own_parameters(module: Any) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _forward_order(model: Any, x: Any) -> list[str]:
    """Modules with parameters of their own, in the order one forward calls them.

    Hooks go on ``model`` (the check's own copy) and are removed at once; its
    training flags are restored.
    """
    import torch

    order: list[str] = []
    handles = []
    flags = [m.training for m in model.modules()]

    def record(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            if name not in order:
                order.append(name)
        return hook

    try:
        for name, module in model.named_modules():
            if _own_parameters(module):
                handles.append(module.register_forward_hook(record(name)))
        model.eval()
        with torch.no_grad():
            model(x[:1])
    finally:
        for handle in handles:
            handle.remove()
        for module, flag in zip(model.modules(), flags, strict=True):
            module.training = flag
    return order


def _check_layers(model: Any, layers: Any, x: Any) -> list[str]:
    if layers is None:
        names = _forward_order(model, x)
        if not names:
            raise InputError(describe("model", "a module with parameters to randomise",
                                      got_text=f"{type(model).__name__} without parameters "
                                               "used in its forward"))
        return names[::-1]
    if isinstance(layers, str):
        layers = [layers]
    modules = dict(model.named_modules())
    out = []
    for name in layers:
        if not isinstance(name, str) or name not in modules:
            raise InputError(describe(
                "layers", "names of the model's submodules (model.named_modules())", name,
                f"Known names: {list(modules)[1:10]}..."))
        if not any(True for _ in modules[name].parameters()):
            raise InputError(describe("layers", "layers with parameters", name))
        out.append(name)
    if not out or len(set(out)) != len(out):
        raise InputError(describe("layers", "a non-empty list of distinct layer names",
                                  layers))
    return out


def _randomize(module: Any, seed: int) -> None:
    """Re-draw a layer's own parameters: its initialiser (``reset_parameters``) under a
    forked, seeded RNG, else normal noise of each tensor's spread."""
    import torch

    params = list(module.parameters())
    devices = sorted({p.device.index or 0 for p in params if p.is_cuda})
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        submodules = [m for m in module.modules() if any(
            True for _ in m.parameters(recurse=False))]
        for sub in submodules:
            if hasattr(sub, "reset_parameters"):
                sub.reset_parameters()
            else:
                for p in sub.parameters(recurse=False):
                    std = float(p.std()) if p.numel() > 1 else 1.0
                    p.copy_(torch.randn_like(p) * (std if std > 0 else 1.0))


def _maps(values: np.ndarray) -> np.ndarray:
    return values.reshape(*values.shape[:2], -1)


def _image_maps(values: np.ndarray) -> np.ndarray | None:
    """(n, L, H, W) maps scaled to [0, 1] per map, or None when the maps are not images."""
    shape = values.shape[2:]
    if len(shape) == 3:
        values = np.abs(values).sum(axis=2)
    elif len(shape) != 2:
        return None
    if min(values.shape[2:]) < 3:
        return None
    flat = values.reshape(*values.shape[:2], -1)
    lo, hi = flat.min(axis=-1), flat.max(axis=-1)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (values - lo[..., None, None]) / span[..., None, None]


def _ssim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM of matching (n, L, H, W) maps in [0, 1]."""
    from skimage.metrics import structural_similarity

    side = min(a.shape[2:])
    win = min(7, side if side % 2 else side - 1)
    out = np.empty(a.shape[:2])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if np.array_equal(a[i, j], b[i, j]):
                out[i, j] = 1.0
            else:
                out[i, j] = structural_similarity(a[i, j], b[i, j], data_range=1.0,
                                                  win_size=win)
    return out


def randomization_check(method: Any, model: Any, x: Any, *, mode: str = "cascading",
                        layers: Any = None, target: Any = None, absolute: bool = True,
                        smooth: int = 0, noise_level: float = 0.1, n_random: int = 5,
                        random_state: Any = 0, progress: bool | None = None,
                        callback: Any = None) -> RandomizationResult:
    """Randomise a network's layers and measure how much a method's maps change.

    Parameters
    ----------
    method : callable
        ``method(model) -> explainer`` with ``explainer(x, target=...) ->
        Explanation or array``: a whylens.torch class such as
        ``whylens.torch.Saliency``, or e.g. ``lambda m: GradCAM(m, "layer4")``
        (name layers by string, or reach them through ``m``: the method is
        built on a copy).
    model : torch.nn.Module
        Deep-copied (under its lock); the copy is randomised. The user's
        model is never called: its parameters, buffers, hooks, training flag
        and ``requires_grad`` flags are exactly as before.
    x : Tensor of shape (n, ...)
        Inputs, on the model's device.
    mode : {"cascading", "independent"}, default="cascading"
        ``"cascading"``: step j randomises the first j + 1 of ``layers``
        together (from the output down); ``"independent"``: only layer j.
    layers : sequence of str, optional
        Names of the layers to randomise (``model.named_modules()``), in step
        order. Default: every module with parameters of its own that the
        forward uses, from the output down (the reverse of the order one
        forward of ``x[:1]`` on the copy calls them).
    target : None, int or sequence of length n, optional
        The output explained; None is each row's predicted class by the
        *original* model, kept for every randomised model.
    absolute : bool, default=True
        Compare ``|map|`` (Adebayo et al. report both).
    smooth : int, default=0
        sMPRT: average each map over this many noisy copies of x (noise
        N(0, (noise_level * (max(x) - min(x)))^2), the same draws for every
        step). 0: no smoothing.
    noise_level : float, default=0.1
    n_random : int, default=5
        Random maps of the same shape compared with the original (the
        similarity of unrelated maps).
    random_state : int or Generator, default=0
        Seeds the randomised weights (layer j of a run gets the same weights
        in both modes), the noise and the control.
    progress : bool, optional
        A tqdm bar over the maps computed.
    callback : callable, optional
        ``callback(done, total)`` after each map; returning False or raising
        :class:`~whylens.errors.Cancelled` stops.

    Returns
    -------
    RandomizationResult

    Raises
    ------
    InputError, InputTypeError
        Not a torch module, an unknown mode or layer, a bad count.
    ModelOutputError
        The explainer returned something other than attributions.
    """
    import torch

    model = _torch_module(model)
    check_explain(method, "method")
    if mode not in _MODES:
        raise InputError(describe("mode", f"one of {_MODES}", mode))
    smooth = check_positive_int("smooth", smooth, minimum=0)
    n_random = check_positive_int("n_random", n_random, minimum=0)
    if isinstance(noise_level, bool) or not isinstance(noise_level, (int, float)) or \
            not noise_level > 0:
        raise InputError(describe("noise_level", "a positive number", noise_level))
    if not isinstance(x, torch.Tensor):
        raise InputTypeError(describe("x", "a torch.Tensor of inputs (n, ...)", x))
    callback = checked_callback(callback)
    rng = check_random_state(random_state)
    with model_lock(model):
        work = copy.deepcopy(model)
    names = _check_layers(work, layers, x)
    seeds = rng.integers(0, 2**31 - 1, size=len(names))
    n = int(x.shape[0])
    inputs = [x]
    if smooth:
        xs = x.detach().to("cpu", torch.float64).numpy()
        scale = float(noise_level) * float(xs.max() - xs.min() or 1.0)
        noise = rng.normal(scale=scale, size=(smooth, *xs.shape))
        inputs = [torch.as_tensor(xs + e, dtype=x.dtype, device=x.device) for e in noise]
    total = len(names) + 1
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="whylens: randomization_check", leave=False)
    done = [0]

    def explain(net: Any, pinned: Any) -> tuple[np.ndarray, Any]:
        explainer = method(net)
        parts = []
        for xi in inputs:
            out = explainer(xi) if pinned is None else explainer(xi, target=pinned)
            parts.append(attribution_rows(out, n, "method"))
            if pinned is None:
                labels = labels_of(out)
                if labels is not None and labels.shape[1] == 1:
                    pinned = labels[:, 0].tolist()
        done[0] += 1
        if bar is not None:
            bar.update(1)
        if callback is not None:
            callback(done[0], total)
        return np.mean(parts, axis=0), pinned

    try:
        original, pinned = explain(work, target)
        maps = [original]
        pristine = copy.deepcopy(work) if mode == "independent" else None
        for j, name in enumerate(names):
            if mode == "independent" and j:
                work = copy.deepcopy(pristine)
            _randomize(work.get_submodule(name), int(seeds[j]))
            values, _ = explain(work, pinned)
            check_same_shape(values, original, "layer")
            maps.append(values)
    finally:
        if bar is not None:
            bar.close()
    maps_arr = np.stack(maps)
    compared = np.abs(maps_arr) if absolute else maps_arr
    flat = _maps(compared[0])
    spearman = np.stack([rank_correlation(flat, _maps(m)) for m in compared[1:]])
    images = [_image_maps(m) for m in compared]
    ssim = np.stack([np.full((n, flat.shape[1]), np.nan) if images[0] is None or im is None
                     else _ssim(images[0], im) for im in images[1:]])
    random = {}
    if n_random:
        sp, ss = [], []
        for _ in range(n_random):
            r = rng.standard_normal(compared[0].shape)
            r = np.abs(r) if absolute else r
            sp.append(float(rank_correlation(flat, _maps(r)).mean()))
            noise_map = _image_maps(r)
            if images[0] is not None and noise_map is not None:
                ss.append(float(_ssim(images[0], noise_map).mean()))
        random["spearman"] = RandomControl.from_scores(sp)
        if ss:
            random["ssim"] = RandomControl.from_scores(ss)
    params = {"mode": mode, "absolute": bool(absolute), "smooth": smooth,
              "noise_level": float(noise_level), "random_state": random_state,
              "target": pinned}
    return RandomizationResult(
        mode=mode, layers=names, spearman=spearman.mean(axis=(1, 2)),
        ssim=ssim.mean(axis=(1, 2)), spearman_scores=spearman, ssim_scores=ssim,
        random=random, maps=maps_arr, params=params)

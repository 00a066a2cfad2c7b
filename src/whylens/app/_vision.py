"""The vision view's served model: a CNN, its layers, its images, and the plan of a request.

A :class:`VisionModel` is a PyTorch module taking ``(n, 3, size, size)``
images in [0, 1] (with an optional ``preprocess`` in front), its class names
and a few images. A request names one of the modes of
:data:`whylens.app._vision_modes.MODES` (one library call and a drawing of
its Explanation); the workbench runs it in the model's worker and caches it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from whylens.app._images import ImageStore, StoredImage, square_resize
from whylens.app._params import parse_params
from whylens.app._served import Cache, Plan, Result
from whylens.app._vision_modes import MODES, run_mode, segment
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["VisionModel"]


def _default_preprocess_module(module: Any, preprocess: Callable[[Any], Any] | None) -> Any:
    if preprocess is None:
        return module
    import torch

    class Preprocessed(torch.nn.Module):
        """``preprocess`` (on [0, 1] images) in front of the served network."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Any) -> Any:
            return self.net(preprocess(x))

    return Preprocessed(module)


class VisionModel:
    """A PyTorch image classifier served by the workbench.

    Parameters
    ----------
    module : torch.nn.Module
        Takes ``(n, 3, size, size)`` float images in [0, 1] (after
        ``preprocess``) and returns ``(n, n_classes)`` logits.
    labels : sequence of str, optional
        Class names (default ``"0"``, ``"1"``, ...).
    images : mapping of str to array, optional
        Pictures offered in the picker: (H, W, 3) arrays (uint8, or float in
        [0, 1]); center-cropped and resized to ``size``.
    preprocess : callable, optional
        ``preprocess(x)`` maps a [0, 1] batch to what ``module`` takes (e.g.
        ImageNet normalisation); it becomes part of the explained network, so
        its layers are named ``net.<name>``.
    size : int, default=224
        Side of the square input.
    title : str, optional
        Shown in the page.
    reshape_transform : callable, optional
        For vision transformers: maps a token layer's output ``(n, tokens,
        dim)`` to a grid ``(n, dim, h, w)``
        (:func:`whylens.torch.vit_reshape_transform`, as pytorch-grad-cam's).
        Token layers it reshapes are shown with their grid shape and get
        feature maps, CAMs and layer Gradient SHAP on the grid.

    Raises
    ------
    InputTypeError
        ``module`` is not a torch module, or images are not arrays.
    InputError
        A bad size, label list or image.
    """

    kind = "vision"

    def __init__(self, module: Any, *, labels: Sequence[str] | None = None,
                 images: Mapping[str, Any] | None = None,
                 preprocess: Callable[[Any], Any] | None = None, size: int = 224,
                 title: str | None = None,
                 reshape_transform: Callable[[Any], Any] | None = None) -> None:
        import torch
        from whylens.torch import default_layer, layers

        if not isinstance(module, torch.nn.Module):
            raise InputTypeError(describe("module", "a torch.nn.Module", module))
        if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 1024:
            raise InputError(describe("size", "an int in [8, 1024]", size))
        self.module = _default_preprocess_module(module, preprocess)
        #: Makes this model's intermediate results its own in a cache shared by models.
        self._token = uuid.uuid4().hex
        self.size = size
        self.title = title or type(module).__name__
        self.images = ImageStore()
        #: Segmentations of recent images, by (digest, algorithm): a second LIME run on an
        #: image (another seed, more samples) starts sampling at once.
        self.segments = _Recent(32)
        example = torch.zeros((1, 3, size, size), dtype=_float_dtype(self.module))
        if reshape_transform is not None and not callable(reshape_transform):
            raise InputTypeError(describe("reshape_transform", "a function of a tensor",
                                          reshape_transform))
        self.reshape_transform = reshape_transform
        self.layers = layers(self.module, example)
        #: Token layers the reshape turns into a grid: name -> the grid's shape.
        self.grids = _grids(self.layers, reshape_transform)
        if self.grids:
            import dataclasses

            self.layers = [dataclasses.replace(i, output_shape=self.grids[i.name], spatial=True)
                           if i.name in self.grids else i for i in self.layers]
            self.default_layer = max((i for i in self.layers if i.name in self.grids),
                                     key=lambda i: i.order).name
        else:
            self.default_layer = default_layer(self.module, example)
        from whylens.models._torch import module_device

        self.device = module_device(self.module)
        probs = self._probabilities(np.zeros((1, size, size, 3), np.float32))
        self.n_classes = int(probs.shape[1])
        if labels is None:
            labels = [str(i) for i in range(self.n_classes)]
        labels = [str(v) for v in labels]
        if len(labels) != self.n_classes:
            raise InputError(describe("labels", f"{self.n_classes} class names (the model's "
                                      "outputs)", got_text=f"{len(labels)} names"))
        self.labels = labels
        self.bundled: list[StoredImage] = []
        for name, image in (images or {}).items():
            arr = np.asarray(image)
            if arr.ndim != 3 or arr.shape[2] not in (3, 4):
                raise InputError(describe(f"images[{name!r}]", "an (H, W, 3) RGB array", arr))
            self.bundled.append(self.images.add(square_resize(arr[..., :3], size), str(name),
                                                pinned=True))

    # ------------------------------------------------------------------ model calls
    def tensor(self, pixels: np.ndarray) -> Any:
        """(H, W, 3) or (n, H, W, 3) pixels as the module's (n, 3, H, W) input tensor."""
        import torch

        arr = np.asarray(pixels, dtype=np.float32)
        if arr.ndim == 3:
            arr = arr[None]
        t = torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))
        return t.to(device=self.device, dtype=_float_dtype(self.module))

    def _probabilities(self, pixels: np.ndarray) -> np.ndarray:
        from whylens._locks import model_lock
        from whylens.models._torch import torch_predict_fn

        with model_lock(self.module):
            return torch_predict_fn(self.module, probability=True)(self.tensor(pixels))

    def top_classes(self, image: StoredImage, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` most probable classes of an image: ``[{"index", "label", "p"}]``."""
        p = self._probabilities(image.pixels)[0]
        order = np.argsort(-p, kind="stable")[:k]
        return [{"index": int(i), "label": self.labels[i], "p": float(p[i])} for i in order]

    def check_layer(self, layer: Any) -> str:
        """Return ``layer`` if it is a named layer of the model, else raise :class:`InputError`."""
        names = {info.name for info in self.layers}
        if not isinstance(layer, str) or layer not in names:
            raise InputError(describe("layer", "a layer name of GET /api/models/{model}",
                                      layer, f"For example {self.default_layer!r}."))
        return layer

    def check_target(self, target: Any) -> int:
        """Return ``target`` if it is a class index of the model, else raise."""
        if isinstance(target, bool) or not isinstance(target, int):
            raise InputTypeError(describe("target", "a class index (int)", target))
        if not 0 <= target < self.n_classes:
            raise InputError(describe("target", f"a class index in [0, {self.n_classes})",
                                      target))
        return target

    def warm_segments(self, image: StoredImage, algorithm: str = "quickshift") -> None:
        """Segment ``image`` in a background thread for LIME's default segmentation.

        The page asks for the top classes of every image it shows; segmenting
        it then (off the model's worker, no model call) lets a LIME click start
        sampling, and reporting progress, at once.
        """
        if self.segments.get((image.digest, algorithm)) is not None:
            return
        import threading

        threading.Thread(target=segment, args=(self, image, algorithm),
                         name="whylens-segments", daemon=True).start()

    def image(self, digest: Any) -> StoredImage:
        """The stored image with this id, else raise :class:`InputError`."""
        image = self.images.get(digest) if isinstance(digest, str) else None
        if image is None:
            raise InputError(describe("image", "the id of a bundled or uploaded image",
                                      digest, "Upload it with POST /api/models/{model}/images."))
        return image

    def plan(self, body: dict[str, Any], cache: Cache) -> Plan:
        """Check an explain request and plan it.

        ``body``: ``{"image": id, "mode": name, "layer": name, "target": int,
        "params": {...}}``; ``mode="predict"`` returns the top-5 classes.
        ``target`` defaults to the image's most probable class.

        Raises
        ------
        InputError, InputTypeError
            Unknown image, mode, layer or class; a parameter out of range.
        """
        image = self.image(body.get("image"))
        mode_name = body.get("mode")
        if mode_name == "predict":
            def predict(report: Any) -> Result:
                classes = self.top_classes(image)
                self.warm_segments(image)
                return Result(None, {"classes": classes})

            return Plan(("predict", image.digest), predict)
        mode = MODES.get(mode_name) if isinstance(mode_name, str) else None
        if mode is None:
            raise InputError(describe("mode", f"one of {['predict', *MODES]}", mode_name))
        layer = self.check_layer(body.get("layer", self.default_layer)) if mode.uses_layer \
            else None
        if layer is not None and mode.needs_spatial:
            info = next(i for i in self.layers if i.name == layer)
            if not info.spatial:
                shape = "no tensor output" if info.output_shape is None \
                    else f"output {list(info.output_shape)}"
                raise InputError(describe(
                    "layer", f"a layer with a spatial output (n, C, H, W) for {mode.title}",
                    got_text=f"{layer!r} with {shape}",
                    fix=f"Pick a convolutional layer, e.g. {self.default_layer!r}; filter "
                        "patterns work on any layer."))
        target = body.get("target")
        target = None if target is None or not mode.uses_target else self.check_target(target)
        params = parse_params(mode.params, body.get("params"))
        compute_key = ("explanation", self._token, image.digest, mode.name, layer, target,
                       mode.compute_params(params))
        key = (*compute_key, tuple(params.items()))

        def run(report: Any) -> Result:
            if not mode.uses_target:
                chosen = 0  # not used
            elif target is None:
                chosen = self.top_classes(image, 1)[0]["index"]
            else:
                chosen = target
            exp_key = (*compute_key[:5], chosen, compute_key[6])
            exp = cache.get(exp_key)
            result = run_mode(self, mode, image, layer, chosen, params, report, exp)
            cache.put(exp_key, result.explanation)
            return result

        return Plan(key, run, long=mode.long)

    def info(self) -> dict[str, Any]:
        """What the page needs to draw the view (JSON-ready)."""
        return {
            "kind": self.kind, "title": self.title, "size": self.size,
            "n_classes": self.n_classes, "default_layer": self.default_layer,
            "layers": [{"name": i.name, "kind": i.kind,
                        "shape": None if i.output_shape is None else list(i.output_shape),
                        "spatial": i.spatial, "n_params": i.n_params, "order": i.order,
                        "depth": i.name.count(".")} for i in self.layers],
            "images": [{"id": im.digest, "name": im.name} for im in self.bundled],
            "modes": [m.schema() for m in MODES.values()],
        }


def _grids(infos: Sequence[Any], reshape: Callable[[Any], Any] | None
           ) -> dict[str, tuple[int, ...]]:
    """The token layers (3-D outputs) that ``reshape`` turns into (n, C, h, w) grids."""
    if reshape is None:
        return {}
    import torch

    out = {}
    for info in infos:
        if info.output_shape is None or len(info.output_shape) != 3 or info.order < 0:
            continue
        try:
            grid = reshape(torch.zeros(info.output_shape))
        except Exception:  # not a token layer this reshape understands
            continue
        if isinstance(grid, torch.Tensor) and grid.ndim == 4 and grid.shape[2] * grid.shape[3] > 1:
            out[info.name] = tuple(int(v) for v in grid.shape)
    return out


class _Recent:
    """A small least-recently-used dict, safe from several threads."""

    def __init__(self, size: int) -> None:
        import collections
        import threading

        self._size = size
        self._items: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _float_dtype(module: Any) -> Any:
    from whylens.models._torch import _module_float_dtype

    return _module_float_dtype(module)

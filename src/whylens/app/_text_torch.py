"""The text view's network: Integrated Gradients on a served text model's embedding layer.

:class:`TorchTextMixin` gives :class:`whylens.app._text.TextModel` its
``torch_module``: attaching it (at once, or later from a background loader),
turning a sentence into token ids, and explaining one sentence with
:class:`whylens.torch.LayerIntegratedGradients`, one value per token.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe

__all__ = ["TorchTextMixin"]


def _embedding_layer(module: Any) -> str:
    import torch

    for name, sub in module.named_modules():
        if name and isinstance(sub, torch.nn.Embedding):
            return name
    raise InputError(describe("torch_module", "a network with a torch.nn.Embedding layer "
                              "(Integrated Gradients attributes its output)",
                              got_text=f"{type(module).__name__} without one"))


class TorchTextMixin:
    """The network half of :class:`whylens.app._text.TextModel`.

    The class using it sets ``n_classes``, ``class_names``, ``examples`` and
    a ``threading.Lock`` ``_lock``, and ``_torch = _torch_unready =
    _torch_loader = None`` before calling :meth:`attach_torch`.
    """

    n_classes: int
    class_names: list[str]
    examples: list[str]
    _lock: threading.Lock
    _torch: tuple[Any, Any, str, str] | None
    _torch_unready: str | None
    _torch_loader: Callable[[], tuple[Any, Any, str]] | None

    def attach_torch(self, module: Any, encode: Any, *, returns: str = "logits") -> None:
        """Offer Integrated Gradients on ``module`` (see TextModel's parameters).

        Raises
        ------
        InputTypeError, InputError
            Not a module, no embedding layer, outputs that do not match the classes.
        """
        import torch
        from whylens.models._torch import check_returns

        if not isinstance(module, torch.nn.Module):
            raise InputTypeError(describe("torch_module", "a torch.nn.Module", module))
        if not callable(encode) and not hasattr(encode, "to_tokens"):
            raise InputTypeError(describe("encode", "a function text -> token ids, or a "
                                          "TokenIdRepresentation", encode))
        returns = check_returns(returns)
        layer = _embedding_layer(module)
        entry = (module, encode, layer, returns)
        width = self._torch_outputs(entry, self.examples[0] if self.examples else "a").shape[1]
        if width != self.n_classes and not (width == 1 and self.n_classes == 2):
            raise InputError(describe("torch_module", f"{self.n_classes} outputs (or one for "
                                      "two classes)", got_text=f"{width} outputs"))
        with self._lock:
            self._torch = entry
            self._torch_unready = None

    def torch_unready(self, reason: str) -> None:
        """List Integrated Gradients but refuse it with ``reason`` until :meth:`attach_torch`."""
        with self._lock:
            self._torch = None
            self._torch_unready = str(reason)

    def defer_torch(self, load: Callable[[], tuple[Any, Any, str]], reason: str) -> None:
        """Offer Integrated Gradients once ``load()`` has built the network (e.g. trained it).

        ``load() -> (torch_module, encode, returns)`` runs in a background
        thread started by the first request for this model (its info or an
        explanation), so a server starts without waiting for it; until it
        returns, Integrated Gradients answers ``reason`` (a 400). When it
        raises, the mode answers why.
        """
        with self._lock:
            self._torch = None
            self._torch_unready = str(reason)
            self._torch_loader = load

    def _start_loader(self) -> None:
        with self._lock:
            load, self._torch_loader = self._torch_loader, None
        if load is None:
            return

        def work() -> None:
            try:
                module, encode, returns = load()
                self.attach_torch(module, encode, returns=returns)
            except Exception as exc:  # reported by the mode; the server keeps running
                self.torch_unready(f"Building the network failed: {type(exc).__name__}: {exc}")

        threading.Thread(target=work, name="whylens-app-text-torch", daemon=True).start()

    def _torch_entry(self) -> tuple[Any, Any, str, str]:
        self._start_loader()
        with self._lock:
            entry, reason = self._torch, self._torch_unready
        if entry is None:
            raise InputError(describe(
                "mode", "a mode this model can run now", "integrated_gradients",
                reason or "Integrated Gradients needs TextModel(torch_module=, encode=)."))
        return entry

    @staticmethod
    def _ids(entry: tuple[Any, Any, str, str], text: str) -> tuple[Any, Any]:
        """``(ids (1, L) tensor on the module's device, EncodedText or None)``."""
        import torch
        from whylens.models._torch import module_device

        module, encode, _, _ = entry
        if hasattr(encode, "to_tokens"):
            encoded = encode.encode([text])
            ids = torch.as_tensor(encoded.ids)
        else:
            encoded = None
            ids = torch.as_tensor(encode(text))
            if ids.ndim == 1:
                ids = ids[None]
            if ids.ndim != 2 or ids.shape[0] != 1 or ids.dtype.is_floating_point:
                raise InputError(describe("encode", "a (L,) or (1, L) tensor of token ids",
                                          got_text=f"{tuple(ids.shape)} {ids.dtype}"))
        return ids.to(module_device(module)), encoded

    def _torch_outputs(self, entry: tuple[Any, Any, str, str], text: str) -> np.ndarray:
        from whylens.models._torch import torch_predict_fn

        ids, _ = self._ids(entry, text)
        return np.asarray(torch_predict_fn(entry[0])(ids), dtype=np.float64).reshape(1, -1)

    def _torch_probabilities(self, entry: tuple[Any, Any, str, str], text: str) -> np.ndarray:
        from whylens.models._torch import torch_predict_fn

        ids, _ = self._ids(entry, text)
        fn = torch_predict_fn(entry[0], probability=True, returns=entry[3])
        return np.asarray(fn(ids), dtype=np.float64)

    def _integrated_gradients(self, entry: Any, text: str, tokenizer: str, target: int,
                              params: dict[str, Any], report: Callable[[int, int], None]) -> Any:
        import torch
        from whylens.torch import LayerIntegratedGradients

        module, encode, layer, returns = entry
        ids, encoded = self._ids(entry, text)
        width = self._torch_outputs(entry, text).shape[1]
        output = target if width == self.n_classes else 0
        ig = LayerIntegratedGradients(module, layer, n_steps=params["n_steps"])
        if encoded is not None:  # a TokenIdRepresentation: padding baseline, its tokens
            exp = encode.explain(ig, text, target=output, progress=False, callback=report)
        else:
            from whylens.text import get_tokenizer

            tokens = get_tokenizer(tokenizer)(text)
            if ids.shape[1] != len(tokens):
                raise InputError(describe(
                    "encode", f"one token id per {tokenizer!r} token ({len(tokens)})",
                    got_text=f"{ids.shape[1]} ids",
                    fix="Pass a TokenIdRepresentation as encode= to map ids to tokens."))
            raw = ig(ids, target=output, baselines=torch.zeros_like(ids), progress=False,
                     callback=report)
            exp = _per_token(raw, text, tokens, tokenizer)
        if width == 1 and target == 0:  # one output: class 1's score; class 0 is its opposite
            flip = (lambda a: 1.0 - a) if returns == "probability" else (lambda a: -a)
            exp = dataclasses.replace(
                exp, values=-exp.values,
                base_values=None if exp.base_values is None else flip(exp.base_values),
                output=None if exp.output is None else flip(exp.output),
                delta=None if exp.delta is None else -exp.delta,
                layer_values=None if exp.layer_values is None else -exp.layer_values)
        return dataclasses.replace(exp, labels=np.array([target]),
                                   output_names=[self.class_names[target]])


def _per_token(exp: Any, text: str, tokens: Sequence[Any], tokenizer: str) -> Any:
    """An attribution over id positions (n=1, 1, L, ...) as one value per token."""
    from whylens.explanation import Explanation, Features

    v = np.asarray(exp.values, dtype=np.float64)
    per_pos = v.reshape(*v.shape[:3], -1).sum(axis=3)
    params = dict(exp.params)
    params["tokenizer"] = tokenizer
    return Explanation(
        values=per_pos, labels=exp.labels, method=exp.method,
        features=Features(kind="text", names=[t.text for t in tokens], texts=[text],
                          spans=[[[[t.start, t.end]] for t in tokens]]),
        mode=exp.mode, output=exp.output, output_names=exp.output_names,
        base_values=exp.base_values, params=params, n_evals=exp.n_evals, delta=exp.delta)

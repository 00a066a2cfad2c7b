"""The text view: a served text classifier and the weight of each token of a sentence.

A :class:`TextModel` is a ``predict_proba(list of str)`` function (or a
scikit-learn pipeline) with its class names, and optionally the PyTorch
network behind it. A request names a sentence, a tokenizer (``"word"``, or
Korean morphemes with ``"kiwi"``) and a mode: LIME
(:class:`whylens.lime.LimeTextExplainer`), Permutation SHAP over the same
tokens (:class:`whylens.shap.PermutationExplainer` with a
:class:`whylens.shap.TextMasker`), or Integrated Gradients on the network's
embedding layer (:class:`whylens.torch.LayerIntegratedGradients`). Every result
gives each token of the sentence its character offsets ``[start, end)`` and
its weight; the page highlights them, and a PNG is drawn only when a panel is
exported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens.app._panels import PanelMode, check_mode, check_target, figure_png, top_classes
from whylens.app._params import Param, parse_params
from whylens.app._served import Cache, Plan, Result
from whylens.app._text_torch import TorchTextMixin
from whylens.errors import InputError, InputTypeError, describe

__all__ = ["MAX_TEXT", "TEXT_MODES", "TextModel"]

#: Longest sentence (characters) a request may send.
MAX_TEXT = 5000

#: Tokenizers a TextModel may offer, and the module each needs.
_TOKENIZER_NEEDS = {"word": None, "char": None, "kiwi": "kiwipiepy", "mecab": "mecab"}

_SEED = Param("random_state", "int", 0, 0, 2**31 - 1, label="seed")

TEXT_MODES: dict[str, PanelMode] = {
    "lime": PanelMode("lime", "LIME", True, (
        Param("num_samples", "int", 1000, 10, 10_000, label="samples"),
        Param("bow", "bool", True, label="bag of words"),
        _SEED,
    )),
    "shap": PanelMode("shap", "Permutation SHAP", True, (
        Param("max_evals", "int", 500, 10, 20_000, label="model evaluations"),
        _SEED,
    )),
    "integrated_gradients": PanelMode("integrated_gradients", "Integrated Gradients", True, (
        Param("n_steps", "int", 32, 2, 512, label="steps"),
    )),
}


def _available(name: str) -> bool:
    need = _TOKENIZER_NEEDS[name]
    return need is None or importlib.util.find_spec(need) is not None


def _probabilities_fn(predict_proba: Any) -> Callable[[list[str]], Any]:
    method = getattr(predict_proba, "predict_proba", None)
    if callable(method):
        return method
    if callable(predict_proba):
        return predict_proba
    raise InputTypeError(describe(
        "predict_proba", "a function of a list of str returning (n, n_classes) probabilities, "
        "or a scikit-learn text pipeline", predict_proba))


def _warm_kiwi() -> None:
    """Load the shared kiwi analyser (a failure shows up, clearly, on the first request)."""
    from whylens.text import get_tokenizer

    try:
        get_tokenizer("kiwi")("워밍업")
    except Exception:  # the first request that needs kiwi reports it
        pass


class TextModel(TorchTextMixin):
    """A text classifier served by the workbench.

    Parameters
    ----------
    predict_proba : callable or scikit-learn pipeline
        ``predict_proba(list of n str) -> (n, n_classes)`` probabilities, or an
        estimator with that method (e.g. TF-IDF + naive Bayes). LIME, SHAP
        and the predictions use it.
    class_names : sequence of str
        Names of its outputs.
    tokenizers : sequence of str, default=("word", "kiwi")
        Tokenizers offered (:func:`whylens.text.get_tokenizer` names); those
        whose package is missing (kiwipiepy for ``"kiwi"``) are left out.
        The first is the default of a request.
    examples : sequence of str, optional
        Sentences the page offers.
    title : str, optional
    torch_module : torch.nn.Module, optional
        The network behind the classifier, for Integrated Gradients on its
        (first) ``torch.nn.Embedding`` layer. Needs ``encode``.
    encode : callable or TokenIdRepresentation, optional
        ``encode(text) -> (L,) or (1, L)`` token-id tensor with one id per
        token of the request's tokenizer; or a
        :class:`whylens.representations.TokenIdRepresentation` (its own
        tokenizer, vocabulary, padding), whose tokens then carry the weights.
    torch_returns : {"logits", "probability"}, default="logits"
        What ``torch_module`` returns: logits, or values that already went
        through a sigmoid or softmax. With one output for two classes, the
        output is class 1's and class 0's attributions are its negation.

    Raises
    ------
    InputTypeError
        ``predict_proba`` or ``torch_module`` of the wrong type.
    InputError
        Class names that do not match the outputs, an unknown tokenizer, a
        bad example, ``torch_module`` without ``encode`` (or the reverse).
    """

    kind = "text"

    def __init__(self, predict_proba: Any, class_names: Sequence[str], *,
                 tokenizers: Sequence[str] = ("word", "kiwi"), examples: Sequence[str] = (),
                 title: str | None = None, torch_module: Any = None, encode: Any = None,
                 torch_returns: str = "logits") -> None:
        self._predict = _probabilities_fn(predict_proba)
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise InputTypeError(describe("class_names", "a sequence of str", class_names))
        self.class_names = [str(c) for c in class_names]
        if isinstance(tokenizers, str) or not isinstance(tokenizers, Sequence):
            raise InputTypeError(describe("tokenizers", "a sequence of tokenizer names",
                                          tokenizers))
        for name in tokenizers:
            if name not in _TOKENIZER_NEEDS:
                raise InputError(describe("tokenizers", f"names among {list(_TOKENIZER_NEEDS)}",
                                          name))
        self.tokenizers = [t for t in dict.fromkeys(tokenizers) if _available(t)]
        if not self.tokenizers:
            raise InputError(describe("tokenizers", "at least one tokenizer whose package is "
                                      "installed", list(tokenizers), "Add 'word'."))
        self.examples = [self._check_text(e, "examples") for e in examples]
        if "kiwi" in self.tokenizers:  # kiwi's model takes seconds to load: not on a click
            threading.Thread(target=_warm_kiwi, name="whylens-kiwi-warmup", daemon=True).start()
        self.title = title or type(predict_proba).__name__
        probe = self.probabilities([self.examples[0] if self.examples else "a"])
        if probe.shape[1] != len(self.class_names):
            raise InputError(describe("class_names", f"{probe.shape[1]} names (the model's "
                                      "outputs)", got_text=f"{len(self.class_names)} names"))
        self.n_classes = len(self.class_names)
        self._lock = threading.Lock()
        self._torch: tuple[Any, Any, str, str] | None = None
        self._torch_unready: str | None = None
        self._torch_loader: Callable[[], tuple[Any, Any, str]] | None = None
        if (torch_module is None) != (encode is None):
            raise InputError(describe("encode" if encode is None else "torch_module",
                                      "torch_module and encode given together", None,
                                      "Integrated Gradients needs the network and how a "
                                      "text becomes its token ids."))
        if torch_module is not None:
            self.attach_torch(torch_module, encode, returns=torch_returns)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_text(text: Any, argument: str = "text") -> str:
        if not isinstance(text, str):
            raise InputTypeError(describe(argument, "a str (the sentence)", text))
        if not text.strip():
            raise InputError(describe(argument, "a non-empty sentence", text))
        if len(text) > MAX_TEXT:
            raise InputError(describe(argument, f"at most {MAX_TEXT} characters",
                                      got_text=f"{len(text)} characters",
                                      fix="Explain a shorter passage."))
        return text

    def _check_tokenizer(self, name: Any) -> str:
        if name is None:
            return self.tokenizers[0]
        if not isinstance(name, str) or name not in self.tokenizers:
            fix = None
            if name in _TOKENIZER_NEEDS and name not in self.tokenizers:
                fix = (f"{name!r} is not offered by this model"
                       + (f" ({_TOKENIZER_NEEDS[name]} is not installed)."
                          if not _available(name) else "."))
            raise InputError(describe("tokenizer", f"one of {self.tokenizers}", name, fix))
        return name

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """``predict_proba(texts)`` as a float (n, n_classes) array.

        Raises
        ------
        ModelOutputError
            The function returned no (n, k) array.
        """
        from whylens.errors import ModelOutputError

        p = np.asarray(self._predict(texts), dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != len(texts):
            raise ModelOutputError(describe("predict_proba", f"an array of shape "
                                            f"({len(texts)}, n_classes)",
                                            got_text=f"shape {p.shape}"))
        return p

    # ------------------------------------------------------------------ the served protocol
    def info(self) -> dict[str, Any]:
        """What the page needs to draw the view (JSON-ready)."""
        self._start_loader()
        with self._lock:
            has_torch = self._torch is not None
            unready = self._torch_unready
        modes = []
        for mode in TEXT_MODES.values():
            if mode.name == "integrated_gradients":
                if not has_torch and unready is None:
                    continue
                modes.append({**mode.schema(), "ready": has_torch,
                              "unready": None if has_torch else unready})
            else:
                modes.append(mode.schema())
        return {"kind": self.kind, "title": self.title, "class_names": list(self.class_names),
                "tokenizers": list(self.tokenizers), "modes": modes,
                "examples": list(self.examples)}

    def plan(self, body: dict[str, Any], cache: Cache) -> Plan:
        """Check a text request and plan it.

        ``body``: ``{"mode", "text", "tokenizer", "target", "params"}``;
        ``mode="predict"`` gives the top classes; ``target`` defaults to the
        most probable class.

        Raises
        ------
        InputError, InputTypeError
            An unknown mode or tokenizer, an empty or too long text, a target
            out of range, a parameter out of range; Integrated Gradients on a
            model without (or still training) its network.
        """
        mode = check_mode(body.get("mode"), TEXT_MODES)
        text = self._check_text(body.get("text"))
        tokenizer = self._check_tokenizer(body.get("tokenizer"))
        target = check_target(body.get("target"), self.n_classes)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if mode is None:
            return Plan(("predict", digest), lambda report: Result(
                None, {"classes": top_classes(self.probabilities([text])[0],
                                              self.class_names)}))
        params = parse_params(mode.params, body.get("params"))
        entry = self._torch_entry() if mode.name == "integrated_gradients" else None
        if tokenizer == "word" and entry is None:
            from whylens.text import word_tokenize

            if not word_tokenize(text):
                raise InputError(describe("text", "a sentence with at least one word", text))
        key = ("explanation", mode.name, digest, tokenizer, target, tuple(params.items()),
               None if entry is None else id(entry))  # a network attached later: new results

        def run(report: Callable[[int, int], None]) -> Result:
            return self._run(mode, text, tokenizer, target, params, entry, report)

        return Plan(key, run, long=mode.long)

    # ------------------------------------------------------------------ the modes
    def _run(self, mode: PanelMode, text: str, tokenizer: str, target: int | None,
             params: dict[str, Any], entry: Any, report: Callable[[int, int], None]) -> Result:
        start = time.perf_counter()
        if entry is None:
            probs = self.probabilities([text])[0]
        else:
            probs = self._torch_probabilities(entry, text)[0]
        chosen = int(np.argmax(probs)) if target is None else target
        if mode.name == "lime":
            exp = self._lime(text, tokenizer, chosen, params, report)
        elif mode.name == "shap":
            exp = self._shap(text, tokenizer, chosen, params, report)
        else:
            exp = self._integrated_gradients(entry, text, tokenizer, chosen, params, report)
        seconds = time.perf_counter() - start
        tokens = token_weights(exp, text)
        label = self.class_names[chosen]
        meta = {"mode": mode.name, "title": f"{mode.title}: {label}", "target": chosen,
                "target_label": label, "classes": top_classes(probs, self.class_names),
                "tokens": tokens, "tokenizer": tokenizer,
                "seconds": round(seconds, 4), "n_evals": int(exp.n_evals or 0)}
        if exp.base_values is not None:
            meta["base_value"] = float(np.asarray(exp.base_values)[0, 0])
        if mode.name == "shap":
            meta["max_evals"] = exp.params.get("max_evals")
        if mode.name == "integrated_gradients":
            meta["model"] = "torch_module"
            spec = getattr(entry[1], "tokenizer_spec", tokenizer)  # a TokenIdRepresentation's
            meta["tokenizer"] = spec if isinstance(spec, str) else "the model's"
            if exp.delta is not None:
                meta["delta"] = float(np.abs(np.asarray(exp.delta)).max())
        title = f"{mode.title} of {self.title} ({label})"
        return Result(exp, meta, draw_png=lambda: draw_text_png(exp, chosen, title),
                      title=title)

    def _lime(self, text: str, tokenizer: str, target: int, params: dict[str, Any],
              report: Callable[[int, int], None]) -> Any:
        from whylens.lime import LimeTextExplainer

        explainer = LimeTextExplainer(class_names=self.class_names, split_expression=tokenizer,
                                      bow=params["bow"], random_state=params["random_state"])
        return explainer.explain_instance(
            text, self._predict, target=target, num_features=MAX_TEXT,
            num_samples=params["num_samples"], progress=False, callback=report)

    def _shap(self, text: str, tokenizer: str, target: int, params: dict[str, Any],
              report: Callable[[int, int], None]) -> Any:
        from whylens.shap import PermutationExplainer, TextMasker

        masker = TextMasker(tokenizer=tokenizer)
        d = len(masker.tokenizer(text))
        if d == 0:
            raise InputError(describe("text", f"a sentence with at least one {tokenizer!r} "
                                      "token", text))
        # Permutation SHAP needs one forward and one reverse ordering: 2 d coalitions.
        max_evals = max(int(params["max_evals"]), 2 * d)
        explainer = PermutationExplainer(self._predict, masker, max_evals=max_evals,
                                         output_names=self.class_names,
                                         random_state=params["random_state"])
        return explainer(text, target=target, progress=False, callback=report)


def token_weights(exp: Any, text: str) -> list[dict[str, Any]]:
    """Every token occurrence of a one-text Explanation with its weight, in text order.

    Returns
    -------
    list of dict
        ``{"text", "start", "end", "weight"}`` with ``text == text[start:end]``.
    """
    values = np.asarray(exp.values, dtype=np.float64)[0, 0].reshape(-1)
    spans = exp.features.spans[0] if exp.features.spans is not None else []
    out = []
    for j, occurrences in enumerate(spans):
        for start, end in occurrences:
            out.append({"text": text[start:end], "start": int(start), "end": int(end),
                        "weight": float(values[j])})
    out.sort(key=lambda t: (t["start"], t["end"]))
    return out


def draw_text_png(exp: Any, target: int, title: str, max_display: int = 15) -> bytes:
    """The sentence highlighted by weight above a bar chart of the strongest tokens."""
    from matplotlib.figure import Figure

    from whylens.plot import bar
    from whylens.plot import text as text_plot

    n = min(max_display, len(exp.features.names))
    doc = exp.features.texts[0]
    lines = len(doc) // 63 + 1 + doc.count("\n")
    fig = Figure(figsize=(7.5, 0.9 + 0.3 * lines + 0.3 * n))
    top, bottom = fig.subplots(2, 1, height_ratios=[0.3 * lines, 0.6 + 0.3 * n],
                               gridspec_kw={"hspace": 0.15})
    text_plot(exp, label=target, ax=top, title=title)
    bar(exp, label=target, ax=bottom, max_display=n, title="")
    return figure_png(fig)

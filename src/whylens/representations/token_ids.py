"""Text for PyTorch models over token ids: tokens -> ids through the user's vocabulary.

A :class:`TokenIdRepresentation` holds what a text model's training code did
to a string: a tokenizer (``"word"``, ``"kiwi"``, ``"mecab"`` or a callable),
a vocabulary, the padding id and side, the unknown id and a maximum length.
With it, every method explains a ``torch.nn.Module`` that takes ``(n, L)``
token ids, and the values come back *per token of the original string*, with
the token's character offsets:

- gradient methods on ids (Grad-CAM 1D at a Conv1d layer,
  :class:`~whylens.torch.LayerIntegratedGradients` or
  :class:`~whylens.torch.LayerGradientShap` on the embedding) through
  :meth:`TokenIdRepresentation.explain`: the value of each id position is
  summed over the layer's feature axis and given to the token it came from;
- perturbation methods on strings (LIME, Kernel/Permutation SHAP) through
  :meth:`TokenIdRepresentation.predict_fn`, which turns the strings those
  methods build into padded id batches, with the same tokenizer passed as
  their ``split_expression`` / ``tokenizer`` (declare ``returns="probability"``
  for a model that already ends in sigmoid or softmax).

Positions that hold padding get no token; tokens cut off by truncation or
missing from the vocabulary (when there is no unknown id) get the value 0
and ``selected=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.text._select import get_tokenizer
from whylens.text._tokenize import Token

__all__ = ["EncodedText", "TokenIdMasking", "TokenIdRepresentation"]


@dataclass
class EncodedText:
    """A batch of texts as the model sees them.

    Attributes
    ----------
    ids : ndarray of int64, shape (n, L)
    positions : ndarray of int64, shape (n, L)
        Index of the token each id position came from; -1 for padding.
    tokens : list of list of Token
        The tokens of each text (all of them, also those not sent).
    texts : list of str
    """

    ids: np.ndarray
    positions: np.ndarray
    tokens: list[list[Token]]
    texts: list[str]


def _default_key(token: Token) -> str:
    form = getattr(token, "form", "")
    return form if form else token.text


class TokenIdRepresentation:
    """Map strings to padded token ids and id-position values back to tokens.

    Parameters
    ----------
    vocab : mapping of str to int
        The model's vocabulary (token key -> id).
    tokenizer : None, str or callable, default=None
        As :func:`whylens.text.get_tokenizer`: ``"word"`` (default),
        ``"char"``, ``"kiwi"``, ``"mecab"``, a separator regex or a callable.
    max_len : int, optional
        Sequence length the model takes: shorter texts are padded, longer
        truncated. ``None``: the longest text of each batch.
    pad_id : int, default=0
    unk_id : int, optional
        Id of tokens missing from the vocabulary; ``None`` leaves them out.
    padding, truncation : {"pre", "post"}, default "pre"
        Where padding goes and which end is cut (Keras ``pad_sequences``;
        ``"pre"`` keeps the end of a long review).
    lowercase : bool, default=False
        Look tokens up lower-cased.
    key : callable, optional
        ``key(token) -> str`` to look up in ``vocab``; default a morpheme's
        ``form`` (kiwi/mecab tokens) or the token's text.

    Examples
    --------
    >>> rep = TokenIdRepresentation({"good": 1, "film": 2}, max_len=4)
    >>> rep.encode(["a good film"]).ids
    array([[0, 0, 1, 2]])
    """

    def __init__(self, vocab: Mapping[str, int], tokenizer: Any = None, *,
                 max_len: int | None = None, pad_id: int = 0, unk_id: int | None = None,
                 padding: str = "pre", truncation: str = "pre", lowercase: bool = False,
                 key: Callable[[Token], str] | None = None) -> None:
        if not isinstance(vocab, Mapping) or not vocab:
            raise InputTypeError(describe("vocab", "a non-empty mapping of token to id", vocab))
        self.vocab = vocab
        self.tokenizer_spec = tokenizer
        self.tokenize = get_tokenizer(tokenizer)
        self.max_len = None if max_len is None else check_positive_int("max_len", max_len)
        self.pad_id = int(pad_id)
        self.unk_id = None if unk_id is None else int(unk_id)
        for name, value in (("padding", padding), ("truncation", truncation)):
            if value not in ("pre", "post"):
                raise InputError(describe(name, "'pre' or 'post'", value))
        self.padding = padding
        self.truncation = truncation
        self.lowercase = bool(lowercase)
        self.key = _default_key if key is None else key

    def __repr__(self) -> str:
        return (f"TokenIdRepresentation(vocab={len(self.vocab)} entries, "
                f"tokenizer={self.tokenizer_spec!r}, max_len={self.max_len})")

    # ------------------------------------------------------------------ encoding
    def _lookup(self, token: Token) -> int | None:
        k = self.key(token)
        if self.lowercase:
            k = k.lower()
        got = self.vocab.get(k)
        return self.unk_id if got is None else int(got)

    def encode(self, texts: str | Sequence[str]) -> EncodedText:
        """Tokenize, look up, truncate and pad a batch of texts.

        Parameters
        ----------
        texts : str or sequence of str

        Returns
        -------
        EncodedText
            ``ids`` of shape (n, L), L = ``max_len`` (or the longest text).
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InputTypeError(describe("texts", "a str or a non-empty list of str", texts))
        all_tokens = [self.tokenize(t) for t in texts]
        seqs: list[list[tuple[int, int]]] = []
        for tokens in all_tokens:
            seq = [(i, j) for j, tok in enumerate(tokens)
                   if (i := self._lookup(tok)) is not None]
            seqs.append(seq)
        length = self.max_len or max(max((len(s) for s in seqs), default=1), 1)
        ids = np.full((len(texts), length), self.pad_id, dtype=np.int64)
        positions = np.full((len(texts), length), -1, dtype=np.int64)
        for r, seq in enumerate(seqs):
            if len(seq) > length:
                seq = seq[-length:] if self.truncation == "pre" else seq[:length]
            if not seq:
                continue
            arr = np.asarray(seq, dtype=np.int64)
            start = length - len(seq) if self.padding == "pre" else 0
            ids[r, start : start + len(seq)] = arr[:, 0]
            positions[r, start : start + len(seq)] = arr[:, 1]
        return EncodedText(ids=ids, positions=positions, tokens=all_tokens, texts=texts)

    def to_tensor(self, texts: str | Sequence[str], device: Any = None) -> Any:
        """``encode(texts).ids`` as a torch LongTensor (on ``device``)."""
        import torch

        return torch.as_tensor(self.encode(texts).ids, device=device)

    def masking(self, text: str, mask_id: int | None = None) -> TokenIdMasking:
        """The tokens of one text as removable features over its ids.

        Parameters
        ----------
        text : str
        mask_id : int, optional
            Id a removed token takes; default ``pad_id``.

        Returns
        -------
        TokenIdMasking
            A :class:`~whylens.representations.Representation`: LIME or SHAP
            masks of its tokens become id rows the model takes directly.
        """
        if not isinstance(text, str):
            raise InputTypeError(describe("text", "a str (one document)", text))
        encoded = self.encode([text])
        return TokenIdMasking(encoded, self.pad_id if mask_id is None else int(mask_id))

    # ------------------------------------------------------------------ perturbation methods
    def predict_fn(self, model: Any, probability: bool = True, batch_size: int = 256, *,
                   returns: str = "logits") -> Callable[[Sequence[str]], np.ndarray]:
        """A ``fn(list of str) -> ndarray (n, n_outputs)`` for LIME and SHAP on strings.

        Parameters
        ----------
        model : torch.nn.Module
            Takes ``(n, L)`` int64 ids.
        probability : bool, default=True
            Return class probabilities, as LIME expects: see ``returns``.
        batch_size : int, default=256
            Texts per model call.
        returns : {"logits", "probability"}, default="logits"
            What ``model`` returns. ``"logits"``: scores from a final linear
            layer; with ``probability=True`` they go through softmax (one
            output ``z``: ``[1 - sigmoid(z), sigmoid(z)]``). ``"probability"``:
            the model already ends in sigmoid or softmax; its values are used
            as they are (one output ``p``: ``[1 - p, p]``) and must lie in
            [0, 1]. Declaring a sigmoid-ending model as ``"logits"`` would
            squash its ``p`` a second time, into ``sigmoid(p)`` in [0.5, 0.73].

        Returns
        -------
        callable

        Raises
        ------
        InputError
            If ``returns`` is not ``"logits"`` or ``"probability"``.
        ModelOutputError
            When called, if a model declared ``returns="probability"`` gives
            values outside [0, 1].

        Examples
        --------
        A network that ends in ``torch.sigmoid`` (``(n, 1)`` p(positive)):

        >>> predict = rep.predict_fn(model, returns="probability")  # doctest: +SKIP
        >>> predict(["a great film"])  # doctest: +SKIP
        array([[0.0312, 0.9688]])
        """
        from whylens.models._torch import torch_predict_fn

        fn = torch_predict_fn(model, probability=probability, returns=returns)
        size = check_positive_int("batch_size", batch_size)

        def predict(texts: Sequence[str]) -> np.ndarray:
            texts = [texts] if isinstance(texts, str) else list(texts)
            parts = [fn(self.encode(texts[s : s + size]).ids)
                     for s in range(0, len(texts), size)]
            return np.concatenate(parts, axis=0)

        return predict

    # ------------------------------------------------------------------ gradient methods
    def to_tokens(self, exp: Explanation, encoded: EncodedText) -> Explanation:
        """Turn an Explanation over id positions into one over the texts' tokens.

        Parameters
        ----------
        exp : Explanation
            ``values`` of shape (n, n_labels, L), (n, n_labels, L, d) (an
            embedding layer) or (n, n_labels, C, L) (a Conv1d layer's
            activations); values at a position are summed over the other axes.
        encoded : EncodedText
            What was sent to the model.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, T), T the most tokens of a text
            (zeros past a text's end); ``features.names`` the tokens (of the
            first text; ``descriptions`` per text), ``features.spans`` their
            offsets, ``features.texts`` the texts, ``selected`` False for tokens
            the model did not see; ``layer_values`` the per-position values.
        """
        v = np.asarray(exp.values, dtype=np.float64)
        n, length = encoded.ids.shape
        if v.ndim == 3 and v.shape[2] == length:
            per_pos = v
        elif v.ndim >= 4 and v.shape[2] == length:
            per_pos = v.reshape(*v.shape[:3], -1).sum(axis=3)
        elif v.ndim == 4 and v.shape[3] == length:
            per_pos = v.sum(axis=2)
        else:
            raise InputError(
                describe("exp", f"values with a sequence axis of length {length}",
                         got_text=f"values of shape {v.shape}",
                         fix="Attribute a layer that keeps one position per token "
                             "(the embedding, or a 'same'-padded Conv1d), or a CAM.")
            )
        n_tok = max(max((len(t) for t in encoded.tokens), default=1), 1)
        values = np.zeros((n, v.shape[1], n_tok))
        selected = np.zeros((n, v.shape[1], n_tok), dtype=bool)
        for r in range(n):
            keep = encoded.positions[r] >= 0
            tok_idx = encoded.positions[r][keep]
            np.add.at(values[r], (slice(None), tok_idx), per_pos[r][:, keep])
            selected[r][:, tok_idx] = True
        names = [t.text for t in encoded.tokens[0]] + [""] * (n_tok - len(encoded.tokens[0]))
        descriptions = [[t.text for t in toks] + [""] * (n_tok - len(toks))
                        for toks in encoded.tokens]
        spans = [[[[t.start, t.end]] for t in toks] + [[] for _ in range(n_tok - len(toks))]
                 for toks in encoded.tokens]
        params = dict(exp.params)
        params.update({"representation": "token_ids", "tokenizer": repr(self.tokenizer_spec),
                       "max_len": int(length), "pad_id": self.pad_id, "padding": self.padding,
                       "truncation": self.truncation})
        return Explanation(
            values=values, labels=exp.labels, method=exp.method,
            features=Features(kind="text", names=names, descriptions=descriptions,
                              data=encoded.ids.copy(), texts=list(encoded.texts), spans=spans),
            mode=exp.mode, output=exp.output, output_names=exp.output_names,
            base_values=exp.base_values, selected=selected, params=params,
            n_evals=exp.n_evals, layer_values=per_pos, delta=exp.delta,
        )

    def explain(self, method: Any, texts: str | Sequence[str], target: Any = None,
                baselines: Any = "pad", **kwargs: Any) -> Explanation:
        """Run a whylens.torch method on the texts' ids; values per token.

        Parameters
        ----------
        method : whylens.torch CAM or gradient attribution
            E.g. ``GradCAM(model, "conv3")`` or
            ``LayerIntegratedGradients(model, "embedding")``.
        texts : str or sequence of str
        target : int or sequence of int, optional
        baselines : "pad", None or Tensor, default="pad"
            For methods with a reference: ``"pad"`` is a sequence of padding
            ids of the same length (the usual text baseline), except for a
            DeepSHAP method built with a ``background``, which keeps it.
        **kwargs
            Passed to the method's call (``callback``).

        Returns
        -------
        Explanation
            See :meth:`to_tokens`.
        """
        import torch
        from whylens.models._torch import module_device
        from whylens.torch import BaseCAM, GradientAttribution

        encoded = self.encode(texts)
        model = getattr(method, "model", None)
        device = module_device(model) if model is not None else None
        ids = torch.as_tensor(encoded.ids, device=device)
        if isinstance(method, GradientAttribution):
            if isinstance(baselines, str) and baselines == "pad":
                # LayerDeepShap(model, layer, background): "pad" would replace its background
                own = getattr(method, "background", None) is not None
                baselines = None if own else torch.full_like(ids[:1], self.pad_id)
            exp = method(ids, target=target, baselines=baselines, **kwargs)
        elif isinstance(method, BaseCAM):
            exp = method(ids, target=target, **kwargs)
        else:
            raise InputTypeError(
                describe("method", "a whylens.torch CAM or gradient attribution", method,
                         "For LIME/SHAP pass rep.predict_fn(model) and tokenizer=rep's.")
            )
        return self.to_tokens(exp, encoded)


class TokenIdMasking:
    """One encoded text whose sent tokens are the interpretable features.

    Implements the :class:`~whylens.representations.Representation` protocol:
    ``apply(Z)`` gives, for each mask row, the text's id row with every
    removed token's id replaced by ``mask_id`` (padding keeps its place, so
    the model sees the same length). Build it with
    :meth:`TokenIdRepresentation.masking`.

    Parameters
    ----------
    encoded : EncodedText
        One text (``encoded.ids`` of shape (1, L)).
    mask_id : int

    Attributes
    ----------
    n_features : int
        Tokens that reach the model (after truncation; padding excluded).
    names : list of str
        Those tokens' texts.
    spans : list of list of [start, end]
        Each token's character offsets in the text.
    instance : ndarray of int64, shape (L,)
        The text's ids.

    Raises
    ------
    InputError
        If no token of the text is in the vocabulary.
    """

    def __init__(self, encoded: EncodedText, mask_id: int) -> None:
        ids, positions = encoded.ids[0], encoded.positions[0]
        self._slots = np.flatnonzero(positions >= 0)
        if self._slots.size == 0:
            raise InputError(describe("text", "a text with at least one token in the "
                                      "vocabulary", encoded.texts[0]))
        tokens = encoded.tokens[0]
        sent = [tokens[int(p)] for p in positions[self._slots]]
        self.names = [t.text for t in sent]
        self.spans = [[[t.start, t.end]] for t in sent]
        self.text = encoded.texts[0]
        self._ids = ids.copy()
        self.mask_id = int(mask_id)

    @property
    def n_features(self) -> int:
        """Number of tokens that reach the model."""
        return int(self._slots.size)

    @property
    def instance(self) -> np.ndarray:
        """The text's id row, shape (L,)."""
        return self._ids.copy()

    def apply(self, Z: np.ndarray) -> np.ndarray:
        """Id rows of a chunk of masks.

        Parameters
        ----------
        Z : ndarray of shape (n, n_features)
            1 keeps a token, 0 replaces its id by ``mask_id``.

        Returns
        -------
        ndarray of int64, shape (n, L)
        """
        keep = np.asarray(Z, dtype=bool)
        out = np.repeat(self._ids[None], keep.shape[0], axis=0)
        cols = out[:, self._slots]
        cols[~keep] = self.mask_id
        out[:, self._slots] = cols
        return out

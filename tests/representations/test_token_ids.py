"""Token-id text representation without torch: encoding, arguments, to_tokens.

The torch models (gradient methods, predict_fn) are in test_token_ids_torch.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError
from whylens.representations import TokenIdRepresentation

VOCAB = {"<pad>": 0, "<unk>": 1, "a": 2, "b": 3, "c": 4, "d": 5, "great": 7, "film": 8}


def test_encode_pads_truncates_and_maps_positions():
    rep = TokenIdRepresentation(VOCAB, max_len=5)
    enc = rep.encode(["a great film", "a b c d a b film"])
    np.testing.assert_array_equal(enc.ids, [[0, 0, 2, 7, 8], [4, 5, 2, 3, 8]])
    np.testing.assert_array_equal(enc.positions, [[-1, -1, 0, 1, 2], [2, 3, 4, 5, 6]])
    post = TokenIdRepresentation(VOCAB, max_len=5, padding="post", truncation="post")
    enc = post.encode(["a great film", "a b c d a b film"])
    np.testing.assert_array_equal(enc.ids, [[2, 7, 8, 0, 0], [2, 3, 4, 5, 2]])
    unk = TokenIdRepresentation(VOCAB, unk_id=1, lowercase=True)
    np.testing.assert_array_equal(unk.encode("A GREAT movie").ids, [[2, 7, 1]])
    skip = TokenIdRepresentation(VOCAB)
    enc = skip.encode("a great movie")
    np.testing.assert_array_equal(enc.ids, [[2, 7]])
    np.testing.assert_array_equal(enc.positions, [[0, 1]])


@pytest.mark.parametrize("kwargs, match", [
    ({"padding": "left"}, "padding"), ({"truncation": "middle"}, "truncation"),
    ({"max_len": 0}, "max_len"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        TokenIdRepresentation(VOCAB, **kwargs)


def test_values_with_no_sequence_axis_raise():
    from whylens.explanation import Explanation, Features

    rep = TokenIdRepresentation(VOCAB, max_len=4)
    exp = Explanation(values=np.zeros((1, 1, 3)), labels=[0], method="x",
                      features=Features(kind="sequence", names=[]))
    with pytest.raises(InputError, match="sequence axis of length 4"):
        rep.to_tokens(exp, rep.encode("a b"))


def test_predict_fn_returns_must_be_logits_or_probability():
    rep = TokenIdRepresentation(VOCAB, max_len=6)
    for bad in ("probabilities", "softmax", None):
        with pytest.raises(InputError, match=r"returns: expected 'logits'.*got"):
            rep.predict_fn(object(), returns=bad)


def test_token_id_masking_is_a_representation_over_the_sent_tokens():
    from whylens.models import as_model
    from whylens.representations import Representation, TokenIdRepresentation, evaluate

    rep = TokenIdRepresentation({"good": 1, "film": 2, "a": 3}, max_len=5, pad_id=0)
    masking = rep.masking("a good film", mask_id=9)
    assert isinstance(masking, Representation)
    assert masking.names == ["a", "good", "film"]
    assert masking.instance.tolist() == [0, 0, 3, 1, 2]
    Z = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0]])
    assert masking.apply(Z).tolist() == [[0, 0, 3, 1, 2], [0, 0, 9, 1, 9], [0, 0, 9, 9, 9]]
    # through the runner: a model counting the id 1 ("good") per row
    model = as_model(lambda ids: (ids == 1).sum(axis=1, keepdims=True).astype(float),
                     chunk_size=2)
    assert evaluate(model, masking, Z)[:, 0].tolist() == [1.0, 1.0, 0.0]


def test_token_id_masking_bad_input():
    from whylens.errors import InputTypeError

    rep = TokenIdRepresentation({"good": 1}, max_len=4)
    with pytest.raises(InputTypeError, match="text"):
        rep.masking(["a good film"])
    with pytest.raises(InputError, match="text"):
        rep.masking("no known words")

"""Token-id text representation: encoding, and per-token values aligned with offsets."""

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


torch = pytest.importorskip("torch")


def _one_token_model():
    from tests.torch.models import OneTokenCNN

    return OneTokenCNN(vocab=10, token=7)


def test_gradcam_1d_peaks_at_the_token_the_model_reacts_to():
    from whylens.torch import GradCAM

    model = _one_token_model()
    rep = TokenIdRepresentation(VOCAB, max_len=8)  # pre-padding: positions shift by 3
    text = "a b great c d"
    exp = rep.explain(GradCAM(model, "conv"), text, target=1)
    assert exp.layer_values.shape == (1, 1, 8)  # the map at the sequence length
    assert exp.values.shape == (1, 1, 5)  # one value per token
    assert exp.feature_names == ["a", "b", "great", "c", "d"]
    j = int(np.argmax(exp.values[0, 0]))
    (start, end), = exp.features.spans[0][j]
    assert text[start:end] == "great"
    # Grad-CAM of this model is exactly (1/L) * 1[token == great]
    np.testing.assert_allclose(exp.values[0, 0], [0, 0, 1 / 8, 0, 0], atol=1e-12)
    assert exp.as_list(1)[0] == ("great", pytest.approx(1 / 8))


def test_layer_ig_on_embedding_is_exact_per_token():
    from whylens.torch import LayerIntegratedGradients

    model = _one_token_model()
    rep = TokenIdRepresentation(VOCAB, max_len=6, padding="post")
    texts = ["great film great", "a b"]
    exp = rep.explain(LayerIntegratedGradients(model, "emb", n_steps=4), texts, target=1)
    # f = number of 'great'; the pad baseline embeds to 0; the path is linear
    np.testing.assert_allclose(exp.values[0, 0], [1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(exp.values[1, 0], [0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(exp.delta, 0, atol=1e-12)
    assert exp.features.texts == texts
    assert exp.features.descriptions[1] == ["a", "b", ""]
    assert exp.selected[1, 0].tolist() == [True, True, False]


def test_truncated_tokens_get_zero_and_are_not_selected():
    from whylens.torch import LayerIntegratedGradients

    model = _one_token_model()
    rep = TokenIdRepresentation(VOCAB, max_len=2)  # keeps the last two tokens
    exp = rep.explain(LayerIntegratedGradients(model, "emb", n_steps=2), "great a b", target=1)
    assert exp.selected[0, 0].tolist() == [False, True, True]
    assert exp.values[0, 0, 0] == 0.0


def test_lime_through_predict_fn_finds_the_token():
    from whylens.lime import LimeTextExplainer

    model = _one_token_model()
    rep = TokenIdRepresentation(VOCAB, max_len=8)
    fn = rep.predict_fn(model)
    probs = fn(["a great film", "a b"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 1] > probs[1, 1]
    exp = LimeTextExplainer(random_state=0).explain_instance("a b great c d", fn,
                                                             num_samples=200)
    assert exp.as_list(1)[0][0] == "great"


def test_values_with_no_sequence_axis_raise():
    from whylens.explanation import Explanation, Features

    rep = TokenIdRepresentation(VOCAB, max_len=4)
    exp = Explanation(values=np.zeros((1, 1, 3)), labels=[0], method="x",
                      features=Features(kind="sequence", names=[]))
    with pytest.raises(InputError, match="sequence axis of length 4"):
        rep.to_tokens(exp, rep.encode("a b"))


def test_exact_shap_through_predict_fn_puts_the_value_on_the_token():
    """ExactExplainer over the words of a string, model on token ids: exact answer."""
    from whylens.shap import ExactExplainer, TextMasker

    model = _one_token_model()
    rep = TokenIdRepresentation(VOCAB, max_len=8)
    explainer = ExactExplainer(rep.predict_fn(model), TextMasker(tokenizer="word"))
    exp = explainer("a b great c")
    row = list(exp.labels).index(1)
    values = exp.values[0, row]
    # p1 = softmax([0, count])[1]: only 'great' changes it, by sigmoid(1) - 1/2
    np.testing.assert_allclose(values, [0, 0, 1 / (1 + np.exp(-1)) - 0.5, 0], atol=1e-12)

"""Token-id text representation with torch models: per-token values aligned with offsets,
predict_fn for LIME and SHAP (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.representations import TokenIdRepresentation  # noqa: E402

VOCAB = {"<pad>": 0, "<unk>": 1, "a": 2, "b": 3, "c": 4, "d": 5, "great": 7, "film": 8}


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


class _SigmoidCounter(torch.nn.Module):
    """p = sigmoid(2 * count('great') - 5), shape (n, 1): a model that ends in sigmoid.

    Without 'great' p = sigmoid(-5) = 0.0067; a second sigmoid would give 0.5017.
    """

    def __init__(self, token: int = 7, softmax: bool = False) -> None:
        super().__init__()
        self.token = token
        self.softmax = softmax

    def forward(self, ids):
        z = 2.0 * (ids == self.token).sum(dim=1, keepdim=True).float() - 5.0
        if self.softmax:  # two classes, softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]
            return torch.softmax(torch.cat([torch.zeros_like(z), z], dim=1), dim=1)
        return torch.sigmoid(z)


def test_predict_fn_of_a_sigmoid_model_declared_probability_is_one_minus_p_and_p():
    model = _SigmoidCounter()
    rep = TokenIdRepresentation(VOCAB, max_len=6)
    texts = ["a b", "a great film", "great great great"]
    p = model(rep.to_tensor(texts)).double().numpy()[:, 0]
    probs = rep.predict_fn(model, returns="probability")(texts)
    np.testing.assert_array_equal(probs, np.c_[1 - p, p])
    assert probs[0, 1] == pytest.approx(1 / (1 + np.exp(5)), rel=1e-6)  # 0.0067, not 0.50
    # declared as logits, the p is squashed a second time: the bug this option fixes
    squashed = rep.predict_fn(model)(texts)
    np.testing.assert_allclose(squashed[:, 1], 1 / (1 + np.exp(-p)), rtol=1e-12)
    assert (squashed[:, 1] >= 0.5).all()
    # the raw output, without the two columns
    np.testing.assert_array_equal(rep.predict_fn(model, False, returns="probability")(texts),
                                  p[:, None])


def test_predict_fn_of_a_softmax_model_declared_probability_keeps_its_values():
    model = _SigmoidCounter(softmax=True)
    rep = TokenIdRepresentation(VOCAB, max_len=6)
    texts = ["a b", "a great film"]
    expected = model(rep.to_tensor(texts)).double().numpy()
    np.testing.assert_array_equal(rep.predict_fn(model, returns="probability")(texts), expected)
    # the same network read as two logits would be softmax(softmax(z))
    twice = rep.predict_fn(model)(texts)
    assert np.abs(twice - expected).max() > 0.2


def test_predict_fn_probabilities_outside_0_1_raise():
    from whylens.errors import ModelOutputError

    rep = TokenIdRepresentation(VOCAB, max_len=6)
    logits = _one_token_model()  # two logits, 'great' scores 1
    fn = rep.predict_fn(logits, returns="probability")
    np.testing.assert_array_equal(fn(["a b"]), [[0.0, 0.0]])  # zeros are valid probabilities
    with pytest.raises(ModelOutputError, match=r"values in \[0, 1\].*from 0 to 3.*"
                                               r"returns='logits'"):
        fn(["great great great"])


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


def test_explain_keeps_a_deepshap_background_and_pads_otherwise():
    """rep.explain's default baselines='pad' must not replace the background a
    LayerDeepShap was built with (it did: one padding row instead of k rows)."""
    from tests.torch.models import TextCNN, seeded

    from whylens.torch import LayerDeepShap

    model = seeded(TextCNN(), 5)
    rep = TokenIdRepresentation(VOCAB, max_len=6, unk_id=1)
    texts = ["a great film", "b c d film"]
    background = rep.to_tensor(["a film", "d", "great great"])
    exp = rep.explain(LayerDeepShap(model, "emb", background), texts, labels=[0, 1])
    direct = LayerDeepShap(model, "emb", background)(rep.to_tensor(texts), labels=[0, 1])
    assert exp.params["n_background"] == 3
    np.testing.assert_allclose(exp.layer_values, direct.values.sum(axis=3), atol=1e-12)
    np.testing.assert_allclose(exp.base_values, direct.base_values, atol=1e-12)
    # no background: the padding row, as for the other reference methods
    padded = rep.explain(LayerDeepShap(model, "emb"), texts, labels=[0, 1])
    pad_row = torch.zeros(1, 6, dtype=torch.long)
    np.testing.assert_allclose(padded.base_values[0], model(pad_row)[0].detach().numpy(),
                               atol=1e-12)

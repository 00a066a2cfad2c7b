"""Deletion, insertion, faithfulness correlation and infidelity: known answers."""

from __future__ import annotations

import numpy as np
import pytest

from whylens import Explanation, Features
from whylens.errors import Cancelled, InputError, InputTypeError, NotSupportedError
from whylens.metrics import deletion, faithfulness_correlation, infidelity, insertion

W = np.array([3.0, -1.0, 0.5, 2.0, -2.5, 0.0])
C = 0.3


def linear(X):
    """f(x) = W . x + C, one output."""
    return (np.asarray(X, dtype=np.float64) @ W + C)[:, None]


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    background = rng.normal(size=(40, W.size))
    X = rng.normal(size=(4, W.size))
    exact = W * (X - background.mean(axis=0))  # exact attributions against the mean
    return X, background, exact


def hand_curve(a, fx, insert, baseline_out):
    order = np.argsort(-a, kind="stable")
    if insert:
        return np.r_[baseline_out, baseline_out + np.cumsum(a[order])]
    return np.r_[fx, fx - np.cumsum(a[order])]


@pytest.mark.parametrize("insert", [False, True])
def test_linear_curve_equals_the_closed_form_and_beats_random(case, insert):
    X, background, exact = case
    metric = insertion if insert else deletion
    res = metric(linear, exact, X, target=0, background=background, n_random=4)
    fractions = np.linspace(0, 1, W.size + 1)
    np.testing.assert_allclose(res.fractions, fractions)
    base_out = linear(background.mean(axis=0)[None])[0, 0]
    for i in range(len(X)):
        curve = hand_curve(exact[i], linear(X[i : i + 1])[0, 0], insert, base_out)
        np.testing.assert_allclose(res.curves[i, 0], curve, atol=1e-12)
        area = float(((curve[1:] + curve[:-1]) / 2 * np.diff(fractions)).sum())
        assert res.scores[i, 0] == pytest.approx(area, abs=1e-12)
    assert res.score == pytest.approx(res.scores.mean())
    assert res.higher_is_better is insert
    assert res.random is not None and res.random.scores.shape == (4,)
    assert res.vs_random > 0  # the true attribution beats random orderings
    assert res.n_evals == len(X) * (1 + 4) * (W.size + 1)
    assert res.to_dict()["random"]["n_draws"] == 4


def test_steps_and_batching_do_not_change_the_values(case):
    X, background, exact = case
    a = deletion(linear, exact, X, target=0, background=background, steps=3)
    b = deletion(linear, exact, X, target=0, background=background, steps=3, batch_size=5)
    np.testing.assert_array_equal(a.curves, b.curves)
    np.testing.assert_array_equal(a.random.scores, b.random.scores)
    np.testing.assert_allclose(a.fractions, [0, 1 / 3, 2 / 3, 1])


def test_constant_model_gives_zero_faithfulness(case):
    X, background, exact = case

    def constant(Z):
        return np.full((len(Z), 2), 0.5)

    for metric in (deletion, insertion):
        res = metric(constant, exact, X, target=1, background=background)
        assert res.score == pytest.approx(0.5)
        assert res.vs_random == pytest.approx(0.0, abs=1e-15)
    corr = faithfulness_correlation(constant, exact, X, target=0, background=background)
    assert corr.score == 0.0 and corr.random.mean == 0.0


def test_faithfulness_correlation_of_exact_linear_is_one(case):
    X, background, exact = case
    res = faithfulness_correlation(linear, exact, X, target=0, background=background,
                                   n_samples=30)
    np.testing.assert_allclose(res.scores, 1.0, atol=1e-12)
    assert res.random.mean < 0.8
    assert res.n_evals == len(X) * 31


def test_infidelity_of_exact_linear_attributions_is_zero(case):
    X, background, exact = case
    res = infidelity(linear, exact, X, target=0, background=background)
    np.testing.assert_allclose(res.scores, 0.0, atol=1e-20)
    assert res.random.mean > 1e-3
    # the gradient is exact under gaussian perturbations (saliency without abs)
    grad = np.tile(W, (len(X), 1))
    res = infidelity(linear, grad, X, target=0, perturbation="gaussian")
    np.testing.assert_allclose(res.scores, 0.0, atol=1e-20)
    # the unnormalised form needs the right scale; normalised it does not
    assert infidelity(linear, 3 * grad, X, target=0, perturbation="gaussian",
                      normalize=False).score > 1e-3
    assert infidelity(linear, 3 * grad, X, target=0, perturbation="gaussian").score < 1e-20


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("perturbation", ["subset", "gaussian"])
def test_infidelity_equals_captum_on_the_same_perturbations(case, perturbation, normalize):
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("captum.metrics")
    X, background, _ = case
    rng = np.random.default_rng(1)
    attr = rng.normal(size=X.shape)
    V = rng.normal(size=(W.size, 3))

    def net_np(Z):
        return np.tanh(np.asarray(Z) @ V) ** 2

    def net_torch(Z):
        return torch.tanh(Z @ torch.as_tensor(V)) ** 2

    res = infidelity(net_np, attr, X, target=2, perturbation=perturbation,
                     background=background, n_samples=16, normalize=normalize)
    perturbs = torch.as_tensor(res.extras["perturbations"].reshape(-1, W.size))
    xt = torch.as_tensor(X)
    b = torch.as_tensor(background.mean(axis=0))

    def perturb(inputs):
        shift = perturbs * (inputs - b) if perturbation == "subset" else perturbs
        return perturbs, inputs - shift

    theirs = metrics.infidelity(net_torch, perturb, xt, torch.as_tensor(attr), target=2,
                                n_perturb_samples=16, normalize=normalize)
    np.testing.assert_allclose(res.scores[:, 0], theirs.numpy(), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------- images
def pixel_model(Wimg):
    def f(Z):
        return np.asarray(Z, dtype=np.float64).reshape(len(Z), -1) @ Wimg.reshape(-1, 1)
    return f


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("baseline", ["blur", "mean", "zero"])
def test_images_per_element_and_spatial_maps(layout, baseline):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(2)
    shape = (6, 5, 3) if layout == "channels_last" else (3, 6, 5)
    caxis = 2 if layout == "channels_last" else 0
    X = rng.random((2, *shape)).astype(np.float32)
    Wimg = rng.normal(size=shape)
    f = pixel_model(Wimg)
    x64 = X.astype(np.float64)
    spatial = tuple(a + 1 for a in range(3) if a != caxis)
    if baseline == "blur":
        sigma = [0.0] * 4
        for a in spatial:
            sigma[a] = 1.5
        B = gaussian_filter(x64, sigma=sigma, mode="nearest")
    elif baseline == "mean":
        B = np.broadcast_to(x64.mean(axis=spatial, keepdims=True), X.shape)
    else:
        B = np.zeros_like(x64)
    exact = Wimg * (x64 - B.astype(np.float32))  # removal writes the baseline in float32
    res = infidelity(f, exact, X, target=0, baseline=baseline, blur_sigma=1.5)
    np.testing.assert_allclose(res.scores, 0.0, atol=1e-9)
    # a spatial map (channels summed): removing a pixel removes all its channels
    pixel_map = exact.sum(axis=caxis + 1)
    res = faithfulness_correlation(f, pixel_map, X, target=0, baseline=baseline,
                                   blur_sigma=1.5)
    np.testing.assert_allclose(res.scores, 1.0, atol=1e-6)
    d = deletion(f, pixel_map, X, target=0, baseline=baseline, blur_sigma=1.5, steps=10)
    assert d.curves.shape == (2, 1, 11) and d.vs_random > 0
    np.testing.assert_allclose(d.curves[:, 0, -1], f(B.astype(np.float32))[:, 0], rtol=1e-6)


def test_image_segments_from_an_explanation():
    rng = np.random.default_rng(3)
    image = rng.random((8, 8, 3))
    segments = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 4, axis=0), 4, axis=1)
    Wimg = rng.normal(size=image.shape)
    f = pixel_model(Wimg)
    per_segment = np.array([(Wimg * image)[segments == s].sum() for s in range(4)])
    exp = Explanation(values=per_segment[None, None], labels=[0], method="lime.image",
                      features=Features(kind="image", names=[f"segment {s}" for s in range(4)],
                                        data=image[None], segments=segments[None]))
    res = deletion(f, exp, baseline="zero", n_random=2)
    curve = hand_curve(per_segment, f(image[None])[0, 0], False, 0.0)
    np.testing.assert_allclose(res.curves[0, 0], curve, atol=1e-12)


# ------------------------------------------------------------------------ text
def text_explanation(texts, weights):
    vocab = sorted(weights)
    spans = []
    for text in texts:
        rows = []
        for word in vocab:
            at, occ = 0, []
            while (j := text.find(word, at)) >= 0:
                occ.append([j, j + len(word)])
                at = j + len(word)
            rows.append(occ)
        spans.append(rows)
    values = np.array([[[weights[w] for w in vocab]] for _ in texts])
    return Explanation(values=values, labels=[0], method="lime.text",
                       features=Features(kind="text", names=vocab, texts=list(texts),
                                         spans=spans))


def count_model(texts):
    """score = 2 * #good - #bad (tokens split on spaces); records what it saw."""
    count_model.seen.extend(texts)
    out = [2.0 * t.split().count("good") - t.split().count("bad") for t in texts]
    return np.array(out)[:, None]


def test_text_removal_and_mask_token():
    exp = text_explanation(["good film , good cast , bad end"],
                           {"good": 4.0, "bad": -1.0, "film": 0.0, "cast": 0.0, "end": 0.0})
    count_model.seen = []
    res = deletion(count_model, exp, n_random=0)
    # vocab order: bad, cast, end, film, good; sorted: good, film/cast/end (0), bad
    np.testing.assert_allclose(res.curves[0, 0], [3, -1, -1, -1, -1, 0])
    assert " film ,  cast , bad end" in count_model.seen  # both "good" removed at once
    count_model.seen = []
    res = insertion(count_model, exp, baseline="[MASK]", n_random=0)
    np.testing.assert_allclose(res.curves[0, 0], [0, 4, 4, 4, 4, 3])
    assert "[MASK] [MASK] , [MASK] [MASK] , [MASK] [MASK]" in count_model.seen


def test_pandas_frames_reach_the_model(case):
    pd = pytest.importorskip("pandas")
    X, background, exact = case
    cols = [f"c{j}" for j in range(W.size)]
    seen = []

    def frame_model(df):
        assert list(df.columns) == cols
        seen.append(len(df))
        return linear(df.to_numpy())

    res = deletion(frame_model, exact, pd.DataFrame(X, columns=cols), target=0,
                   background=pd.DataFrame(background, columns=cols), batch_size=7)
    ref = deletion(linear, exact, X, target=0, background=background)
    np.testing.assert_allclose(res.curves, ref.curves, atol=1e-12)
    assert max(seen) <= 7


def test_sample_baseline_averages_background_rows(case):
    X, background, _ = case
    res = deletion(linear, np.ones_like(X), X, target=0, background=background[:5],
                   baseline="sample", n_random=0, steps=2)
    # linear: the mean output over the rows equals the output at their mean
    end = W @ background[:5].mean(axis=0) + C
    np.testing.assert_allclose(res.curves[:, 0, -1], end, atol=1e-12)
    assert res.n_evals == len(X) * 3 * 5


def test_callback_sees_progress_and_can_cancel(case):
    X, background, exact = case
    calls = []
    deletion(linear, exact, X, target=0, background=background, batch_size=10,
             callback=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] == len(X) * 6 * 7 and len(calls) > 1
    with pytest.raises(Cancelled):
        deletion(linear, exact, X, target=0, background=background, batch_size=10,
                 callback=lambda done, total: False)


def test_predicted_class_and_explanation_labels():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 3))

    def two(Z):
        return np.stack([Z[:, 0], -Z[:, 0]], axis=1)

    res = deletion(two, rng.normal(size=X.shape), X, background=X, n_random=0)
    picked = np.where(X[:, 0] > 0, 0, 1)
    np.testing.assert_allclose(res.curves[:, 0, 0], two(X)[np.arange(5), picked])
    exp = Explanation(values=rng.normal(size=(5, 2, 3)), labels=[0, 1], method="m",
                      features=Features(kind="tabular", names=["a", "b", "c"], data=X))
    res = deletion(two, exp, background=X, n_random=0)
    assert res.scores.shape == (5, 2)
    np.testing.assert_allclose(res.curves[:, 1, 0], -X[:, 0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"steps": 7}, InputError, "steps"),
    ({"steps": 0}, InputError, "steps"),
    ({"baseline": np.zeros(4)}, InputError, "baseline"),
    ({"baseline": "blur"}, InputError, "baseline"),
    ({"baseline": [1, "a"]}, InputTypeError, "baseline"),
    ({"background": np.zeros((3, 2))}, InputError, "background"),
    ({"n_random": -1}, InputError, "n_random"),
    ({"x_shape": (4, 5)}, InputError, "explanation"),
    ({"x_rows": 3}, InputError, "x"),
    ({"target": 2}, InputError, "target"),
    ({"batch_size": 0}, InputError, "batch_size"),
    ({"x_nan": True}, InputError, "x"),
])
def test_bad_input(case, kwargs, error, match):
    X, background, exact = case
    x = X
    if "x_shape" in kwargs:
        x = np.zeros(kwargs.pop("x_shape"))
    if "x_rows" in kwargs:
        x = X[: kwargs.pop("x_rows")]
    if kwargs.pop("x_nan", False):
        x = X.copy()
        x[0, 0] = np.nan
    kwargs.setdefault("background", background)
    kwargs.setdefault("target", 0)
    with pytest.raises(error, match=match):
        deletion(linear, exact, x, **kwargs)


def test_bad_input_of_the_perturbation_metrics(case):
    X, background, exact = case
    with pytest.raises(InputError, match="blur_sigma"):
        deletion(linear, np.ones((1, 4, 4, 3)), np.ones((1, 4, 4, 3)), target=0, blur_sigma=-1)
    with pytest.raises(InputError, match="n_background"):
        deletion(linear, exact, X, target=0, baseline="sample", n_background=0)
    with pytest.raises(InputError, match="subset_size"):
        faithfulness_correlation(linear, exact, X, target=0, background=background,
                                 subset_size=W.size)
    with pytest.raises(InputError, match="perturbation"):
        infidelity(linear, exact, X, target=0, background=background, perturbation="noise")
    with pytest.raises(InputError, match="subset_fraction"):
        infidelity(linear, exact, X, target=0, background=background, subset_fraction=1.0)
    with pytest.raises(InputError, match="background"):
        deletion(linear, exact[:1], X[:1], target=0)
    exp = text_explanation(["good bad"], {"good": 1.0, "bad": -1.0})
    with pytest.raises(NotSupportedError, match="perturbation"):
        infidelity(count_model, exp, perturbation="gaussian")
    with pytest.raises(InputError, match="target"):
        deletion(count_model, exp, target=0)
    with pytest.raises(InputTypeError, match="baseline"):
        deletion(count_model, exp, baseline=0)


def test_torch_explanation_of_images_channels_first():
    """Integrated Gradients of a linear network from 0 is w * x: exact for removal to 0."""
    torch = pytest.importorskip("torch")
    from whylens.torch import IntegratedGradients

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 6 * 5, 2)).double()
    x = torch.rand(2, 3, 6, 5, dtype=torch.float64)
    exp = IntegratedGradients(net)(x, target=1)
    res = infidelity(net, exp, baseline="zero", n_random=2)  # x from exp (channels-last)
    np.testing.assert_allclose(res.scores, 0.0, atol=1e-20)
    d = deletion(net, exp, baseline="zero", steps=9, n_random=2)
    w = net[1].weight.detach()[1].numpy().reshape(3, 6, 5)
    out = net(x).detach().numpy()[:, 1]
    for i in range(2):
        a = (w * x[i].numpy()).ravel()
        counts = np.rint(np.linspace(0, a.size, 10)).astype(int)
        cum = np.r_[0.0, np.cumsum(np.sort(a)[::-1])]
        np.testing.assert_allclose(d.curves[i, 0], out[i] - cum[counts], atol=1e-9)


def test_token_ids_with_a_layer_explanation_of_the_embedding():
    """Per-token scores summed over the embedding axis; removed tokens become the mask id."""
    torch = pytest.importorskip("torch")
    from whylens.torch import LayerIntegratedGradients

    class Bag(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, ids):
            return self.fc(self.emb(ids).sum(dim=1))

    torch.manual_seed(0)
    net = Bag().double()
    ids = torch.tensor([[3, 5, 7, 1, 2], [4, 4, 8, 9, 6]])
    exp = LayerIntegratedGradients(net, net.emb)(ids, target=1, baselines=0)
    assert exp.values.shape == (2, 1, 5, 4)
    # linear in the embeddings: the per-token sums are exact for replacing a token by id 0
    res = infidelity(net, exp, n_random=2)
    np.testing.assert_allclose(res.scores, 0.0, atol=1e-20)
    seen = []

    def spy(batch):
        seen.append(np.asarray(batch))
        return net(torch.as_tensor(np.asarray(batch))).detach().numpy()

    deletion(spy, exp, baseline=9, n_random=0)
    last = np.concatenate(seen)[-1]
    assert last.dtype.kind == "i" and (last == 9).all()

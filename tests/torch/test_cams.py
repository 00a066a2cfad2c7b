"""CAMs: hand-computed maps, closed forms, region recovery, 1-D models, batches."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError, InputTypeError, ModelError  # noqa: E402
from whylens.torch import (  # noqa: E402
    CAM_METHODS,
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    cam,
)

from .models import (  # noqa: E402
    FlatNet,
    GapNet,
    HandConv,
    RegionNet,
    TextCNN,
    ValidConvText,
    seeded,
)
from .test_hooks import odd_model  # noqa: E402

HAND_X = torch.arange(16.0).reshape(1, 1, 4, 4)
A0 = np.array([[10.0, 18.0], [42.0, 50.0]])
A1 = np.full((2, 2), -5.0)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # relu(0.5 * A0 - 0.25 * A1)
        (GradCAM, 0.5 * A0 + 1.25),
        # gradients are constant, so gradient x activation gives the same map
        (HiResCAM, 0.5 * A0 + 1.25),
        # relu(0.5) * A0 + relu(-0.25) * A1
        (LayerCAM, 0.5 * A0),
        # alpha = g^2 / (2 g^2 + sum(A0) g^3) = 0.25 / (0.5 + 120 * 0.125), w0 = 4 * 0.5 * alpha
        (GradCAMPlusPlus, 4 * 0.5 * (0.25 / (0.5 + 120 * 0.125)) * A0),
        # y = 65; zeroing A0 gives 5, zeroing A1 gives 60: w = (60/65, 5/65)
        (AblationCAM, 60 / 65 * A0 + 5 / 65 * A1),
        # centred channel 0 = A0 - 30, channel 1 constant: projection A0 - 30, relu
        (EigenCAM, np.maximum(A0 - 30.0, 0.0)),
    ],
)
def test_hand_computed_4x4(method, expected):
    exp = method(HandConv())(HAND_X)
    assert exp.layer_values.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(exp.layer_values[0, 0], expected, rtol=1e-6)
    assert exp.values.shape == (1, 1, 4, 4)
    assert exp.labels.tolist() == [0]
    assert exp.method == f"torch.{method.name}"


def test_upsampled_map_is_bilinear_of_layer_map():
    exp = GradCAM(HandConv())(HAND_X)
    up = torch.nn.functional.interpolate(torch.tensor(exp.layer_values), size=(4, 4),
                                         mode="bilinear", align_corners=False)
    np.testing.assert_allclose(exp.values, up.numpy())


def test_gradcam_on_gap_head_equals_closed_form_cam():
    model = seeded(GapNet())
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    exp = GradCAM(model, "features.3")(x, labels=[0, 2])
    acts = model.features(x).detach()  # (2, C, 4, 4)
    w = model.head.weight.detach()  # (classes, C)
    for j, c in enumerate([0, 2]):
        closed = torch.relu(torch.einsum("k,nkhw->nhw", w[c], acts)) / 16  # mean grad = w/hw
        np.testing.assert_allclose(exp.layer_values[:, j], closed.numpy(), atol=1e-6)


def test_hirescam_is_gradient_times_activation():
    model = seeded(FlatNet())
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    exp = HiResCAM(model, "conv")(x, target=1)
    a = model.conv(x).detach().requires_grad_(True)
    y = model.fc(torch.relu(a).flatten(1))[0, 1]
    (g,) = torch.autograd.grad(y, a)
    expected = torch.relu((g * a).sum(dim=1)).detach()
    np.testing.assert_allclose(exp.layer_values[:, 0], expected.numpy(), atol=1e-10)
    # Grad-CAM differs here: its weights are spatial means
    grad = GradCAM(model, "conv")(x, target=1)
    assert not np.allclose(grad.layer_values, exp.layer_values)


def test_scorecam_single_channel_weight_is_one():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 2, stride=2), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(1, 3)).double()
    seeded(model, 3)
    x = torch.rand(1, 1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    exp = ScoreCAM(model, "1")(x, target=2)
    np.testing.assert_allclose(exp.layer_values[0, 0], model[:2](x)[0, 0].detach().numpy())
    assert exp.n_evals == 2  # the forward and one masked input


def test_scorecam_and_ablation_do_not_depend_on_batch_size():
    model = seeded(GapNet())
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    for method in (ScoreCAM, AblationCAM):
        one = method(model, "features.2", batch_size=1)(x, target=[1, 3])
        many = method(model, "features.2", batch_size=5)(x, target=[1, 3])
        np.testing.assert_allclose(one.layer_values, many.layer_values, rtol=1e-12)
        assert one.n_evals == many.n_evals == 2 + 2 * 6


def test_scorecam_and_ablation_probe_chunk_sizes_under_the_budget(monkeypatch):
    from whylens.models import _chunks

    clock = [0.0]
    monkeypatch.setattr(_chunks, "_clock", lambda: clock[0])

    class Timed(torch.nn.Module):
        """GapNet on a fake clock whose forwards are fastest at 8 rows (1 ms per row there)."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = seeded(GapNet(width=40))
            self.calls: list[int] = []

        def forward(self, x):
            rows = int(x.shape[0])
            self.calls.append(rows)
            clock[0] += rows * 1e-3 * (1 + abs(np.log2(rows / 8)))
            return self.inner(x)

    model = Timed()
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    budget = 16 * x[0].numel() * 8 * 50  # 50 rows per extra forward
    for method in (ScoreCAM, AblationCAM):
        model.calls.clear()
        explainer = method(model, "inner.features.2", memory_budget=budget)
        probed = explainer(x, labels=[1, 3])
        extra = model.calls[1:]  # after the explained forward: 4 inputs x 40 channels
        # the runner's probe (tests/models/test_chunks.py) times a few sizes on the first
        # rows, then the job goes on in the fastest, 8
        assert extra[0] == 4 and set(extra) <= {4, 8, 16, 32, 50} and extra[-2:-4:-1] == [8, 8]
        assert sum(extra) == 160 and max(extra) <= 50 and explainer.last_chunks.probed
        assert probed.n_evals == 4 + 160 and probed.params["batch_size"] == 50
        assert explainer.last_chunks.chunk_size == 8
        model.calls.clear()
        again = explainer(x, labels=[1, 3])  # the chosen size is reused: no second probe
        assert set(model.calls[1:-1]) == {8} and explainer.last_chunks.probed == {}
        np.testing.assert_array_equal(again.layer_values, probed.layer_values)
        fixed = method(model, "inner.features.2", batch_size=50)(x, labels=[1, 3])
        np.testing.assert_allclose(probed.layer_values, fixed.layer_values, rtol=1e-12)


def red_green_image(size: int = 12) -> torch.Tensor:
    """Red 4×4 patch top-left, equally bright green 4×4 patch bottom-right, black elsewhere."""
    x = torch.zeros(1, 3, size, size, dtype=torch.float64)
    x[0, 0, 1:5, 1:5] = 1.0
    x[0, 1, 7:11, 7:11] = 1.0
    return x


@pytest.mark.parametrize("method", sorted(set(CAM_METHODS) - {"eigencam"}))
def test_region_classifier_max_lies_in_the_region(method):
    exp = cam(method, RegionNet().double(), "conv")(red_green_image(), target=1)
    heat = exp.values[0, 0]
    peak = np.unravel_index(np.argmax(heat), heat.shape)
    assert 1 <= peak[0] < 5 and 1 <= peak[1] < 5, (method, peak)
    assert heat[7:11, 7:11].max() < heat[1:5, 1:5].max()


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_batch_equals_instances_one_by_one(method):
    model = seeded(GapNet())
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    batch = cam(method, model, "features.2")(x, labels=[0, 1])
    assert batch.values.shape == (3, 2, 8, 8)
    for i in range(3):
        single = cam(method, model, "features.2")(x[i : i + 1], labels=[0, 1])
        np.testing.assert_allclose(batch.layer_values[i], single.layer_values[0],
                                   rtol=1e-9, atol=1e-12)
        assert batch[i].layer_values.shape == (1, 2, 4, 4)


def test_default_target_is_each_instances_top_class():
    model = seeded(GapNet())
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    top = model(x).argmax(1).tolist()
    assert len(set(top)) > 1  # the rows' top classes differ
    exp = GradCAM(model)(x)
    assert exp.labels.tolist() == [[t] for t in top]  # one label per row
    assert exp.values.shape == (4, 1, 8, 8)
    for i in range(4):
        alone = GradCAM(model)(x[i : i + 1], target=top[i])
        np.testing.assert_array_equal(exp.layer_values[i], alone.layer_values[0])
        assert exp[i].labels.tolist() == [top[i]]
    assert exp.params["layer"] == "features.3"  # the last spatial layer, found by shape
    np.testing.assert_allclose(exp.output, model(x).detach().numpy())


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "hirescam", "layercam",
                                    "ablationcam", "eigencam"])
def test_one_dimensional_text_cnn(method):
    model = seeded(TextCNN())
    ids = torch.tensor([[1, 5, 7, 2, 9, 3, 4], [4, 4, 8, 1, 0, 2, 6]])
    exp = cam(method, model, "conv")(ids, target=1)
    assert exp.features.kind == "sequence"
    assert exp.layer_values.shape == (2, 1, 7)
    assert exp.values.shape == (2, 1, 7)  # one value per token
    if method == "gradcam":
        a = torch.relu(model.conv(model.emb(ids).transpose(1, 2))).detach()
        # max over time: the gradient is w[1, k] at the argmax position only
        g = torch.zeros_like(a)
        w1 = model.fc.weight[1].detach()[None, :, None].expand(2, 4, 1)
        g.scatter_(2, a.argmax(2, keepdim=True), w1)
        # the conv output feeds relu then max; grad passes where relu is active
        pre = model.conv(model.emb(ids).transpose(1, 2)).detach()
        g = g * (pre > 0)
        expected = torch.relu((g.mean(2, keepdim=True) * pre).sum(1))
        np.testing.assert_allclose(exp.layer_values[:, 0], expected.numpy(), atol=1e-10)


WORDS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
VOCAB = {"<pad>": 0, "great": 7, **{w: 2 + (i % 5) for i, w in enumerate(WORDS)}}


@pytest.mark.parametrize("position", range(1, 11))
def test_gradcam_1d_upsampled_from_an_unpadded_kernel3_conv_peaks_at_the_token(position):
    """Conv1d(k=3, no padding): a map of L - 2 positions, position j centred on token
    j + 1. Upsampled to the L tokens, each token gets its centred position's value
    (the two edge tokens, no position's centre, repeat the edge value), so the peak
    is at the token the model reacts to, also in the outer quarters of the sequence
    where stretching the map would put it on a neighbour."""
    from whylens.representations import TokenIdRepresentation

    length = 12
    model = ValidConvText(kernel=3)
    words = list(WORDS)
    words[position] = "great"
    text = " ".join(words)
    rep = TokenIdRepresentation(VOCAB, max_len=length)
    raw = GradCAM(model, "conv")(rep.to_tensor(text), target=1)
    assert raw.layer_values.shape == (1, 1, length - 2)  # the layer is shorter
    assert raw.values.shape == (1, 1, length)  # upsampled to the sequence
    layer = np.zeros(length - 2)
    layer[position - 1] = 1 / (length - 2)  # count / L_layer at the centred position
    np.testing.assert_allclose(raw.layer_values[0, 0], layer, atol=1e-12)
    np.testing.assert_allclose(raw.values[0, 0], layer[np.clip(np.arange(length) - 1, 0,
                                                                  length - 3)], atol=1e-12)
    exp = rep.explain(GradCAM(model, "conv"), text, target=1)
    assert exp.feature_names == words
    values = exp.values[0, 0]
    assert values[position] == values.max() > 0
    ties = {position} | ({0} if position == 1 else set()) | (
        {length - 1} if position == length - 2 else set())
    assert set(np.flatnonzero(values == values.max())) == ties
    (start, end), = exp.features.spans[0][position]
    assert text[start:end] == "great"


def test_gradcam_1d_unpadded_conv_with_prepadding_follows_the_token_offsets():
    """A short review, pre-padded: the token the model reacts to keeps the maximum."""
    from whylens.representations import TokenIdRepresentation

    model = ValidConvText(kernel=3)
    rep = TokenIdRepresentation(VOCAB, max_len=10)  # 5 padding ids, then the 5 tokens
    text = "a b great c d"
    exp = rep.explain(GradCAM(model, "conv"), text, target=1)
    assert exp.values.shape == (1, 1, 5)
    j = int(np.argmax(exp.values[0, 0]))
    (start, end), = exp.features.spans[0][j]
    assert text[start:end] == "great" and j == 2
    # the per-position map: token 'great' sits at sequence position 7, layer position 6
    np.testing.assert_allclose(exp.layer_values[0, 0], np.eye(10)[7] / 8, atol=1e-12)


@pytest.mark.parametrize(("kernel", "dilation", "padding"),
                         [(2, 1, 0), (3, 2, 0), (5, 1, 1), (4, 1, 1)])
def test_unpadded_conv_maps_are_placed_at_their_receptive_field_centres(kernel, dilation,
                                                                        padding):
    """Position j of a stride-1 conv is centred on input j - padding + dilation*(k-1)/2;
    values between positions are linear, beyond the edges the edge value."""
    from whylens.torch import upsample

    conv = torch.nn.Conv1d(3, 2, kernel, dilation=dilation, padding=padding)
    length = 11
    out_len = length + 2 * padding - dilation * (kernel - 1)
    maps = torch.rand(2, 1, out_len, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(kernel))
    up = upsample(maps, (length,), conv=conv)
    offset = dilation * (kernel - 1) / 2 - padding
    t = np.arange(length)
    for i in range(2):
        expected = np.interp(t - offset, np.arange(out_len), maps[i, 0].numpy())
        np.testing.assert_allclose(up[i, 0].numpy(), expected, atol=1e-12)
    # a layer that does not run at the input's resolution is resized as before
    pooled = torch.rand(1, 1, 5, dtype=torch.float64)
    np.testing.assert_allclose(
        upsample(pooled, (11,), conv=conv).numpy(),
        torch.nn.functional.interpolate(pooled, size=11, mode="linear").numpy())


def test_gradcam_2d_at_an_unpadded_first_conv_is_centred():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 2))
    model = seeded(model, 4)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    exp = GradCAM(model, "0")(x, target=1)
    assert exp.layer_values.shape == (1, 1, 6, 6) and exp.values.shape == (1, 1, 8, 8)
    idx = np.clip(np.arange(8) - 1, 0, 5)
    np.testing.assert_allclose(exp.values[0, 0], exp.layer_values[0, 0][np.ix_(idx, idx)],
                               atol=1e-12)


def test_scorecam_refuses_token_ids():
    with pytest.raises(Exception, match="floating-point input"):
        ScoreCAM(seeded(TextCNN()), "conv")(torch.tensor([[1, 2, 3]]))


def test_meta_device_model_is_refused():
    model = GapNet().to("meta")
    with pytest.raises(InputError, match="on the model's device"):
        GradCAM(model, "features.0")(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize(
    ("kwargs", "call", "error", "match"),
    [
        ({"layer": "features.9"}, {}, InputError, r"Closest names: features\.3"),
        ({"layer": "fetures.2"}, {}, InputError, r"features\.2"),
        ({"layer": "head"}, {}, InputError, "spatial layer"),
        ({"layer": "pool"}, {}, InputError, "spatial layer"),
        ({"layer": 3.5}, {}, InputTypeError, "layer name"),
        ({"layer": torch.nn.Conv2d(1, 1, 1)}, {}, InputError, "not part of the model"),
        ({"layer": "features.2"}, {"target": 4}, InputError, r"output index in \[0, 4\)"),
        ({"layer": "features.2"}, {"target": -1}, InputError, r"\[0, 4\), got -1"),
        ({"layer": "features.2"}, {"target": True}, InputTypeError, "target"),
        ({"layer": "features.2"}, {"target": 1.5}, InputTypeError, "target"),
        ({"layer": "features.2"}, {"target": "cat"}, InputError, "outputs have no names"),
        ({"layer": "features.2"}, {"target": [0, 1]}, InputError,
         r"length 1, got a sequence of length 2.*labels=\[\.\.\.\]"),
        ({"layer": "features.2"}, {"target": [[0, 1]]}, InputError, "labels="),
        ({"layer": "features.2"}, {"labels": [0, 9]}, InputError, r"\[0, 4\), got 9"),
        ({"layer": "features.2"}, {"labels": []}, InputError, "non-empty"),
        ({"layer": "features.2"}, {"labels": [0], "target": 1}, InputError, "not both"),
        ({"layer": "features.2"}, {"callback": 3}, InputTypeError, "callback"),
        ({"layer": "features.2"}, {"x": torch.zeros(8)}, InputError, "batch dimension|x\\[None\\]"),
        ({"layer": "features.2"}, {"x": "img"}, InputTypeError, "torch.Tensor"),
        ({"layer": "features.2", "batch_size": 0}, {}, InputError, "batch_size"),
        ({"layer": "features.2", "memory_budget": 0}, {}, InputError, "memory_budget"),
        ({"layer": "features.2", "memory_budget": 1.5}, {}, InputTypeError, "memory_budget"),
    ],
)
def test_bad_inputs(kwargs, call, error, match):
    model = seeded(GapNet())
    call = dict(call)
    x = call.pop("x", torch.zeros(1, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(error, match=match):
        GradCAM(model, **kwargs)(x, **call)


def test_model_that_raises_is_chained():
    from .models import Raises

    with pytest.raises(ModelError) as info:
        GradCAM(Raises(seeded(GapNet())), "inner.features.0")(torch.zeros(1, 3, 8, 8,
                                                                          dtype=torch.float64))
    assert isinstance(info.value.__cause__, RuntimeError)


def test_factory_names_and_unknown_method():
    model = seeded(GapNet())
    assert isinstance(cam("GradCAM++", model), GradCAMPlusPlus)
    assert isinstance(cam("grad_cam", model), GradCAM)
    with pytest.raises(InputError, match="one of"):
        cam("smoothcam", model)


def test_explanation_round_trips_json():
    from whylens import Explanation

    exp = GradCAM(HandConv())(HAND_X)
    back = Explanation.from_json(exp.to_json())
    assert back == exp
    np.testing.assert_array_equal(back.layer_values, exp.layer_values)


class _ValidConvSignal(torch.nn.Module):
    """A float (n, 3, L) signal -> unpadded Conv1d(k=3) -> ReLU -> sum over time -> 2 logits.

    Channel 0 reads coordinate 0 of the input at the centre tap, so it is 1 at layer
    position ``j`` exactly when input position ``j + 1`` is a marked one; logit 1
    counts the marks; channel 1 is zero."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(3, 2, 3, bias=False)
        self.head = torch.nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 0, 1] = 1.0
            self.head.weight.zero_()
            self.head.weight[1, 0] = 1.0
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).sum(dim=2))


@pytest.mark.parametrize("position", [1, 2, 5, 9, 10])
def test_scorecam_masks_at_an_unpadded_conv_are_centred(position):
    """The mask of channel 0 is 1 exactly on the marked input (centred, not stretched),
    so masking keeps the mark: score 1 for channel 0, 0 for the all-zero channel 1,
    weights softmax([1, 0]) and the layer map w0 * activation, exactly."""
    L = 12
    x = torch.zeros(1, 3, L, dtype=torch.float64)
    x[0, 0, position] = 1.0
    model = _ValidConvSignal()
    exp = ScoreCAM(model, "conv")(x, target=1)
    acts = torch.relu(model.conv(x)).detach()
    w0 = float(np.exp(1.0) / (np.exp(1.0) + 1.0))
    np.testing.assert_allclose(exp.layer_values[0, 0], w0 * acts[0, 0].numpy(), atol=1e-12)
    if 1 < position < L - 2:  # edge inputs repeat the edge value (tie with a neighbour)
        assert int(np.argmax(exp.values[0, 0])) == position


# ---------------------------------------------------------------------- the convention
X_ROWS = torch.randn(3, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(9))


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
@pytest.mark.parametrize("as_type", [list, np.asarray, torch.tensor])
def test_per_row_target_equals_each_row_explained_alone(method, as_type):
    model = seeded(GapNet())
    targets = [2, 0, 3]
    exp = cam(method, model, "features.2")(X_ROWS, target=as_type(targets))
    assert exp.labels.tolist() == [[2], [0], [3]]
    assert exp.values.shape == (3, 1, 8, 8)
    for i, t in enumerate(targets):
        alone = cam(method, model, "features.2")(X_ROWS[i : i + 1], target=t)
        np.testing.assert_allclose(exp.layer_values[i], alone.layer_values[0], rtol=1e-12,
                                   atol=1e-14)
        assert exp[i].labels.tolist() == [t]


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_labels_argument_equals_separate_calls(method):
    model = seeded(GapNet())
    exp = cam(method, model, "features.2")(X_ROWS, labels=[3, 1])
    assert exp.labels.tolist() == [3, 1] and exp.values.shape == (3, 2, 8, 8)
    for j, label in enumerate([3, 1]):
        one = cam(method, model, "features.2")(X_ROWS, target=label)
        np.testing.assert_allclose(exp.layer_values[:, j], one.layer_values[:, 0],
                                   rtol=1e-12, atol=1e-14)
    every = cam(method, model, "features.2")(X_ROWS, target="all")
    assert every.labels.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(every.layer_values[:, [3, 1]], exp.layer_values, rtol=1e-12,
                               atol=1e-14)


class RowwiseGapNet(GapNet):
    """GapNet whose head is an elementwise product and sum: each row's output has the
    same bits in any batch (torch's Linear, a BLAS product, rounds differently for
    different batch sizes; the convolutions here do not)."""

    def forward(self, x):
        pooled = self.pool(self.features(x)).flatten(1)
        return (pooled[:, None, :] * self.head.weight).sum(dim=2) + self.head.bias


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_maps_are_bit_identical_across_batch_sizes(method):
    model = seeded(RowwiseGapNet())
    runs = [cam(method, model, "features.2", batch_size=b)(X_ROWS, labels=[0, 2])
            for b in (1, 2, 7, None)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.values, runs[0].values)
        np.testing.assert_array_equal(other.layer_values, runs[0].layer_values)
        np.testing.assert_array_equal(other.output, runs[0].output)
        assert other.n_evals == runs[0].n_evals


def test_rows_go_through_the_model_in_chunks_of_batch_size():
    class Counting(GapNet):
        def forward(self, x):
            self.calls.append(int(x.shape[0]))
            return super().forward(x)

    model = seeded(Counting())
    model.calls = []
    GradCAM(model, "features.2", batch_size=2)(torch.cat([X_ROWS, X_ROWS[:2]]), target=1)
    assert model.calls == [2, 2, 1]
    model.calls = []
    exp = ScoreCAM(model, "features.2", batch_size=4)(X_ROWS, target=1)
    assert model.calls == [3] + [4] * 4 + [2]  # 3 rows, then 3 x 6 masked inputs
    assert exp.n_evals == 3 + 18 and exp.params["batch_size"] == 4


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_callback_counts_every_model_row(method):
    model = seeded(GapNet())
    seen = []
    cam(method, model, "features.2", batch_size=2)(
        X_ROWS, target=1, callback=lambda done, total: seen.append((done, total)))
    extra = 3 * 6 if method in ("scorecam", "ablationcam") else 0  # 6 channels per row
    total = 3 + extra
    assert {t for _, t in seen} == {total}
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == total
    assert done[:2] == [2, 3]  # the explained rows, in chunks of 2


def _flags(model):
    return ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
            [p.grad for p in model.parameters()])


def _no_hooks(model):
    return not any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                   for m in model.modules())


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
@pytest.mark.parametrize("stop", ["false", "raise"])
def test_callback_cancels_between_chunks_and_leaves_the_model_as_it_was(method, stop):
    from whylens.errors import Cancelled

    model = odd_model()
    before = _flags(model)
    seen = []

    def callback(done, total):
        seen.append(done)
        if stop == "raise":
            raise Cancelled("stop")
        return False

    with pytest.raises(Cancelled):
        cam(method, model, "features.2", batch_size=1)(X_ROWS, target=1, callback=callback)
    assert seen == [1]  # stopped after the first chunk
    assert _flags(model) == before and _no_hooks(model)
    # the same object explains normally afterwards
    assert cam(method, model, "features.2", batch_size=1)(X_ROWS, target=1).values.shape[0] == 3


def test_scorecam_cancels_inside_its_extra_forwards():
    from whylens.errors import Cancelled

    model = odd_model()
    before = _flags(model)
    seen = []
    with pytest.raises(Cancelled):
        ScoreCAM(model, "features.2", batch_size=4)(
            X_ROWS, target=1,
            callback=lambda done, total: seen.append(done) or done < 3 + 8)
    assert seen == [3, 3 + 4, 3 + 8]  # the rows, then two chunks of masked inputs
    assert _flags(model) == before and _no_hooks(model)


def test_progress_bar_is_shown_when_asked(capsys):
    model = seeded(GapNet())
    ScoreCAM(model, "features.2", batch_size=2)(X_ROWS, target=1, progress=True)
    assert "whylens: scorecam" in capsys.readouterr().err
    ScoreCAM(model, "features.2", batch_size=2)(X_ROWS, target=1, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- threads, pickling
@pytest.mark.parametrize("n_threads", [2, 8])
@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "scorecam", "ablationcam"])
@pytest.mark.parametrize("shared", [True, False])
def test_threads_on_one_model_give_the_sequential_maps(n_threads, method, shared):
    """One CAM object (or one per thread) on one model: every map equals the sequential
    one (before the model lock, 11-13 of 20 Grad-CAM maps came out all zero)."""
    from concurrent.futures import ThreadPoolExecutor

    model = odd_model()
    before = _flags(model)
    xs = [torch.randn(2, 3, 8, 8, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(100 + i)) for i in range(16)]
    one = cam(method, model, "features.2", batch_size=1)
    expected = [one(x, target=1).layer_values for x in xs]

    def run(x):
        explainer = one if shared else cam(method, model, "features.2", batch_size=1)
        return explainer(x, target=1).layer_values

    with ThreadPoolExecutor(n_threads) as pool:
        got = list(pool.map(run, xs))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(np.abs(a).sum() > 0 for a in got)
    assert _flags(model) == before and _no_hooks(model)


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_cams_pickle_and_explain_the_same_after_unpickling(method):
    import pickle

    model = seeded(GapNet())
    explainer = cam(method, model, "features.2", batch_size=2)
    first = explainer(X_ROWS, target=[1, 0, 2])
    back = pickle.loads(pickle.dumps(explainer))
    assert type(back) is type(explainer) and back.layer == "features.2"
    again = back(X_ROWS, target=[1, 0, 2])
    np.testing.assert_array_equal(again.values, first.values)
    assert again == first
    assert pickle.loads(pickle.dumps(first)) == first

"""Ray chunks of torch methods ask for a GPU when the cluster has one (no GPU here: the
decision and the placement are tested, the CUDA run itself is not)."""

from __future__ import annotations

import pytest

from whylens.batch._engines import place_on_gpu, task_resources


@pytest.mark.parametrize(("method", "cluster", "expected"), [
    ("torch.gradcam", {"CPU": 8, "GPU": 2}, {"num_cpus": 1, "num_gpus": 1}),
    ("torch.integratedgradients", {"CPU": 8, "GPU": 1.0}, {"num_cpus": 1, "num_gpus": 1}),
    ("torch.gradcam", {"CPU": 8}, {"num_cpus": 1}),
    ("torch.saliency", {"CPU": 8, "GPU": 0}, {"num_cpus": 1}),
    ("shap.kernel", {"CPU": 8, "GPU": 4}, {"num_cpus": 1}),
    ("lime.tabular", {"CPU": 8, "GPU": 4}, {"num_cpus": 1}),
])
def test_only_torch_chunks_ask_for_a_gpu_and_only_when_there_is_one(method, cluster, expected):
    assert task_resources(method, cluster) == expected


def test_the_model_stays_where_it_is_without_an_assigned_gpu():
    torch = pytest.importorskip("torch")
    from whylens.batch._methods import Work
    from whylens.torch import GradCAM

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU())
    work = Work(method="torch.gradcam", explainer=GradCAM(model, "0"), frame_columns=None,
                features=[], call={})
    assert place_on_gpu(work, []) is work
    assert next(model.parameters()).device.type == "cpu"
    if not torch.cuda.is_available():  # an id Ray would give, but no CUDA: stays on the CPU
        assert place_on_gpu(work, [0]) is work
        assert next(model.parameters()).device.type == "cpu"

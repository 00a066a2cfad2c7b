"""whylens.batch on Ray: the same values as the local engine for Kernel SHAP, Linear SHAP
and LIME with the same seed on a 5,000-row table; a Ray worker killed mid-task is retried
and its part written once.

One local Ray instance (127.0.0.1, 2 CPUs) serves the module. Marked ``ray``: a
developer may deselect them (``-m 'not ray'``); without Ray they are skipped
only outside CI (where the ``scale`` extra is installed and a missing Ray fails).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

if os.environ.get("CI"):
    import pyarrow  # noqa: F401  (CI installs the scale extra: a missing one fails)
    import ray
else:
    pytest.importorskip("pyarrow", reason="the scale extra is not installed")
    ray = pytest.importorskip("ray", reason="Ray is not installed (the scale extra)")

from tests.batch import _models
from whylens.batch import explain_dataset
from whylens.batch import open as open_output
from whylens.batch._store import MANIFEST

pytestmark = pytest.mark.ray

CASES = {
    "shap.kernel": (_models.logistic, {"nsamples": 40, "background": 20}, 1000),
    "shap.linear": (_models.logistic, {}, 1000),
    "lime.tabular": (_models.logistic, {"num_samples": 20, "background": 200}, 1000),
}


@pytest.fixture(scope="module")
def ray_instance():
    """A local Ray instance on loopback with 2 CPUs, started once for the module."""
    from whylens.batch._engines import start_ray

    if ray.is_initialized():  # pragma: no cover - another module left one running
        ray.shutdown()
    assert start_ray(2, None)
    node = ray.nodes()[0]
    assert node["NodeManagerAddress"] == "127.0.0.1"
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def frame():
    return _models.table(5000)


def values_of(output) -> np.ndarray:
    table = open_output(output).to_table().to_pandas().sort_values("row")
    assert table["row"].tolist() == list(range(len(table)))
    return table.to_numpy()


@pytest.mark.parametrize("method", sorted(CASES))
def test_ray_equals_local(ray_instance, frame, tmp_path, method):
    factory, params, chunk_rows = CASES[method]
    model = factory()
    runs = {}
    for engine, jobs in (("local", 1), ("ray", 2)):
        out = tmp_path / engine
        result = explain_dataset(model, frame, method, params=params, output=out,
                                 chunk_rows=chunk_rows, engine=engine, jobs=jobs,
                                 random_state=5, progress=False)
        assert result.chunks_run == 5
        runs[engine] = values_of(out)
    np.testing.assert_array_equal(runs["local"], runs["ray"])
    local = json.loads((tmp_path / "local" / MANIFEST).read_text())
    remote = json.loads((tmp_path / "ray" / MANIFEST).read_text())
    assert local["chunks"] == remote["chunks"]  # byte-identical parts (same checksums)


def test_killed_ray_worker_is_retried_and_written_once(ray_instance, frame, tmp_path):
    marker = tmp_path / "killed"
    model = _models.DieOnce(str(marker))
    params = {"nsamples": 40, "background": 20}
    data = frame[:2000]
    explain_dataset(model, data, "shap.kernel", params=params, output=tmp_path / "ray",
                    chunk_rows=500, engine="ray", jobs=2, progress=False)
    assert marker.exists()  # a worker died mid-task
    explain_dataset(_models.logistic(), data, "shap.kernel", params=params,
                    output=tmp_path / "local", chunk_rows=500, progress=False)
    ours, reference = values_of(tmp_path / "ray"), values_of(tmp_path / "local")
    # DieOnce returns the logistic model's probabilities: the same values.
    np.testing.assert_array_equal(ours, reference)
    assert len(list((tmp_path / "ray").glob("part-*.parquet"))) == 4

"""The torch methods of whole-dataset jobs: gradient CAMs, Integrated Gradients, saliency.

Each row's map is stored flattened in one ``map`` column (float32, fixed-size
lists), its shape in the manifest's layout (``map_shape``):

- CAMs (``torch.gradcam``, ``torch.gradcam++``, ``torch.hirescam``,
  ``torch.layercam``): the map upsampled to the input, (H, W) (or (L,));
- ``torch.integratedgradients`` and ``torch.saliency``: the attributions
  summed over the input's channels, (H, W) (or (L,)); for Integrated
  Gradients the sum keeps completeness (the map sums to ``output[label] -
  base_value``).

A part's columns: ``row``, ``label`` (the output explained: the row's
predicted class, or ``target``), ``map``, ``mean_abs`` (mean |map| of the
row), ``base_value`` (Integrated Gradients: the output at the zero baseline),
``output:<i>`` (the model's output row, as the model returns it). The methods
draw no random numbers; each chunk runs with one torch thread, so the values do
not depend on the engine or the number of workers.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from whylens.errors import InputError, ModelError, WhylensError, describe

__all__ = ["CAMS", "TORCH_OPTIONS", "build_torch", "summarize_torch", "torch_chunk"]

#: The CAMs taken by name (those whose work is a gradient at the layer).
CAMS = ("gradcam", "gradcam++", "hirescam", "layercam")
#: Options every torch method takes (``size``: image folders).
_COMMON = ("target", "batch_size", "size")
TORCH_OPTIONS = {
    **{f"torch.{name}": ("layer", *_COMMON) for name in CAMS},
    "torch.integratedgradients": ("n_steps", *_COMMON),
    "torch.saliency": ("abs", *_COMMON),
}


def build_torch(method: str, params: dict[str, Any], model: Any) -> Any:
    """The whylens explainer of ``method``, built once for the job.

    Raises
    ------
    InputError, InputTypeError
        A model that is not a ``torch.nn.Module``, a bad parameter.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputError(describe("model", f"a torch.nn.Module for {method}", model))
    target = params.get("target")
    if target is not None and (isinstance(target, bool)
                               or not isinstance(target, numbers.Integral) or target < 0):
        raise InputError(describe("target", "None (each row's predicted class) or an output "
                                  "index >= 0", target))
    options = {k: v for k, v in params.items() if k in ("batch_size", "n_steps", "abs")}
    name = method.removeprefix("torch.")
    if name in CAMS:
        from whylens.torch import CAM_METHODS

        return CAM_METHODS[name](model, params.get("layer"), **options)
    if name == "integratedgradients":
        from whylens.torch import IntegratedGradients

        return IntegratedGradients(model, **options)
    from whylens.torch import Saliency

    return Saliency(model, **options)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def torch_chunk(work: Any, X: np.ndarray, start: int
                ) -> tuple[dict[str, Any], list[str], list[str]]:
    """Explain the rows ``X`` (n, C, H, W) or (n, C, L) (rows ``[start, start + n)``).

    Returns
    -------
    columns : dict
        ``row``, ``label``, ``map`` (a pyarrow fixed-size list array of
        float32), ``mean_abs``, ``base_value`` (Integrated Gradients),
        ``output:<i>``.
    labels : list of str
        ``[str(target)]``, or ``["predicted"]`` (each row's top class).
    outputs : list of str
        Names of the model's outputs.
    """
    import torch
    from whylens.batch._deps import pyarrow

    pa = pyarrow()[0]
    explainer = work.explainer
    target = work.call.get("target")
    try:
        device = next(explainer.model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    x = torch.from_numpy(np.ascontiguousarray(X)).to(device)
    with _one_torch_thread():
        try:
            exp = explainer(x, target=target, progress=False)
        except WhylensError:
            raise
        except RuntimeError as exc:  # torch's own errors (shapes, dtypes) from the model
            raise ModelError(f"model: {work.method} on rows of shape {tuple(X.shape)} "
                             f"raised {type(exc).__name__}: {exc}") from exc
    n = X.shape[0]
    values = np.asarray(exp.values)[:, 0]
    if work.method.removeprefix("torch.") not in CAMS:
        values = values.sum(axis=1)  # over the input's channels
    maps = values.astype(np.float32).reshape(n, -1)
    labels = np.asarray(exp.labels)
    row_labels = labels[:, 0] if labels.ndim == 2 else np.full(n, labels[0])
    k = int(exp.output.shape[1])
    names = exp.output_names if exp.output_names is not None and len(exp.output_names) == k \
        else range(k)
    outputs = [str(name) for name in names]
    columns: dict[str, Any] = {
        "row": np.arange(start, start + n, dtype=np.int64),
        "label": row_labels.astype(np.int64),
        "map": pa.FixedSizeListArray.from_arrays(pa.array(maps.ravel()), maps.shape[1]),
        "mean_abs": np.abs(maps).mean(axis=1, dtype=np.float64),
    }
    if exp.base_values is not None:
        columns["base_value"] = np.ascontiguousarray(np.asarray(exp.base_values)[:, 0])
    for i, name in enumerate(outputs):
        columns[f"output:{name}"] = np.ascontiguousarray(exp.output[:, i])
    work.map_shape = list(values.shape[1:])
    if getattr(explainer, "layer", None) is not None:
        work.layer = str(explainer.layer)
    return columns, ["predicted" if target is None else str(target)], outputs


def summarize_torch(tables: Iterator[Any], layout: dict[str, Any]) -> dict[str, Any]:
    """Mean |map| per label explained, over the rows that explain it.

    Parameters
    ----------
    tables : iterator of pyarrow.Table
        The parts' ``label`` and ``mean_abs`` columns.

    Returns
    -------
    dict
        ``{"rows": n, "map_shape": [...], "mean_abs": {label: {"map": value}},
        "rows_per_label": {label: count}}`` (labels as the output names).
    """
    totals: dict[int, list[float]] = {}
    rows = 0
    for table in tables:
        rows += table.num_rows
        labels = table.column("label").to_numpy()
        means = table.column("mean_abs").to_numpy()
        for label in np.unique(labels):
            picked = means[labels == label]
            entry = totals.setdefault(int(label), [0.0, 0])
            entry[0] += float(picked.sum())
            entry[1] += int(picked.size)
    outputs = layout.get("outputs") or []
    name = {i: str(outputs[i]) if 0 <= i < len(outputs) else str(i) for i in totals}
    return {"rows": rows, "map_shape": layout.get("map_shape"),
            "mean_abs": {name[i]: {"map": totals[i][0] / totals[i][1]} for i in sorted(totals)},
            "rows_per_label": {name[i]: totals[i][1] for i in sorted(totals)}}


def check_torch_params(spec_name: str, params: dict[str, Any]) -> None:
    """Refuse a background for a torch method."""
    if params.get("background") is not None:
        raise InputError(describe("params", f"no background for {spec_name} (Integrated "
                                  "Gradients' baseline is zeros)", params["background"]))

"""Model adapters: any model behind one batched ``predict`` returning float64 (n, k)."""

from whylens.models._adapters import as_model
from whylens.models._base import DEFAULT_MEMORY_BUDGET, Model, to_output_matrix

__all__ = ["DEFAULT_MEMORY_BUDGET", "Model", "as_model", "to_output_matrix"]

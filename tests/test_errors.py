"""The error hierarchy keeps built-in except clauses working and messages name things."""

from __future__ import annotations

import numpy as np
import pytest

from whylens import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.InputError, ValueError),
        (errors.InputTypeError, TypeError),
        (errors.ModelError, RuntimeError),
        (errors.ModelOutputError, ValueError),
        (errors.MissingDependencyError, ImportError),
        (errors.BatchExplanationError, ValueError),
        (errors.SerializationError, ValueError),
        (errors.NotSupportedError, NotImplementedError),
    ],
)
def test_every_error_is_a_whylens_error_and_a_builtin(cls, builtin):
    assert issubclass(cls, errors.WhylensError)
    assert issubclass(cls, builtin)


def test_describe_names_argument_expectation_value_and_fix():
    message = errors.describe("num_samples", "an integer >= 1", 0, "Pass e.g. 5000.")
    assert message == "num_samples: expected an integer >= 1, got 0. Pass e.g. 5000."


def test_arrays_are_described_not_printed():
    text = errors.short_repr(np.zeros((1000, 3)))
    assert text == "ndarray of shape (1000, 3) and dtype float64"
    assert errors.short_repr("x" * 500).endswith("...")

"""Domain errors cross process boundaries (Ray actor calls) intact."""

from __future__ import annotations

import pickle

import pytest

from berth.platform.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    required,
)


@pytest.mark.parametrize(
    "error",
    [
        NotFound("jobs", "x", "batch"),
        AlreadyExists("pods", "p"),
        Conflict("pods", "p"),
        Invalid("Job", "x", [required("spec.template")], "batch"),
        BadRequest("bad"),
        Gone("too old resource version: 1 (5)"),
    ],
)
def test_errors_survive_pickling(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.reason, copy.message, copy.details) == (
        error.code,
        error.reason,
        error.message,
        error.details,
    )
    assert getattr(copy, "causes", None) == getattr(error, "causes", None)

"""Tables, cells and server errors as the ``berth`` commands print them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from berth.cli.render import format_cell, format_error, plain_table, rich_table, table_data

# Recorded from kubectl v1.32 against a real cluster (copied from shared/reference/kubectl-samples).
SAMPLE = Path(__file__).parent / "data" / "table_jobs.json"
TABLE_JOBS = {
    "kind": "Table",
    "apiVersion": "meta.k8s.io/v1",
    "columnDefinitions": [
        {"name": "Name", "type": "string", "format": "name", "priority": 0},
        {"name": "Status", "type": "string", "priority": 0},
        {"name": "Completions", "type": "string", "priority": 0},
        {"name": "Age", "type": "string", "priority": 0},
        {"name": "Containers", "type": "string", "priority": 1},
        {"name": "Selector", "type": "string", "priority": 1},
    ],
    "rows": [
        {
            "cells": ["ap", "Complete", "1/1", "63s", "ap", "uid=1"],
            "object": {"metadata": {"name": "ap", "namespace": "team-a"}},
        },
        {
            "cells": ["nopod", "Running", "0/1", "32s", "nopod", "uid=2"],
            "object": {"metadata": {"name": "nopod", "namespace": "team-b"}},
        },
    ],
}


def test_priority_zero_columns_by_default():
    data = table_data(TABLE_JOBS)
    assert data.headers == ["NAME", "STATUS", "COMPLETIONS", "AGE"]
    assert data.rows == [["ap", "Complete", "1/1", "63s"], ["nopod", "Running", "0/1", "32s"]]


def test_wide_shows_every_column():
    data = table_data(TABLE_JOBS, wide=True)
    assert data.headers[-2:] == ["CONTAINERS", "SELECTOR"]
    assert data.rows[1][-2:] == ["nopod", "uid=2"]


def test_namespace_column_comes_from_row_metadata():
    data = table_data(TABLE_JOBS, namespace_column=True)
    assert data.headers[:2] == ["NAMESPACE", "NAME"]
    assert [row[0] for row in data.rows] == ["team-a", "team-b"]


def test_plain_table_is_aligned_like_kubectl():
    text = plain_table(table_data(TABLE_JOBS))
    assert text == (
        "NAME    STATUS     COMPLETIONS   AGE\n"
        "ap      Complete   1/1           63s\n"
        "nopod   Running    0/1           32s\n"
    )


def test_recorded_kubectl_sample_table():
    data = table_data(json.loads(SAMPLE.read_text()))
    assert data.headers == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert [row[0] for row in data.rows] == ["ap", "nopod", "pi"]
    lines = plain_table(data).splitlines()
    assert lines[0].split() == data.headers
    assert lines[2].split() == ["nopod", "Running", "0/1", "32s", "32s"]
    wide = table_data(json.loads(SAMPLE.read_text()), wide=True)
    assert wide.headers[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]


def test_rows_shorter_than_the_columns_are_padded():
    table = {"columnDefinitions": [{"name": "Name"}, {"name": "Data"}], "rows": [{"cells": ["x"]}]}
    assert table_data(table).rows == [["x", ""]]


def test_empty_table():
    data = table_data({"columnDefinitions": [{"name": "Name", "priority": 0}], "rows": []})
    assert data.rows == []
    assert plain_table(data) == "NAME\n"


def test_rich_table_is_the_plain_layout_with_a_bold_header_never_cut():
    console = Console(width=20, record=True, file=io.StringIO(), soft_wrap=True)
    console.print(rich_table(table_data(TABLE_JOBS)))
    assert console.export_text() == plain_table(table_data(TABLE_JOBS))
    text = rich_table(table_data(TABLE_JOBS))
    assert [(span.start, span.end, span.style) for span in text.spans] == [
        (0, len("NAME    STATUS     COMPLETIONS   AGE"), "bold")
    ]


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "<none>"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        ("x", "x"),
        (["a", "b"], "a,b"),
        ({"a": 1}, '{"a":1}'),
    ],
)
def test_format_cell(value, text):
    assert format_cell(value) == text


NOT_FOUND = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'jobs.batch "x" not found',
    "reason": "NotFound",
    "code": 404,
    "details": {"name": "x", "group": "batch", "kind": "jobs"},
}
INVALID = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'Job.batch "bad" is invalid: ...',
    "reason": "Invalid",
    "code": 422,
    "details": {
        "name": "bad",
        "group": "batch",
        "kind": "Job",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value",
                "field": "spec.template.spec.containers",
            },
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: -1: must be >= 0",
                "field": "spec.backoffLimit",
            },
        ],
    },
}


@pytest.mark.parametrize(
    "status, text",
    [
        (NOT_FOUND, 'Error from server (NotFound): jobs.batch "x" not found'),
        (
            {"code": 409, "reason": "AlreadyExists", "message": 'jobs.batch "x" already exists'},
            'Error from server (AlreadyExists): jobs.batch "x" already exists',
        ),
        ({"code": 500, "message": "boom"}, "Error from server: boom"),
        (
            {"code": 422, "reason": "Invalid", "message": "Job is invalid"},
            "Error from server (Invalid): Job is invalid",
        ),
        (
            INVALID,
            'The Job "bad" is invalid:\n'
            "* spec.template.spec.containers: Required value\n"
            "* spec.backoffLimit: Invalid value: -1: must be >= 0",
        ),
    ],
)
def test_format_error(status, text):
    assert format_error(status) == text

import math

import pytest

from benchmarks.e2e_stats import (
    STAGES,
    deltas,
    first_last_rates,
    first_of,
    job_outcome,
    max_in_flight,
    mean_in_flight,
    node_stamps,
    note_pod,
    parse_stat,
    percentile,
    place_spans,
    rate,
    rates_per_window,
    ratio,
    stage_table,
    starved_share,
    summarize,
    window_size,
)


@pytest.mark.parametrize(
    "values, q, expected",
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),  # order does not matter
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        (list(map(float, range(101))), 99, 99.0),
        ([0.0, 10.0], 99, 9.9),  # interpolated between the two ranks
    ],
)
def test_percentile(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_and_summary_of_nothing_are_nan():
    assert math.isnan(percentile([], 50))
    empty = summarize([])
    assert empty.n == 0 and math.isnan(empty.p50) and math.isnan(empty.p99)


def test_summarize():
    s = summarize([1.0, 2.0, 3.0, 10.0])
    assert (s.n, s.p50, s.mean, s.max) == (4, 2.5, 4.0, 10.0)
    assert s.p99 == pytest.approx(9.79)


@pytest.mark.parametrize(
    "count, start, end, expected",
    [
        (100, 0.0, 10.0, 10.0),
        (1, 5.0, 5.5, 2.0),
        (10, 3.0, 3.0, math.nan),
        (10, 4.0, 3.0, math.nan),
    ],
)
def test_rate(count, start, end, expected):
    got = rate(count, start, end)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


@pytest.mark.parametrize(
    "a, b, expected", [(10.0, 2.0, 5.0), (1.0, 0.0, math.nan), (math.nan, 2.0, math.nan)]
)
def test_ratio(a, b, expected):
    got = ratio(a, b)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_deltas_skip_records_missing_a_stage():
    records = [{"a": 1.0, "b": 3.0}, {"a": 2.0}, {"b": 5.0}, {"a": 0.0, "b": 0.5}]
    assert deltas(records, "a", "b") == [2.0, 0.5]


def test_first_of_takes_the_earliest_present_stage():
    assert first_of({"x": 3.0, "y": 2.0}, "x", "y", "z") == 2.0
    assert first_of({"x": 3.0}, "y") is None


def _pod(phase=None, node=None):
    return {
        "metadata": {"name": "p", "uid": "u"},
        "spec": {"nodeName": node} if node else {},
        "status": {"phase": phase} if phase else {},
    }


def test_note_pod_keeps_the_first_time_of_each_stage():
    record: dict[str, float] = {}
    note_pod(record, _pod(), 1.0)
    note_pod(record, _pod("Pending"), 1.5)
    note_pod(record, _pod("Pending", "n1"), 2.0)
    note_pod(record, _pod("Running", "n1"), 3.0)
    note_pod(record, _pod("Running", "n1"), 3.5)
    note_pod(record, _pod("Succeeded", "n1"), 4.0)
    note_pod(record, _pod("Succeeded", "n1"), 9.0)
    assert record == {
        "pod_created": 1.0,
        "bound": 2.0,
        "running_seen": 3.0,
        "started_seen": 3.0,
        "finished_seen": 4.0,
    }


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_pod_seen_finished_without_running_counts_as_started_then(phase):
    record: dict[str, float] = {"pod_created": 1.0, "bound": 2.0}
    note_pod(record, _pod(phase, "n1"), 5.0)
    assert record["started_seen"] == record["finished_seen"] == 5.0
    assert "running_seen" not in record


@pytest.mark.parametrize(
    "conditions, expected",
    [
        (None, None),
        ([], None),
        ([{"type": "SuccessCriteriaMet", "status": "True"}], None),
        ([{"type": "Complete", "status": "False"}], None),
        (
            [
                {"type": "SuccessCriteriaMet", "status": "True"},
                {"type": "Complete", "status": "True"},
            ],
            "Complete",
        ),
        (
            [{"type": "FailureTarget", "status": "True"}, {"type": "Failed", "status": "True"}],
            "Failed",
        ),
    ],
)
def test_job_outcome(conditions, expected):
    job = {
        "metadata": {"name": "j"},
        "status": {"conditions": conditions} if conditions is not None else {},
    }
    assert job_outcome(job) == expected


def test_parse_stat_and_node_stamps():
    text = "\n".join(
        [
            "./n1/pods/uid-a|100.5|101.0",
            "./n1/pods/uid-a/termination/c-0|100.7|100.7",
            "./n1/pods/uid-a/status.json|100.6|101.0",
            "./n1/logs/uid-a/c/0.done|100.9|100.9",
            "./n1/pods/uid-b|200.0|200.1",
            "./n1/pods/uid-c/termination/c-1|300.0|300.0",  # a restart: not the first spawn
            "",
        ]
    )
    stats = parse_stat(text)
    assert stats["./n1/pods/uid-a"] == (100.5, 101.0)
    assert node_stamps(stats) == {
        "uid-a": {"admitted": 100.5, "spawned": 100.7, "exited": 100.9},
        "uid-b": {"admitted": 200.0},
    }


def test_node_stamps_keep_the_earliest_of_several_containers():
    stats = {
        "n1/pods/u/termination/a-0": (5.0, 5.0),
        "n1/pods/u/termination/b-0": (4.0, 4.0),
        "n1/logs/u/a/0.done": (7.0, 7.0),
        "n1/logs/u/b/0.done": (6.0, 6.0),
    }
    assert node_stamps(stats) == {"u": {"spawned": 4.0, "exited": 6.0}}


@pytest.mark.parametrize(
    "intervals, window, expected",
    [
        ([], (0.0, 10.0), 0.0),
        ([(0.0, 10.0)], (0.0, 10.0), 1.0),
        ([(0.0, 5.0), (0.0, 10.0)], (0.0, 10.0), 1.5),
        ([(-5.0, 5.0)], (0.0, 10.0), 0.5),  # clipped to the window
        ([(20.0, 30.0)], (0.0, 10.0), 0.0),
    ],
)
def test_mean_in_flight(intervals, window, expected):
    assert mean_in_flight(intervals, *window) == pytest.approx(expected)


@pytest.mark.parametrize(
    "intervals, expected",
    [
        ([], 0),
        ([(0, 1), (1, 2), (2, 3)], 1),  # back to back: never two at once
        ([(0, 3), (1, 2), (1.5, 4)], 3),
        ([(0, 10)] * 5, 5),
    ],
)
def test_max_in_flight(intervals, expected):
    assert max_in_flight(intervals) == expected


@pytest.mark.parametrize(
    "waiting, holding, slots, expected",
    [
        ([(0, 10)], [(0, 5)], 1, 0.5),  # one place, free from 5 to 10
        ([(0, 10)], [(0, 5)], 2, 1.0),  # two places, one always free
        ([(2, 4)], [], 1, 0.2),
        ([], [], 1, 0.0),  # nothing waits: nothing starves
        ([(0, 10)], [(0, 10), (0, 10)], 2, 0.0),  # full all the time
        ([(0, 10)], [(0, 4), (4, 10)], 1, 0.0),  # a place handed straight on
    ],
)
def test_starved_share(waiting, holding, slots, expected):
    assert starved_share(waiting, holding, slots, 0.0, 10.0) == pytest.approx(expected)


def test_stage_table_follows_the_stages_in_order():
    record = {
        "submitted": 0.0,
        "accepted": 0.01,
        "pod_created": 0.03,
        "bound": 0.04,
        "admitted": 0.06,
        "spawned": 0.07,
        "exited": 0.08,
        "finished_seen": 0.1,
        "complete": 0.12,
    }
    rows = stage_table([record])
    assert [hop for hop, _, _ in rows] == [f"{a} -> {b}" for a, b, _ in STAGES]
    assert [s.p50 for _, _, s in rows] == pytest.approx(
        [0.01, 0.02, 0.01, 0.02, 0.01, 0.01, 0.02, 0.02]
    )
    # The hops tile the path: their sum is submit -> complete.
    assert sum(s.p50 for _, _, s in rows) == pytest.approx(0.12)


@pytest.mark.parametrize(
    "jobs, size", [(10000, 1000), (2000, 1000), (1999, 399), (200, 40), (3, 1), (0, 1)]
)
def test_window_is_1000_completions_when_the_run_has_two_of_them(jobs, size):
    assert window_size(jobs) == size


def test_first_and_last_rates_count_each_window_from_its_first_completion():
    # Completions 1 s apart for the first 4, then 0.5 s apart.
    done = [1, 2, 3, 4, 4.5, 5, 5.5, 6]
    first, last = first_last_rates(list(reversed(done)), 4)
    assert first == pytest.approx(3 / 3)  # 3 gaps within [1, 4]
    assert last == pytest.approx(3 / 1.5)  # 3 gaps within [4.5, 6]


def test_first_and_last_rates_need_more_completions_than_one_window():
    assert all(math.isnan(r) for r in first_last_rates([1.0, 2.0], 2))
    assert all(math.isnan(r) for r in first_last_rates([], 1))
    assert all(math.isnan(r) for r in first_last_rates([1.0, 2.0, 3.0], 1))


def test_rates_per_window_measure_each_run_of_completions_in_order():
    # Completions 1 s apart for the first 4, then 0.5 s apart, then one left over.
    done = [1, 2, 3, 4, 4.5, 5, 5.5, 6, 9]
    assert rates_per_window(list(reversed(done)), 4) == pytest.approx([3 / 3, 3 / 1.5])
    assert rates_per_window([1.0], 2) == []


def test_place_spans_take_the_earlier_of_bound_seen_and_admitted():
    records = [
        {"pod_created": 1.0, "bound": 3.0, "admitted": 2.5, "finished_seen": 5.0},
        {"pod_created": 1.0, "bound": 2.0, "admitted": 2.2, "finished_seen": 4.0},
        {"pod_created": 1.0, "admitted": 2.4},  # the watch has not seen it bound yet
        {"pod_created": 1.0},  # still waiting: no place, no span
    ]
    waiting, holding = place_spans(records)
    assert waiting == [(1.0, 2.5), (1.0, 2.0), (1.0, 2.4)]
    assert holding == [(2.5, 5.0), (2.0, 4.0)]

"""One place's turnover: ends paired with the placements that took their places."""

import pytest

from benchmarks.e2e_turnover import pair_places, turnover_table


def pod(name, created, placed=None, **stages):
    record = {"name": name, "pod_created": created, **stages}
    if placed is not None:
        record["placed"] = placed
    return record


def names(pairs):
    return [(a["name"], b["name"]) for a, b in pairs]


def test_each_placement_takes_the_earliest_end_applied_before_it():
    records = [
        pod("a", 0.0, 0.1, freed=1.0),  # took a free place; its end frees one
        pod("b", 0.0, 0.1, freed=1.5),
        pod("c", 0.5, 1.2),  # after a's end
        pod("d", 0.5, 1.6),  # after b's end
    ]
    assert names(pair_places(records)) == [("a", "c"), ("b", "d")]


def test_placements_before_any_end_took_places_already_free():
    records = [pod("a", 0.0, 0.1, freed=1.0), pod("b", 0.0, 0.2), pod("c", 0.0, 1.1)]
    assert names(pair_places(records)) == [("a", "c")]


def test_a_place_that_waited_for_work_is_left_out():
    # c was created after a's end: the place waited for submission, not for Berth
    records = [pod("a", 0.0, 0.1, freed=1.0), pod("c", 1.05, 1.1)]
    assert pair_places(records) == []


def test_the_table_times_each_step_and_the_whole_turnover():
    a = pod("a", 0.0, 0.0, exited=1.000, heard_end=1.010, freed=1.011)
    b = pod(
        "b",
        0.5,
        1.012,
        bind_committed=1.030,
        kubelet_saw=1.031,
        sent=1.033,
        admitted=1.040,
        spawned=1.050,
    )
    rows = {step: s for step, _, s in turnover_table([a, b])}
    assert rows["exited -> heard_end"].p50 == pytest.approx(0.010)
    assert rows["freed -> placed"].p50 == pytest.approx(0.001)
    assert rows["placed -> bind_committed"].p50 == pytest.approx(0.018)
    assert rows["admitted -> spawned"].p50 == pytest.approx(0.010)
    assert rows["exited -> next spawned"].p50 == pytest.approx(0.050)
    assert all(s.n == 1 for s in rows.values())

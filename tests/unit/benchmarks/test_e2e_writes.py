"""bench_e2e's store-writes table says when the change log was compacted under it."""

import sqlite3

from benchmarks.bench_e2e import BerthRun
from benchmarks.e2e_berth import change_log_compacted
from benchmarks.e2e_report import _print_writes


def run_with(compacted: int) -> BerthRun:
    return BerthRun(
        nodes=[],
        sandboxed=True,
        solo=[],
        burst=[],
        unfinished=[],
        failed=[],
        submit_s=1.0,
        cpu={},
        events=0,
        jobs_total=10,
        writes=[("pods", "MODIFIED", 30, 30 * 1024)],
        writes_compacted=compacted,
    )


def test_a_compacted_log_is_said_to_undercount(capsys):
    _print_writes(run_with(4_000))
    out = capsys.readouterr().out
    assert "30 for 10 Jobs (3.0 per Job)" in out
    assert "compacted during the run, up to resourceVersion 4000" in out


def test_a_whole_log_is_counted_without_a_remark(capsys):
    _print_writes(run_with(0))
    out = capsys.readouterr().out
    assert "3.00 per Job  pods" in out
    assert "compacted" not in out


def test_the_compaction_floor_is_read_from_the_store_file(tmp_path):
    with sqlite3.connect(tmp_path / "berth.db") as db:
        db.execute("CREATE TABLE revision (id INTEGER PRIMARY KEY, current INT, compacted INT)")
        assert change_log_compacted(tmp_path) == 0  # no row yet: nothing compacted
        db.execute("INSERT INTO revision VALUES (1, 120000, 70000)")
    assert change_log_compacted(tmp_path) == 70_000

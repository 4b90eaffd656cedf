"""Container log files: CRI records, filters of kubectl logs, following."""

import os

import pytest

from berth.platform.errors import BadRequest
from berth.workers.node import logpump, logs

SEC = 1_000_000_000
T0 = 1_764_000_000 * SEC  # 2025-11-24T16:00:00Z


def clock(*moments):
    it = iter(moments)
    return lambda: next(it)


def write_attempt(root, attempt, chunks, uid="u1", container="c"):
    path = logs.attempt_path(root, uid, container, attempt)
    writer = logs.LogWriter(path, clock_ns=clock(*[t for t, _ in chunks]))
    for _, data in chunks:
        writer.write(data)
    writer.close()
    return path


def test_timestamp_round_trip_keeps_nanoseconds():
    ns = T0 + 123_456_789
    text = logs.format_ts(ns)
    assert text == "2025-11-24T16:00:00.123456789Z"
    assert logs.parse_ts(text) == ns
    assert logs.parse_ts("2025-11-24T17:00:00+01:00") == T0


def test_records_are_cri_lines(tmp_path):
    path = write_attempt(tmp_path, 0, [(T0, b"a\nb\n"), (T0 + 1, b"par")])
    assert path.read_bytes().decode().splitlines() == [
        "2025-11-24T16:00:00.000000000Z stdout F a",
        "2025-11-24T16:00:00.000000000Z stdout F b",
        "2025-11-24T16:00:00.000000001Z stdout P par",
    ]
    assert logs.is_done(path)


def test_partial_records_join_the_line_that_finishes_them(tmp_path):
    write_attempt(tmp_path, 0, [(T0, b"hel"), (T0 + SEC, b"lo\nnext")])
    assert logs.read_log(tmp_path, "u1", "c") == "hello\nnext"
    stamped = logs.read_log(tmp_path, "u1", "c", timestamps=True)
    assert stamped == ("2025-11-24T16:00:00.000000000Z hello\n2025-11-24T16:00:01.000000000Z next")


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, "one\ntwo\nthree\n"),
        ({"tail_lines": 2}, "two\nthree\n"),
        ({"tail_lines": 0}, ""),
        ({"tail_lines": 10}, "one\ntwo\nthree\n"),
        ({"since_seconds": 15, "now_ns": T0 + 30 * SEC}, "two\nthree\n"),
        ({"since_time": "2025-11-24T16:00:25Z"}, "three\n"),
        ({"limit_bytes": 6}, "one\ntw"),
        ({"tail_lines": 1, "timestamps": True}, "2025-11-24T16:00:30.000000000Z three\n"),
    ],
)
def test_filters_of_kubectl_logs(tmp_path, options, expected):
    write_attempt(
        tmp_path, 0, [(T0, b"one\n"), (T0 + 20 * SEC, b"two\n"), (T0 + 30 * SEC, b"three\n")]
    )
    assert logs.read_log(tmp_path, "u1", "c", **options) == expected


def test_previous_reads_the_attempt_before_the_latest(tmp_path):
    write_attempt(tmp_path, 0, [(T0, b"first run\n")])
    write_attempt(tmp_path, 1, [(T0, b"second run\n")])
    assert logs.attempts(tmp_path, "u1", "c") == [0, 1]
    assert logs.read_log(tmp_path, "u1", "c") == "second run\n"
    assert logs.read_log(tmp_path, "u1", "c", previous=True) == "first run\n"


def test_previous_without_an_earlier_attempt_is_a_bad_request(tmp_path):
    write_attempt(tmp_path, 0, [(T0, b"x\n")])
    with pytest.raises(BadRequest, match='previous terminated container "c" in pod "p" not found'):
        logs.read_log(tmp_path, "u1", "c", previous=True, pod_name="p")


def test_no_log_yet_reads_empty(tmp_path):
    assert logs.read_log(tmp_path, "u1", "c") == ""


def test_pump_copies_a_pipe_until_every_writer_closes(tmp_path):
    path = logs.attempt_path(tmp_path, "u1", "c", 0)
    read_fd, write_fd = os.pipe()
    stream = logpump.pump(read_fd, logs.LogWriter(path))
    os.write(write_fd, b"out\n")
    os.write(write_fd, b"err\n")
    assert not stream.done.wait(0.1)
    os.close(write_fd)
    assert stream.done.wait(5)
    assert logs.read_log(tmp_path, "u1", "c") == "out\nerr\n"
    assert logs.is_done(path)


def test_one_pump_serves_many_pipes_each_to_its_own_log(tmp_path):
    pipes = [os.pipe() for _ in range(5)]
    paths = [logs.attempt_path(tmp_path, f"u{i}", "c", 0) for i in range(5)]
    streams = [logpump.pump(r, logs.LogWriter(p)) for (r, _), p in zip(pipes, paths, strict=True)]
    for round_ in range(3):
        for i, (_, w) in enumerate(pipes):
            os.write(w, b"%d-%d\n" % (i, round_))
    for i in (3, 1, 4, 0, 2):
        os.close(pipes[i][1])
        assert streams[i].done.wait(5)
    for i in range(5):
        assert logs.read_log(tmp_path, f"u{i}", "c") == "".join(f"{i}-{r}\n" for r in range(3))


def test_read_from_returns_whole_records_and_knows_when_finished(tmp_path):
    path = logs.attempt_path(tmp_path, "u1", "c", 0)
    writer = logs.LogWriter(path, clock_ns=clock(T0, T0 + 1))
    writer.write(b"a\n")
    text, offset, finished = logs.read_from(path, 0)
    assert (text, finished) == ("a\n", False)
    writer.write(b"b\n")
    writer.close()
    text, offset2, finished = logs.read_from(path, offset)
    assert (text, finished) == ("b\n", True)
    assert offset2 == path.stat().st_size


def test_start_offset_honours_tail_and_since(tmp_path):
    path = write_attempt(
        tmp_path,
        0,
        [
            (T0, b"one\n"),
            (T0 + 10 * SEC, b"tw"),
            (T0 + 11 * SEC, b"o\n"),
            (T0 + 20 * SEC, b"three\n"),
        ],
    )
    offset = logs.start_offset(path, tail_lines=2)
    assert logs.read_from(path, offset)[0] == "two\nthree\n"
    offset = logs.start_offset(path, since_seconds=5, now_ns=T0 + 21 * SEC)
    assert logs.read_from(path, offset)[0] == "three\n"
    assert logs.start_offset(path, tail_lines=0) == path.stat().st_size


def test_follow_yields_until_the_writer_is_done(tmp_path):
    path = logs.attempt_path(tmp_path, "u1", "c", 0)
    writer = logs.LogWriter(path)
    writer.write(b"early\n")
    steps = iter([lambda: writer.write(b"late\n"), writer.close])
    chunks = list(logs.follow(path, sleep=lambda _: next(steps)()))
    assert "".join(chunks) == "early\nlate\n"


def test_tail_text_reads_only_the_end_of_a_big_log(tmp_path):
    path = write_attempt(tmp_path, 0, [(T0, b"".join(b"line %d\n" % i for i in range(5000)))])
    assert logs.tail_text(path, 2, max_bytes=200) == "line 4998\nline 4999\n"
    assert logs.tail_text(tmp_path / "missing.log", 2) == ""

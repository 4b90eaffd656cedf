from berth.platform.metrics.series import OTHER, BoundedLabel
from berth.platform.metrics.usage import cpu_busy_seconds, memory_bytes, read_host_usage

STAT = """cpu  100 20 30 1000 50 5 5 10 0 0
cpu0 50 10 15 500 25 2 3 5 0 0
intr 12345
"""
MEMINFO = """MemTotal:       16000 kB
MemFree:         2000 kB
MemAvailable:    6000 kB
Buffers:          100 kB
"""


def test_cpu_busy_seconds_leaves_idle_and_iowait_out():
    assert cpu_busy_seconds(STAT, 100) == (100 + 20 + 30 + 5 + 5 + 10) / 100


def test_memory_used_is_total_minus_available():
    assert memory_bytes(MEMINFO) == (10000 * 1024, 16000 * 1024)


def test_this_host_reads():
    usage = read_host_usage()
    assert usage.cpu_seconds > 0
    assert 0 < usage.memory_used < usage.memory_total


def test_bounded_label():
    label = BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", "d")] == ["a", "b", OTHER, "a", OTHER]

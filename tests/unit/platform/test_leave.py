"""``leave`` ends the process at once (no ``atexit``, no ``finally``), after calling what
``on_leave`` registered and flushing the standard streams."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import atexit, sys
from berth.platform.leave import leave, on_leave
atexit.register(lambda: print("atexit ran"))
on_leave(lambda: print("last words"))
print("buffered", end="")
try:
    leave(3)
finally:
    print("finally ran")
"""


def test_leave_calls_last_words_flushes_and_skips_the_rest():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert done.stdout == "bufferedlast words\n"

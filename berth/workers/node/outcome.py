"""How a finished container attempt is reported: its reason and message, as the container
runtime and the kubelet word them (``Completed``, ``Error``, ``OOMKilled``; a sandbox that
could not be set up is a ``StartError``; the termination message file, or the log's tail under
``FallbackToLogsOnError``)."""

from __future__ import annotations

from pathlib import Path

from berth.workers.node import logs


def attempt_outcome(
    code: int,
    oom: bool,
    spec: dict,
    term_file: Path,
    log_root: Path,
    uid: str,
    name: str,
    attempt: int,
    sandboxed: bool,
) -> tuple[str, str | None]:
    """(reason, message) of a finished attempt, the way the runtime and kubelet word it."""
    path = logs.attempt_path(log_root, uid, name, attempt)
    if sandboxed and code == 1:  # the only exit of bwrap's own failures: read the log then
        last = logs.tail_text(path, 1).strip()
        if last.startswith("bwrap: "):
            return "StartError", last  # the sandbox could not be set up: nothing of ours ran
    reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
    try:
        message = term_file.read_bytes()[:4096].decode("utf-8", errors="replace")
    except OSError:
        message = ""
    if (
        not message
        and code != 0
        and spec.get("terminationMessagePolicy") == "FallbackToLogsOnError"
    ):
        message = logs.tail_text(path, 80)[-2048:]
    return reason, message or None

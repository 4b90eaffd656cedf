"""What a Job's status may say, and how it may change (``ValidateJobUpdateStatus`` with the
checks Kubernetes 1.32 turns on for every Job).

Most rules apply only when the fields they read change, so a controller can fix an old
status in a later write. The job controller's writing order follows from them: FailureTarget
before Failed, SuccessCriteriaMet before Complete, ``completionTime`` together with Complete,
``startTime`` before any finish, and no active pods or uncounted terminations once finished.
"""

from __future__ import annotations

from berth.platform.errors import Cause
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    duplicate,
    invalid,
    invalid_omit,
    key_of,
    non_negative,
    required,
)
from berth.platform.resources.validation.job import is_indexed
from berth.platform.resources.validation.job_policies import count_indexes, parse_interval
from berth.platform.resources.validation.meta import validate_object_meta_update


def _true(job: dict, ctype: str) -> bool:
    return any(
        as_dict(c).get("type") == ctype and as_dict(c).get("status") == "True"
        for c in as_list(as_dict(job.get("status")).get("conditions"))
    )


def _finished(job: dict) -> bool:
    return _true(job, "Complete") or _true(job, "Failed")


def validate_job_status_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    st, old_st = as_dict(new.get("status")), as_dict(old.get("status"))
    spec = as_dict(new.get("spec"))

    def changed(key: str) -> bool:
        return st.get(key) != old_st.get(key)

    def flipped(ctype: str) -> bool:
        return _true(new, ctype) != _true(old, ctype)

    for key in ("active", "succeeded", "failed", "ready", "terminating"):
        causes += non_negative(f"status.{key}", st.get(key))
    causes += _uncounted(as_dict(st.get("uncountedTerminatedPods")))
    complete, failed = _true(new, "Complete"), _true(new, "Failed")
    finished = complete or failed
    met, target = _true(new, "SuccessCriteriaMet"), _true(new, "FailureTarget")
    if (flipped("Complete") or flipped("Failed")) and complete and failed:
        causes.append(
            invalid_omit("status.conditions", "cannot set Complete=True and Failed=true conditions")
        )
    if (flipped("Complete") or flipped("FailureTarget")) and complete and target:
        causes.append(
            invalid_omit(
                "status.conditions", "cannot set Complete=True and FailureTarget=true conditions"
            )
        )
    if flipped("Complete") or changed("completionTime"):
        if st.get("completionTime") and not complete:
            causes.append(
                invalid(
                    "status.completionTime",
                    st["completionTime"],
                    "cannot set completionTime when there is no Complete=True condition",
                )
            )
        if not st.get("completionTime") and complete:
            causes.append(
                required("status.completionTime", "completionTime is required for Complete jobs")
            )
    if (
        (changed("startTime") or changed("completionTime"))
        and st.get("startTime")
        and st.get("completionTime")
        and str(st["completionTime"]) < str(st["startTime"])
    ):
        causes.append(
            invalid(
                "status.completionTime",
                st["completionTime"],
                "completionTime cannot be set before startTime",
            )
        )
    finish_changed = _finished(new) != _finished(old)
    if (finish_changed or changed("active")) and finished and (st.get("active") or 0) > 0:
        causes.append(
            invalid("status.active", st.get("active"), "active>0 is invalid for finished job")
        )
    if (finish_changed or changed("startTime")) and finished and not st.get("startTime"):
        causes.append(required("status.startTime", "startTime is required for finished job"))
    uncounted = as_dict(st.get("uncountedTerminatedPods"))
    if (
        (finish_changed or changed("uncountedTerminatedPods"))
        and finished
        and (as_list(uncounted.get("succeeded")) or as_list(uncounted.get("failed")))
    ):
        causes.append(
            invalid(
                "status.uncountedTerminatedPods",
                uncounted,
                "uncountedTerminatedPods needs to be empty for finished job",
            )
        )
    causes += _indexes(spec, st, old_st)
    if met and failed:
        causes.append(
            invalid_omit(
                "status.conditions", "cannot set SuccessCriteriaMet=True and Failed=true conditions"
            )
        )
    if met and target:
        causes.append(
            invalid_omit(
                "status.conditions",
                "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions",
            )
        )
    if spec.get("successPolicy") is not None and not met and complete:
        causes.append(
            invalid_omit(
                "status.conditions",
                "cannot set Complete=True for Job with "
                "SuccessPolicy unless SuccessCriteriaMet=True",
            )
        )
    causes += _transitions(new, old, spec, st, old_st)
    return causes


def _uncounted(uncounted: dict) -> list[Cause]:
    causes: list[Cause] = []
    seen: set = set()
    for kind in ("succeeded", "failed"):
        for i, uid in enumerate(as_list(uncounted.get(kind))):
            path = f"status.uncountedTerminatedPods.{kind}[{i}]"
            if not uid:
                causes.append(invalid(path, uid or "", "must not be empty"))
            elif key_of(uid) in seen:
                causes.append(duplicate(path, uid))
            else:
                seen.add(key_of(uid))
    return causes


def _indexes(spec: dict, st: dict, old_st: dict) -> list[Cause]:
    causes: list[Cause] = []
    completions = spec.get("completions")
    done, failed_ix = st.get("completedIndexes") or "", st.get("failedIndexes")
    done_changed = done != (old_st.get("completedIndexes") or "")
    failed_changed = failed_ix != old_st.get("failedIndexes")
    if done_changed and isinstance(completions, int):
        try:
            count_indexes(str(done), completions)
        except ValueError as exc:
            causes.append(
                invalid("status.completedIndexes", done, f"error parsing completedIndexes: {exc}")
            )
    if done_changed and done and not is_indexed(spec):
        causes.append(
            invalid(
                "status.completedIndexes",
                done,
                "cannot set non-empty completedIndexes when non-indexed completion mode",
            )
        )
    if failed_changed and failed_ix is not None:
        if spec.get("backoffLimitPerIndex") is None:
            causes.append(
                invalid(
                    "status.failedIndexes",
                    failed_ix,
                    "cannot set non-null failedIndexes when backoffLimitPerIndex is null",
                )
            )
        elif isinstance(completions, int):
            try:
                count_indexes(str(failed_ix), completions)
            except ValueError as exc:
                causes.append(
                    invalid(
                        "status.failedIndexes", failed_ix, f"error parsing failedIndexes: {exc}"
                    )
                )
    if (done_changed or failed_changed) and failed_ix and isinstance(completions, int):
        overlap = _overlap(str(done), str(failed_ix), completions)
        if overlap is not None:
            causes.append(
                invalid(
                    "status.failedIndexes",
                    failed_ix,
                    f"failedIndexes and completedIndexes overlap at index: {overlap}",
                )
            )
    return causes


def _overlap(done: str, failed: str, completions: int) -> int | None:
    def spans(text: str) -> list[tuple[int, int]]:
        out = []
        for fragment in (f for f in text.split(",") if f):
            try:
                out.append(parse_interval(fragment, completions))
            except ValueError:
                continue
        return out

    for low, high in spans(done):
        for f_low, f_high in spans(failed):
            if low <= f_high and f_low <= high:
                return max(low, f_low)
    return None


def _transitions(new: dict, old: dict, spec: dict, st: dict, old_st: dict) -> list[Cause]:
    causes: list[Cause] = []
    for ctype in ("Failed", "Complete", "FailureTarget"):
        if _true(old, ctype) and not _true(new, ctype):
            causes.append(
                invalid_omit(
                    "status.conditions", f"cannot disable the terminal {ctype}=True condition"
                )
            )
    if (st.get("failed") or 0) < (old_st.get("failed") or 0):
        causes.append(
            invalid("status.failed", st.get("failed") or 0, "cannot decrease the failed counter")
        )
    elastic = is_indexed(spec) and spec.get("completions") == spec.get("parallelism")
    if not elastic and (st.get("succeeded") or 0) < (old_st.get("succeeded") or 0):
        causes.append(
            invalid(
                "status.succeeded",
                st.get("succeeded") or 0,
                "cannot decrease the succeeded counter",
            )
        )
    if (
        st.get("completionTime")
        and old_st.get("completionTime")
        and st["completionTime"] != old_st["completionTime"]
    ):
        causes.append(
            invalid(
                "status.completionTime", st["completionTime"], "completionTime cannot be mutated"
            )
        )
    if (
        old_st.get("startTime")
        and st.get("startTime") != old_st["startTime"]
        and spec.get("suspend") is not True
    ):
        causes.append(
            required("status.startTime", "startTime cannot be removed for unsuspended job")
        )
    if _true(old, "SuccessCriteriaMet") and not _true(new, "SuccessCriteriaMet"):
        causes.append(
            invalid_omit(
                "status.conditions", "cannot disable the SuccessCriteriaMet=True condition"
            )
        )
    if (
        _true(old, "Complete")
        and not _true(old, "SuccessCriteriaMet")
        and _true(new, "SuccessCriteriaMet")
    ):
        causes.append(
            invalid_omit(
                "status.conditions",
                "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions",
            )
        )
    return causes

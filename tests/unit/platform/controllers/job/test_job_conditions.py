"""Setting Job conditions: added once, replaced on change, lastTransitionTime kept when the
status does not flip."""

from berth.platform.controllers.job import conditions
from tests.unit.platform.controllers.job.job_builders import at, ts


def test_new_condition_has_every_field():
    assert conditions.new_condition("Complete", "True", "R", "M", at(5)) == {
        "type": "Complete",
        "status": "True",
        "lastProbeTime": ts(5),
        "lastTransitionTime": ts(5),
        "reason": "R",
        "message": "M",
    }


def test_a_missing_false_condition_is_not_added():
    assert conditions.ensure([], "Suspended", "False", "JobResumed", "Job resumed", at(0)) == (
        [],
        False,
    )


def test_adding_and_repeating():
    conds, changed = conditions.ensure(
        [], "Suspended", "True", "JobSuspended", "Job suspended", at(0)
    )
    assert changed and conds[0]["lastTransitionTime"] == ts(0)
    again, changed = conditions.ensure(
        conds, "Suspended", "True", "JobSuspended", "Job suspended", at(9)
    )
    assert not changed and again == conds


def test_a_status_flip_moves_the_transition_time():
    conds, _ = conditions.ensure([], "Suspended", "True", "JobSuspended", "Job suspended", at(0))
    conds, changed = conditions.ensure(
        conds, "Suspended", "False", "JobResumed", "Job resumed", at(30)
    )
    assert changed and conds == [
        conditions.new_condition("Suspended", "False", "JobResumed", "Job resumed", at(30))
    ]


def test_a_new_reason_with_the_same_status_keeps_the_transition_time():
    conds, _ = conditions.ensure([], "X", "True", "A", "a", at(0))
    conds, changed = conditions.ensure(conds, "X", "True", "B", "b", at(30))
    assert changed
    assert conds[0]["reason"] == "B" and conds[0]["lastProbeTime"] == ts(30)
    assert conds[0]["lastTransitionTime"] == ts(0)


def test_other_conditions_are_left_alone():
    other = conditions.new_condition("FailureTarget", "True", "R", "M", at(0))
    conds, _ = conditions.ensure([other], "Failed", "True", "R", "M", at(3))
    assert conds[0] is other and [c["type"] for c in conds] == ["FailureTarget", "Failed"]


def test_finished_means_complete_or_failed_true():
    assert conditions.is_finished({"conditions": [{"type": "Complete", "status": "True"}]})
    assert conditions.is_finished({"conditions": [{"type": "Failed", "status": "True"}]})
    assert not conditions.is_finished({"conditions": [{"type": "FailureTarget", "status": "True"}]})
    assert not conditions.is_finished({"conditions": [{"type": "Complete", "status": "False"}]})
    assert not conditions.is_finished({})

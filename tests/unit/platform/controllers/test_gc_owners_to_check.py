"""Which dependent changes make the garbage collector look up the owners."""

from berth.platform.controllers.garbage_collector import owners_to_check


def pod(*owners, phase="Pending"):
    md = {"name": "p", "namespace": "n"}
    if owners:
        md["ownerReferences"] = [{"kind": "Job", "name": o, "uid": o} for o in owners]
    return {"metadata": md, "status": {"phase": phase}}


def test_a_new_dependent_is_checked():
    assert owners_to_check(None, pod("a"))


def test_an_object_without_owners_never_is():
    assert not owners_to_check(None, pod())
    assert not owners_to_check(pod("a"), pod())


def test_a_status_update_is_not_checked_again():
    assert not owners_to_check(pod("a"), pod("a", phase="Running"))


def test_changed_owners_are():
    assert owners_to_check(pod("a"), pod("a", "b"))
    assert owners_to_check(pod(), pod("b"))

"""Server-side apply: merge, ownership, pruning of what an applier drops, and conflicts."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.platform.errors import BadRequest, Invalid
from berth.platform.resources.patch import (
    ApplyConflict,
    fieldpath,
    server_side_apply,
    ssa_merge,
    update_managed_fields,
)

T0, T1, T2, T3 = (
    "2026-01-01T00:00:00Z",
    "2026-01-02T00:00:00Z",
    "2026-01-03T00:00:00Z",
    "2026-01-04T00:00:00Z",
)
CONTAINERS = ("f:spec", "f:template", "f:spec", "f:containers")


def config(parallelism=None, containers=(("pi", "perl"),), labels=None, **spec):
    obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": n, "image": i} for n, i in containers],
                    "restartPolicy": "Never",
                }
            },
            **spec,
        },
    }
    if parallelism is not None:
        obj["spec"]["parallelism"] = parallelism
    if labels is not None:
        obj["metadata"]["labels"] = labels
    return obj


def entries(obj):
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def owned(obj, manager, operation="Apply"):
    return fieldpath.from_fields_v1(entries(obj)[(manager, operation)]["fieldsV1"])


def applied(*steps, live=None):
    """Apply ``(manager, config, now)`` steps in turn, starting from ``live``."""
    for manager, cfg, now in steps:
        live = server_side_apply(live, cfg, manager, False, now)
    return live


def test_apply_creates():
    out = server_side_apply(None, config(2), "kubectl", False, T0)
    assert out["spec"] == config(2)["spec"]
    assert out["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "batch/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:parallelism": {},
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"pi"}': {".": {}, "f:image": {}, "f:name": {}}
                            },
                            "f:restartPolicy": {},
                        }
                    },
                }
            },
        }
    ]


def test_reapplying_the_same_config_changes_nothing():
    first = applied(("kubectl", config(2), T0))
    again = server_side_apply(first, config(2), "kubectl", False, T1)
    assert again == first  # times included: the caller keeps the resourceVersion


def test_apply_merges_into_fields_it_does_not_name():
    live = applied(("kubectl", config(2), T0))
    live["status"] = {"active": 2}
    live["metadata"]["uid"] = "u-1"
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/log"
    out = server_side_apply(live, config(3), "kubectl", False, T1)
    assert out["spec"]["parallelism"] == 3
    assert out["status"] == {"active": 2} and out["metadata"]["uid"] == "u-1"
    assert out["spec"]["template"]["spec"]["containers"][0] == {
        "name": "pi",
        "image": "perl",
        "terminationMessagePath": "/dev/log",
    }
    assert entries(out)[("kubectl", "Apply")]["time"] == T1


def test_a_field_the_applier_drops_is_removed():
    out = applied(
        ("kubectl", config(2, labels={"a": "1", "b": "2"}), T0),
        ("kubectl", config(labels={"a": "1"}), T1),
    )
    assert "parallelism" not in out["spec"]
    assert out["metadata"]["labels"] == {"a": "1"}
    out = applied(("kubectl", config(), T2), live=out)
    assert "labels" not in out["metadata"]  # emptied by the prune, so gone


def test_a_dropped_container_is_removed():
    out = applied(
        ("kubectl", config(containers=[("a", "x"), ("b", "y")]), T0),
        ("kubectl", config(containers=[("b", "y")]), T1),
    )
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "b", "image": "y"}]


def test_a_dropped_field_another_manager_owns_stays():
    out = applied(("alice", config(2), T0), ("bob", config(2), T1))
    assert ("f:spec", "f:parallelism") in owned(out, "alice") & owned(out, "bob")
    out = applied(("alice", config(), T2), live=out)
    assert out["spec"]["parallelism"] == 2
    assert ("f:spec", "f:parallelism") not in owned(out, "alice")


def test_a_dropped_container_goes_even_with_fields_owned_elsewhere():
    live = applied(("kubectl", config(containers=[("a", "x"), ("b", "y")]), T0))
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"][0]["workingDir"] = "/w"
    update_managed_fields(live, edited, "kubectl-edit", "Update", "batch/v1", T1)
    out = applied(("kubectl", config(containers=[("b", "y")]), T2), live=edited)
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "b", "image": "y"}]
    # The editor loses the field that went with the container, and with it its entry.
    assert ("kubectl-edit", "Update") not in entries(out)


def test_a_dropped_container_another_manager_added_stays():
    live = applied(("kubectl", config(containers=[("a", "x")]), T0))
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"].append({"name": "c", "image": "z"})
    update_managed_fields(live, edited, "kubectl-edit", "Update", "batch/v1", T1)
    both = applied(("kubectl", config(containers=[("a", "x"), ("c", "z")]), T2), live=edited)
    out = applied(("kubectl", config(containers=[("a", "x")]), T3), live=both)
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "x"},
        {"name": "c", "image": "z"},
    ]
    assert not any('k:{"name":"c"}' in p for p in owned(out, "kubectl"))


def client_side_created():
    """A Job as kubectl apply (client-side) leaves it: every field owned by an Update."""
    obj = config(1, labels={"app": "pi"})
    obj["spec"]["completions"] = 4
    update_managed_fields(None, obj, "kubectl-client-side-apply", "Update", "batch/v1", T0)
    return obj


def test_changing_a_field_another_manager_owns_is_a_conflict():
    live = client_side_created()
    with pytest.raises(ApplyConflict) as err:
        server_side_apply(live, config(2), "kubectl", False, T1)
    assert err.value.code == 409 and err.value.reason == "Conflict"
    assert err.value.message == (
        "Apply failed with 1 conflict: conflict with "
        '"kubectl-client-side-apply" using batch/v1: .spec.parallelism'
    )
    assert err.value.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using batch/v1',
                "field": ".spec.parallelism",
            }
        ]
    }


def test_several_conflicts_are_listed_by_manager():
    live = client_side_created()
    cfg = config(2, containers=[("pi", "perl:2")])
    cfg["spec"]["completions"] = 5
    with pytest.raises(ApplyConflict) as err:
        server_side_apply(live, cfg, "kubectl", False, T1)
    assert err.value.message == (
        'Apply failed with 3 conflicts: conflicts with "kubectl-client-side-apply" using '
        "batch/v1:\n- .spec.completions\n- .spec.parallelism\n"
        '- .spec.template.spec.containers[name="pi"].image'
    )
    assert [c["field"] for c in err.value.details["causes"]] == [
        ".spec.completions",
        ".spec.parallelism",
        '.spec.template.spec.containers[name="pi"].image',
    ]


def test_force_takes_the_field_over():
    live = client_side_created()
    out = server_side_apply(live, config(2), "kubectl", True, T1)
    assert out["spec"]["parallelism"] == 2
    assert ("f:spec", "f:parallelism") in owned(out, "kubectl")
    assert ("f:spec", "f:parallelism") not in owned(out, "kubectl-client-side-apply", "Update")
    # Fields applied with the same value are shared, not taken.
    assert ("f:spec", "f:template", "f:spec", "f:restartPolicy") in owned(
        out, "kubectl-client-side-apply", "Update"
    ) & owned(out, "kubectl")
    # Once it owns the field alone, dropping it removes it.
    out = server_side_apply(out, config(), "kubectl", False, T2)
    assert "parallelism" not in out["spec"]


def test_kubectl_migration_after_a_forced_apply_keeps_server_set_fields():
    # The store records the client's ownership before the server adds its own fields
    # (selector, labels); kubectl then folds its client-side manager into the applier
    # (client-go csaupgrade) and applies again: nothing the server set may be pruned.
    sent = config(1)
    live = copy.deepcopy(sent)
    update_managed_fields(None, live, "kubectl-client-side-apply", "Update", "batch/v1", T0)
    live["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}}
    live["spec"]["template"]["metadata"] = {"labels": {"job-name": "pi"}}
    out = server_side_apply(live, config(2), "kubectl", True, T1)
    fields = out["metadata"]["managedFields"]
    csa = next(e for e in fields if e["manager"] == "kubectl-client-side-apply")
    ssa = next(e for e in fields if e["manager"] == "kubectl")
    ssa["fieldsV1"] = fieldpath.to_fields_v1(
        fieldpath.from_fields_v1(ssa["fieldsV1"]) | fieldpath.from_fields_v1(csa["fieldsV1"])
    )
    out["metadata"]["managedFields"] = [ssa]
    again = server_side_apply(out, config(2), "kubectl", False, T2)
    assert again["spec"]["selector"] == live["spec"]["selector"]
    assert again["spec"]["template"]["metadata"] == live["spec"]["template"]["metadata"]
    assert again["spec"]["parallelism"] == 2


def test_the_same_value_is_no_conflict():
    live = client_side_created()
    out = server_side_apply(live, config(1), "kubectl", False, T1)
    assert out["spec"]["parallelism"] == 1
    assert ("f:spec", "f:parallelism") in owned(out, "kubectl")


def test_two_appliers_conflict():
    live = applied(("alice", config(2), T0))
    with pytest.raises(ApplyConflict) as err:
        server_side_apply(live, config(3), "bob", False, T1)
    assert err.value.details["causes"][0]["message"] == 'conflict with "alice"'


def test_an_untracked_object_has_no_owners_to_conflict_with():
    live = config(1, labels={"job-name": "pi"})
    out = server_side_apply(live, config(2), "kubectl", False, T1)
    assert out["spec"]["parallelism"] == 2
    assert out["metadata"]["labels"] == {"job-name": "pi"}
    assert set(entries(out)) == {("kubectl", "Apply")}


def test_finalizers_are_a_set():
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "finalizers": ["example.com/theirs"]},
    }
    cfg = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "finalizers": ["example.com/mine"]},
    }
    update_managed_fields(None, live, "creator", "Update", "v1", T0)
    out = server_side_apply(live, cfg, "kubectl", False, T1)
    assert out["metadata"]["finalizers"] == ["example.com/theirs", "example.com/mine"]
    assert owned(out, "kubectl") == {("f:metadata", "f:finalizers", 'v:"example.com/mine"')}
    cfg["metadata"]["finalizers"] = []
    out = server_side_apply(out, cfg, "kubectl", False, T2)
    assert out["metadata"]["finalizers"] == ["example.com/theirs"]


def test_ports_key_on_port_and_protocol_with_tcp_by_default():
    live = config()
    live["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 80, "protocol": "TCP", "name": "http"}
    ]
    update_managed_fields(None, live, "creator", "Update", "batch/v1", T0)
    cfg = config()
    cfg["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    out = server_side_apply(live, cfg, "kubectl", False, T1)
    assert out["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"}
    ]
    assert CONTAINERS + (
        'k:{"name":"pi"}',
        "f:ports",
        'k:{"containerPort":80,"protocol":"TCP"}',
        "f:containerPort",
    ) in owned(out, "kubectl")


def test_null_in_the_config_removes_the_field():
    live = applied(("kubectl", config(2), T0))
    cfg = config()
    cfg["spec"]["parallelism"] = None
    out = server_side_apply(live, cfg, "kubectl", False, T1)
    assert "parallelism" not in out["spec"]


def test_null_for_a_field_another_manager_owns_is_a_conflict():
    live = client_side_created()
    cfg = config()
    cfg["spec"]["completions"] = None
    with pytest.raises(ApplyConflict) as err:
        server_side_apply(live, cfg, "kubectl", False, T1)
    assert err.value.details["causes"][0]["field"] == ".spec.completions"
    out = server_side_apply(live, cfg, "kubectl", True, T1)
    assert "completions" not in out["spec"]
    assert ("f:spec", "f:completions") not in owned(out, "kubectl-client-side-apply", "Update")


def test_status_is_ignored_on_the_main_resource():
    live = applied(("kubectl", config(2), T0))
    live["status"] = {"active": 1}
    cfg = config(2)
    cfg["status"] = {"active": 9}
    out = server_side_apply(live, cfg, "kubectl", False, T1)
    assert out == live


def test_status_subresource_applies_only_status():
    live = applied(("kubectl", config(2), T0))
    cfg = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"parallelism": 7},
        "status": {"active": 3},
    }
    out = server_side_apply(live, cfg, "controller", False, T1, subresource="status")
    assert out["status"] == {"active": 3} and out["spec"]["parallelism"] == 2
    entry = entries(out)[("controller", "Apply")]
    assert entry["subresource"] == "status"
    assert fieldpath.from_fields_v1(entry["fieldsV1"]) == {("f:status", "f:active")}


@pytest.mark.parametrize(
    "manager, cfg, error, fragment",
    [
        ("", config(), Invalid, "fieldManager: Required value: is required for apply patch"),
        (
            "kubectl",
            {"metadata": {"managedFields": []}},
            BadRequest,
            "metadata.managedFields must be nil",
        ),
        ("kubectl", ["x"], BadRequest, "must be an object"),
    ],
)
def test_invalid_applies(manager, cfg, error, fragment):
    with pytest.raises(error) as err:
        server_side_apply(None, cfg, manager, False, T0)
    assert fragment in err.value.message


def test_inputs_are_not_modified():
    live = client_side_created()
    before_live, cfg = copy.deepcopy(live), config(2)
    before_cfg = copy.deepcopy(cfg)
    server_side_apply(live, cfg, "kubectl", True, T1)
    assert live == before_live and cfg == before_cfg


def names(items):
    return [i["name"] for i in items]


@pytest.mark.parametrize(
    "live, cfg, expected",
    [
        (["a", "b"], ["a", "b"], ["a", "b"]),
        (["a", "b"], ["c"], ["a", "b", "c"]),
        (["a", "b"], ["c", "a"], ["c", "a", "b"]),
        (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),
        (["a", "b", "c"], ["b", "d"], ["a", "b", "c", "d"]),
        ([], ["a"], ["a"]),
    ],
)
def test_list_map_order(live, cfg, expected):
    merged = ssa_merge({"env": [{"name": n} for n in live]}, {"env": [{"name": n} for n in cfg]})
    assert names(merged["env"]) == expected


@pytest.mark.parametrize(
    "field, live, cfg, expected",
    [
        ("finalizers", ["a", "b"], ["c"], ["a", "b", "c"]),
        ("finalizers", ["a", "b"], ["b", "a"], ["b", "a"]),
        ("args", ["a", "b"], ["c"], ["c"]),  # atomic: replaced
        ("tolerations", [{"key": "a"}], [{"key": "b"}], [{"key": "b"}]),
        ("env", [{"name": "a", "value": "1"}], [{"name": "a", "value": None}], [{"name": "a"}]),
    ],
)
def test_list_kinds_merge(field, live, cfg, expected):
    assert ssa_merge({field: live}, {field: cfg}) == {field: expected}


# -- properties ------------------------------------------------------------------------------

words = st.sampled_from(["a", "b", "c", "d"])
env = st.lists(
    st.builds(lambda n, v: {"name": n, "value": v}, words, words),
    max_size=3,
    unique_by=lambda e: e["name"],
)
containers = st.lists(
    st.builds(lambda n, i, e: {"name": n, "image": i, "env": e}, words, words, env),
    min_size=1,
    max_size=3,
    unique_by=lambda c: c["name"],
)
configs = st.builds(
    lambda labels, fins, cs, p: {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "labels": labels, "finalizers": fins},
        "spec": {"parallelism": p, "template": {"spec": {"containers": cs}}},
    },
    st.dictionaries(words, words, max_size=3),
    st.lists(words, max_size=3, unique=True),
    containers,
    st.integers(0, 3),
)


def content(obj):
    obj = copy.deepcopy(obj)
    obj["metadata"].pop("managedFields", None)
    return obj


@settings(max_examples=100, deadline=None)
@given(configs, configs)
def test_a_sole_applier_gets_exactly_its_config(first, second):
    live = server_side_apply(None, first, "kubectl", False, T0)
    assert content(live) == first
    assert server_side_apply(live, first, "kubectl", False, T1) == live
    assert content(server_side_apply(live, second, "kubectl", False, T2)) == second


@settings(max_examples=100, deadline=None)
@given(configs, configs)
def test_a_forced_apply_sets_every_field_it_names(first, second):
    live = server_side_apply(None, first, "alice", False, T0)
    out = server_side_apply(live, second, "bob", True, T1)
    merged = ssa_merge(content(live), second)
    assert content(out) == merged  # nothing pruned: bob never applied before
    assert fieldpath.field_set(second) - {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata", "f:name"),
    } <= owned(out, "bob")

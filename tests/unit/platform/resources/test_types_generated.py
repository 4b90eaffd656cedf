"""The generated TypedDicts (the package berth/platform/resources/types/) match schema.json."""

import importlib.util
import json
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from berth.platform.resources import types

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_types", ROOT / "tools/gen_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_is_what_the_generator_makes_of_schema_json(gen):
    fresh = gen.render(json.loads(gen.SCHEMA.read_text()))
    on_disk = {path.name: path.read_text() for path in gen.TARGET.glob("*.py")}
    assert on_disk == fresh, (
        "berth/platform/resources/types/ is stale: run .venv/bin/python tools/gen_types.py"
    )


def test_each_generated_module_imports_only_from_later_groups_and_stays_small(gen):
    order = [module for module, _, _ in gen.GROUPS]
    for name, text in gen.render(json.loads(gen.SCHEMA.read_text())).items():
        assert len(text.splitlines()) < 400, f"{name}: split its group in gen_types.GROUPS"
        if name == "__init__.py":
            continue
        sources = re.findall(r"^from berth\.platform\.resources\.types\.(\w+) import", text, re.M)
        later = order[order.index(name.removesuffix(".py")) + 1 :]
        assert set(sources) <= set(later), name


def test_every_kind_berth_serves_has_its_type_with_the_wire_field_names():
    roots = json.loads((ROOT / "berth/platform/resources/schema.json").read_text())["roots"]
    for kind in roots:
        assert isinstance(getattr(types, kind), typing._TypedDictMeta), kind
    assert types.Pod.__total__ is False
    assert set(types.ObjectMeta.__annotations__) >= {
        "name",
        "namespace",
        "ownerReferences",
        "deletionTimestamp",
        "resourceVersion",
    }
    hints = typing.get_type_hints(types.PodSpec)
    assert hints["containers"] == list[types.Container]
    assert hints["nodeSelector"] == dict[str, str]
    assert typing.get_type_hints(types.ResourceRequirements)["limits"] == dict[str, types.Quantity]
    assert typing.get_type_hints(types.HTTPGetAction)["port"] == types.IntOrString


@pytest.mark.parametrize(
    "spelling, wanted",
    [
        ("string", "str"),
        ("[integer]", "list[int]"),
        ("{quantity}", "dict[str, Quantity]"),
        ("[V1Container]", "list[Container]"),
        ("{[CoreV1EventSeries]}", "dict[str, list[EventSeries]]"),
        ("date-time", "str"),
        ("byte", "str"),
        ("any", "Any"),
    ],
)
def test_schema_spellings_become_python_types(gen, spelling, wanted):
    assert gen.python_type(spelling, "V1Anything", "field") == wanted


def test_fields_that_are_not_identifiers_use_the_functional_syntax(gen):
    schema = {
        "roots": {},
        "models": {
            "V1ListMeta": {"continue": "string", "remainingItemCount": "integer"},
            "V1Weird": {"x-kubernetes-thing": "[V1ListMeta]"},
        },
    }
    text = gen.render(schema, groups=(("weird", "Toy", ("V1ListMeta", "V1Weird")),))["weird.py"]
    assert "ListMeta = TypedDict('ListMeta', {\n    'continue': 'str'," in text
    assert "    'x-kubernetes-thing': 'list[ListMeta]',\n}, total=False)" in text
    namespace: dict = {"__name__": "rendered_types"}
    exec(compile(text, "types.py", "exec"), namespace)  # the rendered module runs
    list_meta = namespace["ListMeta"]
    assert (
        typing.get_type_hints(namespace["Weird"], namespace)["x-kubernetes-thing"]
        == list[list_meta]
    )


# A refers to B and C, B to C; D stands alone.
TOY = {
    "roots": {},
    "models": {
        "V1A": {"b": "V1B", "cs": "[V1C]"},
        "V1B": {"c": "{V1C}"},
        "V1C": {"x": "string"},
        "V1D": {"q": "quantity"},
    },
}


def test_a_model_goes_to_the_last_group_whose_anchors_reach_it(gen):
    groups = (("top", "Top", ("V1A",)), ("low", "Low", ("V1B", "V1D")))
    assert gen.place(TOY, groups) == {"V1A": "top", "V1B": "low", "V1C": "low", "V1D": "low"}
    files = gen.render(TOY, groups)
    assert sorted(files) == ["__init__.py", "low.py", "top.py"]
    assert "from berth.platform.resources.types.low import B, C\n" in files["top.py"]
    assert '__all__ = ["B", "C", "D", "IntOrString", "Quantity"]' in files["low.py"]
    assert "from berth" not in files["low.py"]


@pytest.mark.parametrize(
    "groups, error",
    [
        ((("top", "", ("V1A",)),), "no group's anchors reach model V1D"),
        ((("top", "", ("V1A", "V1D", "V1Z")),), r"anchors models not in the schema: \['V1Z'\]"),
        (
            (("top", "", ("V1B",)), ("low", "", ("V1A", "V1D"))),
            r"group top's anchors are reached from later groups: \{'V1B': 'low'\}",
        ),
    ],
)
def test_groups_that_leave_out_a_model_or_would_misplace_an_anchor_are_refused(gen, groups, error):
    with pytest.raises(ValueError, match=error):
        gen.place(TOY, groups)


def test_a_model_whose_name_is_taken_is_refused(gen):
    with pytest.raises(ValueError, match="Quantity"):
        gen.render({"roots": {}, "models": {"V1Quantity": {"a": "string"}}})


def test_the_types_are_for_the_checker_only_and_cost_no_start_up_time():
    """Building ~200 TypedDicts takes ~0.1 s: the server, the CLI, the scheduler and the node
    agent import them under TYPE_CHECKING only."""
    code = (
        "import sys, berth.server, berth.cli.main, berth.scheduler.loop, berth.workers.node.agent; "
        "print('berth.platform.resources.types' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

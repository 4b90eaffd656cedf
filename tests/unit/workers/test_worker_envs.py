"""$(VAR) expansion, container environment, GPU split and pod requests."""

import pytest

from berth.workers.node import envs


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$(A)", "a"),
        ("x-$(A)-$(B)", "x-a-b"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$$", "$"),
        ("cost $5", "cost $5"),
        ("$(A", "$(A"),
        ("end$", "end$"),
        ("", ""),
    ],
)
def test_expand_like_kubernetes(text, expected):
    assert envs.expand(text, {"A": "a", "B": "b"}) == expected


def test_env_values_may_refer_to_earlier_ones_only():
    env = envs.container_env(
        [("A", "1"), ("B", "$(A)-$(C)"), ("C", "3")], hostname="h", gpu_ids=None
    )
    assert env["B"] == "1-$(C)"
    assert env["HOSTNAME"] == "h" and env["PATH"].startswith("/usr/local/sbin")


@pytest.mark.parametrize(
    "ids, cuda, nvidia",
    [
        (None, "", "void"),
        ([], "", "void"),
        (["0", "2"], "0,2", "0,2"),
    ],
)
def test_gpu_visibility_is_set_for_every_container(ids, cuda, nvidia):
    env = envs.container_env([("CUDA_VISIBLE_DEVICES", "0,1,2,3")], hostname="h", gpu_ids=ids)
    assert (env["CUDA_VISIBLE_DEVICES"], env["NVIDIA_VISIBLE_DEVICES"]) == (cuda, nvidia)


def test_command_line_joins_command_and_args_with_expansion():
    c = {"command": ["/bin/sh", "-c"], "args": ["echo $(NAME) $$(NAME)"]}
    assert envs.command_line(c, {"NAME": "x"}) == ["/bin/sh", "-c", "echo x $(NAME)"]
    assert envs.command_line({"args": ["python3", "-V"]}, {}) == ["python3", "-V"]
    assert envs.command_line({}, {}) == []


def gpu(n):
    return {"resources": {"limits": {"nvidia.com/gpu": str(n)}}}


def test_split_gpus_between_containers():
    pod = {
        "spec": {
            "containers": [{"name": "a", **gpu(1)}, {"name": "b"}, {"name": "c", **gpu(2)}],
            "initContainers": [{"name": "i", **gpu(1)}],
        }
    }
    assert envs.split_gpus(pod, ["3", "5", "7"]) == {
        "a": ["3"],
        "b": [],
        "c": ["5", "7"],
        "i": ["3"],
    }


def test_pod_requests_sum_containers_and_take_max_of_init():
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
                {"name": "b", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": 1}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
            "overhead": {"memory": "10Mi"},
        }
    }
    assert envs.pod_requests(pod) == {
        "cpu": 2000,
        "memory": (1 << 30) + 10 * (1 << 20),
        "nvidia.com/gpu": 1,
    }


def test_container_limits():
    c = {"resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}}
    assert envs.container_limits(c) == (64 << 20, 250)
    assert envs.container_limits({}) == (None, None)

"""The batch/v1 Job that ``berth run`` submits, built from its options (pure)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

DEFAULT_IMAGE = "berth/host"
CONTAINER = "main"
_NAME_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class RunOptions:
    command: list[str]
    name: str
    namespace: str = "default"
    cpu: str | None = None
    memory: str | None = None
    gpus: int | None = None
    completions: int | None = None
    parallelism: int | None = None
    indexed: bool = False
    backoff_limit: int | None = None
    image: str = DEFAULT_IMAGE
    env: dict[str, str] = field(default_factory=dict)


def random_name(rng: random.Random, prefix: str = "run") -> str:
    """``run-x7k2q``: five lowercase letters or digits, a valid DNS label."""
    return f"{prefix}-" + "".join(rng.choice(_NAME_ALPHABET) for _ in range(5))


def parse_env(pairs: list[str]) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` → ``{"A": "1", "B": "x=y"}``; raises ValueError for ``A`` or ``=1``."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env


def resources(options: RunOptions) -> dict:
    """Requests equal to limits, so the pod is placed and held to exactly what it asked for."""
    amounts = {}
    if options.cpu:
        amounts["cpu"] = options.cpu
    if options.memory:
        amounts["memory"] = options.memory
    if options.gpus:
        amounts["nvidia.com/gpu"] = str(options.gpus)
    return {"requests": dict(amounts), "limits": dict(amounts)} if amounts else {}


def build_job(options: RunOptions) -> dict:
    if not options.command:
        raise ValueError("a command to run is required: berth run [OPTIONS] -- CMD [ARGS...]")
    container = {"name": CONTAINER, "image": options.image, "command": list(options.command)}
    if options.env:
        container["env"] = [{"name": k, "value": v} for k, v in options.env.items()]
    if resources(options):
        container["resources"] = resources(options)
    spec: dict = {}
    if options.completions is not None:
        spec["completions"] = options.completions
    if options.parallelism is not None:
        spec["parallelism"] = options.parallelism
    if options.indexed:
        spec["completionMode"] = "Indexed"
    if options.backoff_limit is not None:
        spec["backoffLimit"] = options.backoff_limit
    spec["template"] = {"spec": {"restartPolicy": "Never", "containers": [container]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": options.name, "namespace": options.namespace},
        "spec": spec,
    }

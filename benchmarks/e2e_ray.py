"""The baseline of the end-to-end benchmark: raw Ray tasks that run the same process.

A private loopback Ray head of its own (``local_ray``; never Berth's, never ``ray stop``), the
same default CPUs as Berth's embedded node. Each task asks for ``num_cpus`` (0.1, as the pods
ask for 100m) and runs ``argv`` with ``subprocess.run``; it stamps ``time.time()`` when it
starts and when the process has ended. The driver stamps each submit and the moment it sees
each result (``ray.wait`` every few milliseconds), the analogue of a client seeing a Job
Complete.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import ray
import ray.cloudpickle

from berth.workers.control.local_ray import connect_env, start_local_ray, stop_local_ray

_COLLECT_S = 0.002


@ray.remote(max_retries=0)
def run_process(argv: list[str]) -> tuple[float, float]:
    started = time.time()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return started, time.time()


@dataclass
class TaskTimes:
    submitted: float
    started: float
    ended: float
    seen: float


@dataclass
class Baseline:
    name: str
    solo: list[TaskTimes]
    burst: list[TaskTimes]


def _solo(argv: list[str], count: int, cpus: float) -> list[TaskTimes]:
    out = []
    for _ in range(count):
        submitted = time.time()
        started, ended = ray.get(run_process.options(num_cpus=cpus).remote(argv))
        out.append(TaskTimes(submitted, started, ended, time.time()))
    return out


def _burst(argv: list[str], count: int, cpus: float) -> list[TaskTimes]:
    submitted: dict[ray.ObjectRef, float] = {}
    for _ in range(count):
        now = time.time()
        submitted[run_process.options(num_cpus=cpus).remote(argv)] = now
    seen: dict[ray.ObjectRef, float] = {}
    pending = list(submitted)
    while pending:
        ready, pending = ray.wait(pending, num_returns=len(pending), timeout=_COLLECT_S)
        now = time.time()
        for ref in ready:
            seen[ref] = now
    out = []
    for ref, when in submitted.items():
        started, ended = ray.get(ref)
        out.append(TaskTimes(when, started, ended, seen[ref]))
    return out


def run_baselines(
    variants: dict[str, list[str]], temp_dir: Path, *, burst: int, solo: int, warm: int, cpus: float
) -> list[Baseline]:
    """For each named command: ``warm`` tasks unmeasured, ``solo`` one at a time, then
    ``burst`` submitted at once."""
    address = start_local_ray(temp_dir)
    previous = connect_env(temp_dir)
    try:
        # Workers cannot import the benchmarks package: ship the task function by value.
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        try:
            results = []
            for name, argv in variants.items():
                ray.get([run_process.options(num_cpus=cpus).remote(argv) for _ in range(warm)])
                results.append(Baseline(name, _solo(argv, solo, cpus), _burst(argv, burst, cpus)))
            return results
        finally:
            ray.shutdown()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stop_local_ray(temp_dir)

"""Decide whether an Indexed Job met ``spec.successPolicy`` (Kubernetes ``matchSuccessPolicy``).

A rule is met when every index in ``succeededIndexes`` succeeded, or when ``succeededCount`` of
them did; a rule with only ``succeededCount`` is met when that many indexes of the whole Job
succeeded. The first rule met, in order, names the message.
"""

from __future__ import annotations

from . import indexes


def match(policy: dict | None, completions: int, succeeded: set[int]) -> str | None:
    """``"Matched rules at index N"`` for the first rule met, or None."""
    if not policy or not succeeded:
        return None
    for position, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = indexes.parse(rule["succeededIndexes"], completions)
            if not required:
                continue  # unparsable rule: skipped, as Kubernetes does
            done = len(required & succeeded)
            if done == len(required) or (count is not None and done >= count):
                return f"Matched rules at index {position}"
        elif count is not None and len(succeeded) >= count:
            return f"Matched rules at index {position}"
    return None

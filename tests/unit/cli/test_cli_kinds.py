"""Kind words as people type them, resolved through the registry the server serves."""

from __future__ import annotations

import pytest

from berth.cli.kinds import KindError, UnknownKind, qualified, resolve_kind, split_kind_name
from berth.platform.resources import registry


@pytest.mark.parametrize(
    "word, rt",
    [
        ("job", registry.JOB),
        ("jobs", registry.JOB),
        ("Job", registry.JOB),
        ("jobs.batch", registry.JOB),
        ("job.batch", registry.JOB),
        ("cj", registry.CRON_JOB),
        ("cronjob", registry.CRON_JOB),
        ("cronjobs", registry.CRON_JOB),
        ("po", registry.POD),
        ("pod", registry.POD),
        ("pods", registry.POD),
        ("cm", registry.CONFIG_MAP),
        ("configmap", registry.CONFIG_MAP),
        ("secret", registry.SECRET),
        ("secrets", registry.SECRET),
        ("ns", registry.NAMESPACE),
        ("namespace", registry.NAMESPACE),
        ("no", registry.NODE),
        ("node", registry.NODE),
        ("nodes", registry.NODE),
        ("pv", registry.PERSISTENT_VOLUME),
        ("pvc", registry.PERSISTENT_VOLUME_CLAIM),
        ("persistentvolumeclaims", registry.PERSISTENT_VOLUME_CLAIM),
        ("sc", registry.STORAGE_CLASS),
        ("storageclasses.storage.k8s.io", registry.STORAGE_CLASS),
        ("ev", registry.EVENT),
        ("events", registry.EVENT),
    ],
)
def test_resolve_kind(word, rt):
    assert resolve_kind(word) is rt


@pytest.mark.parametrize("word", ["foo", "jobs.apps", "deployment", ""])
def test_unknown_kind_says_so_like_kubectl(word):
    with pytest.raises(UnknownKind, match=f'doesn\'t have a resource type "{word}"'):
        resolve_kind(word)


@pytest.mark.parametrize(
    "args, expected",
    [
        (("job/pi",), (registry.JOB, "pi")),
        (("job", "pi"), (registry.JOB, "pi")),
        (("jobs",), (registry.JOB, None)),
        (("po/x-1",), (registry.POD, "x-1")),
    ],
)
def test_split_kind_name(args, expected):
    assert split_kind_name(*args) == expected


def test_a_name_given_twice_is_refused():
    with pytest.raises(KindError, match="no need to specify a resource type"):
        split_kind_name("job/pi", "pi")


@pytest.mark.parametrize(
    "rt, text",
    [
        (registry.JOB, "job.batch"),
        (registry.POD, "pod"),
        (registry.CONFIG_MAP, "configmap"),
        (registry.STORAGE_CLASS, "storageclass.storage.k8s.io"),
    ],
)
def test_qualified(rt, text):
    assert qualified(rt) == text

"""/healthz, /livez and /readyz list named checks the way kube-apiserver does."""

from __future__ import annotations


def test_plain_health_is_ok(platform, api):
    for path in ("/healthz", "/livez", "/readyz"):
        response = api.get(path)
        assert (response.status_code, response.text) == (200, "ok")


def test_verbose_lists_every_check(platform, api):
    text = api.get("/readyz?verbose").text.splitlines()
    assert text[0] == "[+]ping ok" and text[1].startswith("[+]store ok: resourceVersion ")
    assert "[+]informer-sync ok: synced" in text and text[-1] == "readyz check passed"
    assert api.get("/healthz?verbose").text.splitlines()[-1] == "healthz check passed"


def test_a_failing_check_fails_with_its_reason_and_can_be_excluded(platform, api):
    platform.health.add("cronjob-controller", lambda: (False, "cron triggers are not running"))
    try:
        response = api.get("/readyz")
        assert response.status_code == 500
        assert "[-]cronjob-controller failed: cron triggers are not running" in response.text
        assert response.text.splitlines()[-1] == "readyz check failed"
        assert api.get("/readyz/cronjob-controller").status_code == 500
        assert api.get("/readyz?exclude=cronjob-controller").status_code == 200
        assert api.get("/readyz/ping").text == "ok"
    finally:
        platform.health.remove("cronjob-controller")
    assert api.get("/readyz/nothing").status_code == 404


def test_readyz_waits_for_the_informers(platform, api):
    platform.ready.clear()
    try:
        response = api.get("/readyz")
        assert response.status_code == 500 and "[-]informer-sync failed" in response.text
        assert api.get("/livez").status_code == 200
    finally:
        platform.ready.set()


def test_odd_health_paths_never_fail_the_server(platform, api):
    for path in (
        "/healthz/",
        "/readyz/",
        "/livez//",
        "/readyz?verbose=false&exclude=",
        "/healthz/%00",
    ):
        assert api.get(path).status_code < 500, path

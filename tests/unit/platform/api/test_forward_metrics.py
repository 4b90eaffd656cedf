"""The API process's /metrics: the controller process's series, with the API's request series
taken from the API process (which serves the requests), each family once."""

from __future__ import annotations

from berth.platform.api.forward import merge_exposition

CONTROL = """# HELP berth_api_requests_total API requests.
# TYPE berth_api_requests_total counter
berth_api_requests_total{code="200",resource="",verb="get"} 7.0
# HELP berth_controller_leader 1 while this process runs the controllers.
# TYPE berth_controller_leader gauge
berth_controller_leader 1.0
# HELP berth_jobs Jobs by state.
# TYPE berth_jobs gauge
berth_jobs{state="active"} 3.0
"""

OWN = """# HELP berth_api_requests_total API requests.
# TYPE berth_api_requests_total counter
berth_api_requests_total{code="200",resource="jobs",verb="get"} 41.0
# HELP berth_controller_leader 1 while this process runs the controllers.
# TYPE berth_controller_leader gauge
berth_controller_leader 0.0
"""


def test_api_series_come_from_the_api_process_and_the_rest_from_the_controllers():
    merged = merge_exposition(CONTROL, OWN)
    assert 'berth_api_requests_total{code="200",resource="jobs",verb="get"} 41.0' in merged
    assert 'resource="",verb="get"} 7.0' not in merged
    assert "berth_controller_leader 1.0" in merged
    assert "berth_controller_leader 0.0" not in merged
    assert 'berth_jobs{state="active"} 3.0' in merged


def test_every_family_appears_once():
    helps = [
        line.split()[2]
        for line in merge_exposition(CONTROL, OWN).splitlines()
        if line.startswith("# HELP ")
    ]
    assert sorted(helps) == ["berth_api_requests_total", "berth_controller_leader", "berth_jobs"]


def test_an_empty_side_leaves_the_other():
    without_api = CONTROL[CONTROL.index("# HELP berth_controller_leader") :]
    assert merge_exposition(CONTROL, "") == without_api
    assert merge_exposition("", OWN) == OWN[: OWN.index("# HELP berth_controller_leader")]

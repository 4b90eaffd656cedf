"""The settings object refuses combinations that break a promise made elsewhere."""

import pytest
from pydantic import ValidationError

from berth.settings import Settings


def test_a_lease_renew_deadline_not_below_the_lease_duration_is_refused():
    with pytest.raises(ValidationError, match="lease_renew_deadline_s"):
        Settings(lease_duration_s=3.0, lease_renew_deadline_s=3.0)


def test_the_default_lease_timing_is_accepted():
    settings = Settings()
    assert settings.lease_renew_deadline_s < settings.lease_duration_s

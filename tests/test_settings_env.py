"""Settings come from ``SECTION__KEY`` variables; a key that no section has is an error."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.settings import Settings


def test_a_misspelt_variable_stops_the_start_naming_it(monkeypatch):
    monkeypatch.setenv("CHAT__RATE_PER_MINUT", "5")
    with pytest.raises(ValidationError, match="CHAT__RATE_PER_MINUT") as err:
        Settings(_env_file=None)
    assert "CHAT__RATE_PER_MINUTE" in str(err.value)  # the valid names are listed


def test_known_variables_still_set_their_fields(monkeypatch):
    monkeypatch.setenv("CHAT__RATE_PER_MINUTE", "5")
    monkeypatch.setenv("API__GZIP_MIN_BYTES", "2048")
    settings = Settings(_env_file=None)
    assert settings.chat.rate_per_minute == 5 and settings.api.gzip_min_bytes == 2048


def test_section_objects_passed_in_code_are_not_checked_as_variables():
    from app.core.settings import ChatSettings

    assert Settings(_env_file=None, chat=ChatSettings(rate_per_minute=7)).chat.rate_per_minute == 7

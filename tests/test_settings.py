"""Settings come from a TOML file and the environment; the environment wins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from deskbot.settings import DEFAULT_DATABASE_URL, SLACK_API_URL, Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "deskbot.example.toml"


def test_defaults_need_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DESKBOT_", "SLACK_")):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///deskbot.sqlite3"
    assert settings.slack_api_url == SLACK_API_URL == "https://slack.com/api/"
    assert settings.draft_ttl_days == 7 and settings.slack_bot_token is None


def test_the_example_file_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKBOT_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("DESKBOT_TRIAGE_CHANNEL", "C0FROMENV")
    monkeypatch.setenv("DESKBOT_ROLES__AGENTS", '["U0ENV"]')
    monkeypatch.setenv("DESKBOT_SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = Settings()
    assert settings.organisation == "GGZ Voorbeeld"
    assert [p.name for p in settings.platforms] == ["production", "training"]
    assert settings.roles.application_managers == ["U0123AAAA", "S0123AMS"]
    assert settings.triage_channel == "C0FROMENV"  # the environment wins over the file
    assert settings.roles.agents == ["U0ENV"]
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.slack_bot_token is not None
    assert "xoxb-from-env" not in repr(settings)  # secrets never show in logs


def test_bad_configuration_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DESKBOT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="not a file"):
        Settings()
    bad = tmp_path / "bad.toml"
    bad.write_text('country = "FR"\n')
    monkeypatch.setenv("DESKBOT_CONFIG", str(bad))
    with pytest.raises(ValidationError, match="country"):
        Settings()

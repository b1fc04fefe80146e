"""One settings object for deskbot, read from the environment and an optional TOML file."""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from deskbot.sla.calendar import WorkCalendar

DEFAULT_DATABASE_URL = "sqlite:///deskbot.sqlite3"
SLACK_API_URL = "https://slack.com/api/"
DATABASE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})


class ConfigFileError(ValueError):
    """The file DESKBOT_CONFIG names is missing or not valid TOML; the message says which."""


ProfessionalDetails = Literal["never_manual", "protect_external", "always_manual"]


class Platform(BaseModel):
    """A platform the organisation runs (production, training, ...)."""

    name: str
    url: str
    # The platform's "professional details" setting: may an externally managed professional
    # account be changed by hand on the platform?
    professional_details: ProfessionalDetails = "protect_external"
    # The form of this platform's anonymised client IDs, as a regular expression matched
    # against the whole ID, with an example to show when one does not fit.
    client_id_pattern: str | None = None
    client_id_example: str | None = None

    @field_validator("client_id_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as problem:
                raise ValueError(f"client_id_pattern is not valid: {problem}") from None
        return value


class AccountColumns(BaseModel):
    """Column names and value conventions of the platform's CSV exports."""

    account_id: str = "id"
    email: str = "email"
    name: str = "name"
    active: str = "active"
    externally_managed: str = "externally_managed"
    groups: str = "groups"
    delimiter: str = ","
    groups_separator: str = ";"
    true_values: list[str] = Field(
        default_factory=lambda: ["1", "true", "yes", "y", "ja", "j", "active", "actief"]
    )


class Roles(BaseModel):
    """Who holds which role: Slack user IDs and Slack user-group IDs per role."""

    application_managers: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    data_officers: list[str] = Field(default_factory=list)
    therapists: list[str] = Field(default_factory=list)
    leads: list[str] = Field(default_factory=list)


class Sla(BaseModel):
    """Deletion requests: the working-day clock, the four-eyes rule and the reminders."""

    working_days: int = Field(default=5, ge=1)
    four_eyes: bool = False  # the confirmer must be someone other than the requester
    workday_start: time = time(9, 0)  # reminders go out at this local time on working days
    closed_dates: list[date] = Field(default_factory=list)  # extra days off (bridge days)
    open_dates: list[date] = Field(default_factory=list)  # worked despite weekend or holiday
    confirmation_reminder_days: int = Field(default=2, ge=1)
    statutory_warning_days: int = Field(default=7, ge=1)


class Smtp(BaseModel):
    """The mail server that carries bug reports to the vendor; unconfigured, nothing is mailed."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    sender: str | None = None  # the From address
    vendor_address: str | None = None  # the To address
    timeout: float = Field(default=10, gt=0)  # seconds, for connecting and for each reply

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender and self.vendor_address)


class Jobs(BaseModel):
    """The scheduled messages besides the SLA reminders."""

    daily_digest: bool = True  # the triage queue at a glance, each working morning
    draft_nudge_working_days: int = Field(default=2, ge=1)  # then the owner is reminded once
    release_notes: bool = True  # remind application managers to read the release notes
    release_notes_weekday: int = Field(default=4, ge=0, le=6)  # the month's last one; 4 = Fri


class Settings(BaseSettings):
    """Everything deskbot can be told; see the README for each setting and its default."""

    model_config = SettingsConfigDict(
        env_prefix="DESKBOT_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    config: Path | None = None
    organisation: str = "Demo care organisation"
    organisation_id: str = "demo"
    # For the triage channel, and for anyone whose Slack language is not English, Dutch or German.
    language: Literal["en", "nl", "de"] = "en"
    platforms: list[Platform] = Field(
        default_factory=lambda: [
            Platform(name="production", url="https://demo.example-ehealth.org"),
            Platform(name="training", url="https://training.demo.example-ehealth.org"),
        ]
    )
    roles: Roles = Field(default_factory=Roles)
    timezone: str = "Europe/Amsterdam"
    country: Literal["NL", "DE"] = "NL"
    region: str | None = None
    triage_channel: str | None = None
    sla: Sla = Field(default_factory=Sla)
    tick_seconds: int = Field(default=20, ge=1)
    jobs: Jobs = Field(default_factory=Jobs)
    smtp: Smtp = Field(default_factory=Smtp)

    database_url: str = DEFAULT_DATABASE_URL
    auto_migrate: bool = True
    slack_api_url: str = SLACK_API_URL
    draft_ttl_days: int = Field(default=7, ge=1)
    account_columns: AccountColumns = Field(default_factory=AccountColumns)
    # The key of the keyed hash that stands for an address in the lookup audit. Without it,
    # deskbot makes a random key once and keeps it in its database.
    lookup_hash_key: SecretStr | None = None
    listener_threads: int = Field(default=8, ge=1)
    log_level: str = "INFO"

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # Refused here, not at the first query; the messages never repeat the URL, which may
        # hold a password.
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            raise ValueError(
                "is not a database URL: give sqlite:///path/to/deskbot.sqlite3 or "
                "postgresql+psycopg://user@host:5432/db"
            ) from None
        if driver in DATABASE_DRIVERS:
            return value
        if driver.split("+")[0] in ("postgresql", "postgres"):
            raise ValueError(
                f"uses the driver {driver}, which deskbot does not have: write "
                "postgresql+psycopg://… (psycopg 3)"
            )
        raise ValueError(
            f"uses {driver}, which deskbot does not support: give a sqlite:///… or "
            "postgresql+psycopg://… URL"
        )

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        # slack_sdk appends the method name straight onto the base URL.
        return value if value.endswith("/") else value + "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the TOML file, so one file can serve several instances.
        return (init_settings, env_settings, TomlFileSource(settings_cls))

    def platform_named(self, name: str) -> Platform | None:
        return next((p for p in self.platforms if p.name == name), None)

    def work_calendar(self) -> WorkCalendar:
        return WorkCalendar(
            timezone=self.timezone,
            country=self.country,
            region=self.region,
            extra_closed=frozenset(self.sla.closed_dates),
            extra_open=frozenset(self.sla.open_dates),
            workday_start=self.sla.workday_start,
        )


class TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by DESKBOT_CONFIG, if any."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        path = os.environ.get("DESKBOT_CONFIG")
        if not path:
            return {}
        file = Path(path)
        if not file.is_file():
            raise ConfigFileError(
                f"DESKBOT_CONFIG points to {file}, which is not a file: give the path of a TOML "
                "file, or unset DESKBOT_CONFIG."
            )
        try:
            with file.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as problem:  # its text: what and where, never the content
            raise ConfigFileError(
                f"DESKBOT_CONFIG points to {file}, which is not valid TOML ({problem}): fix the "
                "file (deskbot.example.toml shows a complete one)."
            ) from None
        except OSError as problem:
            raise ConfigFileError(
                f"DESKBOT_CONFIG points to {file}, which cannot be read ({problem.strerror})."
            ) from None
        return {key.replace("-", "_"): value for key, value in data.items()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()

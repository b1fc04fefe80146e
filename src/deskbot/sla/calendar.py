"""Working-day arithmetic for SLA deadlines (such as the 5-working-day GDPR deletion clock).

Rules, following the product spec:

* The clock starts at confirmation. *Day 0* is the local date of confirmation in the
  organisation's timezone and never counts, whatever kind of day it is.
* A working day is Monday to Friday, minus the public holidays of the organisation's country
  (and, for Germany, its state) according to the pinned ``holidays`` package, minus the
  organisation's configured closing days, plus any configured extra opening days.
* "Due at the end of the n-th working day" means the last instant of that local calendar day,
  23:59:59.999999 local time, returned as an aware UTC datetime. A deadline is breached from
  local midnight onwards.

Everything here is pure: no I/O and no clock reads. Callers pass aware datetimes and store the
results together with ``WorkCalendar.identity``, so that a later change of configuration or of
the holiday data is detectable instead of silently moving a stored deadline.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.version import __version__ as _HOLIDAYS_VERSION

__all__ = [
    "SUPPORTED_COUNTRIES",
    "WorkCalendar",
    "statutory_deadline",
]

SUPPORTED_COUNTRIES: frozenset[str] = frozenset({"NL", "DE"})

# Bump when the meaning of a working day or of "due" changes in this module, so identities
# stored before the change no longer match.
_RULES_VERSION = "v1"

_ONE_DAY = timedelta(days=1)

# A configuration with, say, every day closed would make the day-by-day search run forever;
# no real calendar has 10 years without a working day.
_MAX_SEARCH_DAYS = 3660


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, region: str | None, year: int) -> Mapping[date, str]:
    """Public holidays of one year, cached because building them is comparatively slow."""
    # Default categories only (public holidays). Names are English; multiple holidays on one
    # date are joined with "; " by the package.
    table = holidays.country_holidays(country, subdiv=region, years=year)
    # Read-only, because the cached object is shared by every caller.
    return MappingProxyType({day: str(name) for day, name in table.items()})


@functools.lru_cache(maxsize=8)
def _subdivisions(country: str) -> tuple[str, ...]:
    return tuple(holidays.country_holidays(country).subdivisions)


def _plain_date(d: date, what: str) -> date:
    # datetime is a subclass of date; accepting one here would silently use its UTC or naive
    # date rather than the organisation's local date.
    if isinstance(d, datetime):
        raise TypeError(f"{what} must be a date, not a datetime; use local_date() first")
    return d


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {moment!r}")


def _dates_digest(dates: frozenset[date]) -> str:
    if not dates:
        return "0"
    joined = ",".join(sorted(d.isoformat() for d in dates))
    return f"{len(dates)}:{hashlib.sha256(joined.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class WorkCalendar:
    """The working days and local timezone of one organisation."""

    timezone: str = "Europe/Amsterdam"
    """IANA timezone name of the organisation."""
    country: str = "NL"
    """ISO country code: "NL" or "DE"."""
    region: str | None = None
    """German state code as known to the holidays package ("NW", "BY", ...); None for NL."""
    extra_closed: frozenset[date] = frozenset()
    """Organisation closing days (for example a bridge day) that are not working days."""
    extra_open: frozenset[date] = frozenset()
    """Dates that are working days despite being a weekend day, holiday or closing day."""
    workday_start: time = time(9, 0)
    """Local start of working hours; reminders go out then."""

    def __post_init__(self) -> None:
        if self.country not in SUPPORTED_COUNTRIES:
            raise ValueError(
                f"unsupported country {self.country!r}; expected one of "
                f"{', '.join(sorted(SUPPORTED_COUNTRIES))}"
            )
        subdivisions = _subdivisions(self.country)
        if self.country == "DE" and self.region is None:
            # Several holidays (Corpus Christi, Reformation Day, ...) depend on the state, so a
            # German calendar without one would be wrong for every organisation.
            raise ValueError(
                f"country 'DE' needs a region (state code), one of: {', '.join(subdivisions)}"
            )
        if self.region is not None and self.region not in subdivisions:
            if not subdivisions:
                raise ValueError(f"country {self.country!r} has no regions; use region=None")
            raise ValueError(
                f"unknown region {self.region!r} for country {self.country!r}; expected one of: "
                f"{', '.join(subdivisions)}"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        if self.workday_start.tzinfo is not None:
            raise ValueError("workday_start must be a naive local time")
        # Tolerate plain sets from configuration code; the frozen dataclass must stay hashable.
        object.__setattr__(self, "extra_closed", frozenset(self.extra_closed))
        object.__setattr__(self, "extra_open", frozenset(self.extra_open))
        for d in self.extra_closed | self.extra_open:
            _plain_date(d, "extra_closed/extra_open entries")
        both = self.extra_closed & self.extra_open
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates both closed and open: {listed}")

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's timezone as a ZoneInfo object."""
        return ZoneInfo(self.timezone)

    @property
    def identity(self) -> str:
        """A stable description of everything that decides deadlines, to store beside them.

        If a later calendar has a different identity, a stored deadline may no longer match
        what this calendar would compute; callers must keep the stored value and flag the
        difference rather than recompute. ``workday_start`` is left out on purpose: it only
        schedules reminders and never moves a deadline.
        """
        return "|".join(
            (
                _RULES_VERSION,
                self.country,
                self.region or "-",
                self.timezone,
                f"holidays-{_HOLIDAYS_VERSION}",
                f"closed={_dates_digest(self.extra_closed)}",
                f"open={_dates_digest(self.extra_open)}",
            )
        )

    # -- days ---------------------------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """Name of the public holiday on ``d``, or of a configured closing day; else None.

        The public holiday's name is returned even when ``d`` is in ``extra_open``, because it
        is still that holiday; use ``is_working_day`` to decide whether work happens.
        """
        d = _plain_date(d, "d")
        name = _public_holidays(self.country, self.region, d.year).get(d)
        if name is not None:
            return name
        if d in self.extra_closed:
            return "Organisation closing day"
        return None

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` counts as a working day for this organisation."""
        d = _plain_date(d, "d")
        if d in self.extra_open:
            return True
        if d in self.extra_closed or d.weekday() >= 5:
            return False
        return d not in _public_holidays(self.country, self.region, d.year)

    def local_date(self, moment: datetime) -> date:
        """The organisation's local calendar date at the aware instant ``moment``."""
        _require_aware(moment, "moment")
        return moment.astimezone(self.zone).date()

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` never counts; n=0 gives start."""
        current = _plain_date(start, "start")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        found = 0
        steps = 0
        while found < n:
            current += _ONE_DAY
            steps += 1
            if self.is_working_day(current):
                found += 1
            elif steps > _MAX_SEARCH_DAYS + n:
                raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days of {start}")
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in (start, end]; the negated count of (end, start] if end < start.

        Inverse of ``add_working_days``: ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        start = _plain_date(start, "start")
        end = _plain_date(end, "end")
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += _ONE_DAY
            if self.is_working_day(current):
                count += 1
        return count

    # -- moments ------------------------------------------------------------------------------

    def end_of_day(self, d: date) -> datetime:
        """The last instant (23:59:59.999999 local) of local date ``d``, as aware UTC."""
        d = _plain_date(d, "d")
        # fold=1 picks the later instant should 23:59 ever be ambiguous in some zone; Europe
        # switches at night, where this never matters.
        local = datetime.combine(d, time.max, tzinfo=self.zone).replace(fold=1)
        return local.astimezone(UTC)

    def due_date(self, confirmed_at: datetime, days: int = 5) -> date:
        """The local date of the ``days``-th working day after the local date of confirmation."""
        if days < 1:
            raise ValueError(f"days must be >= 1, got {days}")
        return self.add_working_days(self.local_date(confirmed_at), days)

    def due(self, confirmed_at: datetime, days: int = 5) -> datetime:
        """The deadline: the end of ``due_date(confirmed_at, days)``, as aware UTC."""
        return self.end_of_day(self.due_date(confirmed_at, days))

    def paused_working_days(self, paused_at: datetime, resumed_at: datetime) -> int:
        """Working days lost to a pause, to pass to ``extend``.

        Counts the working days in (local pause date, local resume date]: the day the pause
        starts was already available to work on, and the resume day is treated like a fresh
        day 0 because the requester's answer may arrive at any hour. A pause ended on the day
        it started costs nothing.
        """
        _require_aware(paused_at, "paused_at")
        _require_aware(resumed_at, "resumed_at")
        if resumed_at < paused_at:
            raise ValueError("resumed_at is before paused_at")
        return self.working_days_between(self.local_date(paused_at), self.local_date(resumed_at))

    def extend(self, due_date: date, paused_working_days: int) -> date:
        """A stored due date moved out by the working days the clock was paused."""
        if paused_working_days < 0:
            raise ValueError(f"paused_working_days must be >= 0, got {paused_working_days}")
        return self.add_working_days(due_date, paused_working_days)

    def working_day_number(self, confirmed_at: datetime, today: date) -> int:
        """How many working days of the clock have begun by local date ``today``.

        1 on the first working day after day 0, 2 on the second, and so on. On day 0, before
        it, or on non-working days before day 1 it is 0; on a later non-working day it stays at
        the number of the last working day. Reminders for "working day 3" should therefore
        also check ``is_working_day(today)``.
        """
        today = _plain_date(today, "today")
        return max(0, self.working_days_between(self.local_date(confirmed_at), today))

    def next_working_morning(self, after: datetime) -> datetime:
        """The first start of working hours on a working day strictly after ``after``, as UTC."""
        _require_aware(after, "after")
        zone = self.zone
        day = after.astimezone(zone).date()
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                # Aware comparison is by instant, so DST changes between now and then are
                # handled by zoneinfo.
                candidate = datetime.combine(day, self.workday_start, tzinfo=zone)
                if candidate > after:
                    return candidate.astimezone(UTC)
            day += _ONE_DAY
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {after}")


def statutory_deadline(requested_on: date) -> date:
    """The GDPR Art. 12(3) date: one calendar month after the request date.

    The same day of the next month, clamped to that month's last day (31 Jan -> 28/29 Feb).
    It is deliberately not moved off weekends or holidays: it is the outer legal limit, shown
    next to the (always earlier) internal working-day deadline.
    """
    requested_on = _plain_date(requested_on, "requested_on")
    year, month_index = divmod(requested_on.year * 12 + requested_on.month, 12)
    month = month_index + 1
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last_day = (following - _ONE_DAY).day
    return date(year, month, min(requested_on.day, last_day))

"""Tests for the working-day calendar behind SLA deadlines (deskbot.sla.calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from holidays.version import __version__ as HOLIDAYS_VERSION
from hypothesis import given, settings
from hypothesis import strategies as st

from deskbot.sla.calendar import WorkCalendar, statutory_deadline

AMS = ZoneInfo("Europe/Amsterdam")
BER = ZoneInfo("Europe/Berlin")
NL = WorkCalendar()
NW = WorkCalendar(timezone="Europe/Berlin", country="DE", region="NW")
BY = WorkCalendar(timezone="Europe/Berlin", country="DE", region="BY")


def ams(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, sec, us, tzinfo=AMS)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, sec, us, tzinfo=UTC)


# -- what the pinned holidays package says --------------------------------------------------


def test_holiday_data_assumptions() -> None:
    # The spec examples depend on these facts of holidays==0.108; if an upgrade changes them,
    # this test says so before any deadline test fails mysteriously.
    assert NL.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert NL.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    assert NL.holiday_name(date(2026, 4, 27)) == "King's Day"
    # Liberation Day is a public holiday only every fifth year (2025, 2030, ...).
    assert NL.holiday_name(date(2025, 5, 5)) == "Liberation Day"
    assert NL.holiday_name(date(2026, 5, 5)) is None
    assert NL.holiday_name(date(2026, 5, 1)) is None
    assert NW.holiday_name(date(2026, 5, 1)) == "Labor Day"
    assert NW.holiday_name(date(2026, 4, 27)) is None
    # State-specific: Corpus Christi in NW and BY, Reformation Day not in NW.
    assert NW.holiday_name(date(2026, 6, 4)) == "Corpus Christi"
    assert NW.holiday_name(date(2026, 10, 31)) is None


# -- the spec examples ----------------------------------------------------------------------


def test_good_friday_confirmation_nl() -> None:
    # Day 0 is 3 Apr whatever it is; Easter Monday 6 Apr is skipped.
    assert NL.due_date(ams(2026, 4, 3, 16, 0)) == date(2026, 4, 13)
    assert NL.due(ams(2026, 4, 3, 16, 0)) == ams(2026, 4, 13, 23, 59, 59, 999999)


def test_kings_day_confirmation_nl() -> None:
    # 28, 29, 30 Apr, 1 May (not a Dutch holiday), 4 May; 5 May 2026 is an ordinary day.
    assert NL.due_date(ams(2026, 4, 27, 11, 0)) == date(2026, 5, 4)


def test_kings_day_confirmation_de_nw() -> None:
    # 28, 29, 30 Apr, 1 May is Labour Day, 4 May, 5 May.
    confirmed = datetime(2026, 4, 27, 11, 0, tzinfo=BER)
    assert NW.due_date(confirmed) == date(2026, 5, 5)
    assert NW.due(confirmed) == utc(2026, 5, 5, 21, 59, 59, 999999)


def test_saturday_confirmation() -> None:
    assert NL.due_date(ams(2026, 3, 7, 10, 0)) == date(2026, 3, 13)


def test_utc_evening_is_next_local_day() -> None:
    # Fri 6 Mar 23:30 UTC is Sat 7 Mar 00:30 in Amsterdam: day 0 is the Saturday.
    confirmed = utc(2026, 3, 6, 23, 30)
    assert NL.local_date(confirmed) == date(2026, 3, 7)
    assert NL.due_date(confirmed) == date(2026, 3, 13)
    # One hour earlier it is still Friday locally; that gives the same deadline only because
    # nothing between Friday and Saturday counts. On a Thursday night the hour matters:
    assert NL.local_date(utc(2026, 3, 6, 22, 30)) == date(2026, 3, 6)
    assert NL.due_date(utc(2026, 3, 5, 22, 30)) == date(2026, 3, 12)
    assert NL.due_date(utc(2026, 3, 5, 23, 30)) == date(2026, 3, 13)


def test_due_is_aware_utc() -> None:
    result = NL.due(ams(2026, 3, 7, 10, 0))
    assert result.tzinfo is UTC
    assert result == utc(2026, 3, 13, 22, 59, 59, 999999)
    # Breached from local midnight onwards.
    assert ams(2026, 3, 14, 0, 0) > result > ams(2026, 3, 13, 23, 59, 59)


# -- daylight saving time -------------------------------------------------------------------


def test_confirmation_before_spring_switch() -> None:
    # Fri 27 Mar 2026 (CET); clocks go forward on Sun 29 Mar. 30, 31 Mar, 1, 2 Apr, then Good
    # Friday and Easter Monday are skipped: Tue 7 Apr, in CEST (UTC+2).
    assert NL.due(ams(2026, 3, 27, 17, 0)) == utc(2026, 4, 7, 21, 59, 59, 999999)


def test_confirmation_in_the_night_of_the_spring_switch() -> None:
    # Sat 28 Mar 23:30 UTC is Sun 29 Mar 00:30 CET, half an hour before the switch.
    confirmed = utc(2026, 3, 28, 23, 30)
    assert NL.local_date(confirmed) == date(2026, 3, 29)
    assert NL.due_date(confirmed) == date(2026, 4, 7)
    # The switch day itself ends at 24:00 CEST.
    assert NL.end_of_day(date(2026, 3, 29)) == utc(2026, 3, 29, 21, 59, 59, 999999)
    assert NL.end_of_day(date(2026, 3, 28)) == utc(2026, 3, 28, 22, 59, 59, 999999)


def test_autumn_switch() -> None:
    # Clocks go back on Sun 25 Oct 2026.
    assert NL.due(ams(2026, 10, 16, 12, 0)) == utc(2026, 10, 23, 21, 59, 59, 999999)
    assert NL.due(ams(2026, 10, 23, 12, 0)) == utc(2026, 10, 30, 22, 59, 59, 999999)
    assert NL.end_of_day(date(2026, 10, 25)) == utc(2026, 10, 25, 22, 59, 59, 999999)
    # 02:30 happens twice that night; both are on the local Sunday.
    first = datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=AMS)
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMS)
    assert first.astimezone(UTC) + timedelta(hours=1) == second.astimezone(UTC)
    assert NL.due_date(first) == NL.due_date(second) == date(2026, 10, 30)


def test_next_working_morning_across_spring_switch() -> None:
    # Monday 30 Mar 09:00 is in CEST, so 07:00 UTC, not 08:00.
    assert NL.next_working_morning(ams(2026, 3, 27, 10, 0)) == utc(2026, 3, 30, 7, 0)


# -- year boundary --------------------------------------------------------------------------


def test_christmas_and_new_year() -> None:
    # 25 Dec (Fri) and 1 Jan are holidays, 26 Dec is a Saturday anyway:
    # 28, 29, 30, 31 Dec, 4 Jan.
    assert NL.due_date(ams(2026, 12, 24, 15, 0)) == date(2027, 1, 4)
    assert NL.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 5
    assert NL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


# -- working-day helpers --------------------------------------------------------------------


def test_add_working_days_zero_and_negative() -> None:
    assert NL.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)
    with pytest.raises(ValueError, match="n must be >= 0"):
        NL.add_working_days(date(2026, 3, 7), -1)


def test_working_days_between_signs() -> None:
    assert NL.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1
    assert NL.working_days_between(date(2026, 3, 9), date(2026, 3, 6)) == -1
    assert NL.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert NL.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 0


def test_working_day_number() -> None:
    confirmed = ams(2026, 3, 6, 14, 0)  # Friday = day 0
    assert NL.working_day_number(confirmed, date(2026, 3, 5)) == 0
    assert NL.working_day_number(confirmed, date(2026, 3, 6)) == 0
    assert NL.working_day_number(confirmed, date(2026, 3, 7)) == 0
    assert NL.working_day_number(confirmed, date(2026, 3, 8)) == 0
    assert NL.working_day_number(confirmed, date(2026, 3, 9)) == 1
    assert NL.working_day_number(confirmed, date(2026, 3, 11)) == 3
    assert NL.working_day_number(confirmed, date(2026, 3, 13)) == 5
    assert NL.working_day_number(confirmed, date(2026, 3, 14)) == 5


def test_next_working_morning() -> None:
    # Before 09:00 on a working day: the same morning.
    assert NL.next_working_morning(ams(2026, 3, 9, 8, 59)) == ams(2026, 3, 9, 9, 0)
    # Exactly 09:00 is not strictly after, so the next working day.
    assert NL.next_working_morning(ams(2026, 3, 9, 9, 0)) == ams(2026, 3, 10, 9, 0)
    # Over Easter: Good Friday and Easter Monday are skipped.
    assert NL.next_working_morning(ams(2026, 4, 2, 12, 0)) == ams(2026, 4, 7, 9, 0)
    assert NL.next_working_morning(ams(2026, 4, 2, 12, 0)).tzinfo is UTC
    late = WorkCalendar(workday_start=time(10, 30))
    assert late.next_working_morning(utc(2026, 3, 9, 9, 0)) == ams(2026, 3, 9, 10, 30)


def test_holiday_name_for_closing_and_ordinary_days() -> None:
    cal = WorkCalendar(extra_closed=frozenset({date(2026, 5, 15)}))
    assert cal.holiday_name(date(2026, 5, 15)) == "Organisation closing day"
    assert cal.holiday_name(date(2026, 5, 16)) is None  # an ordinary Saturday


# -- configured closing and opening days ----------------------------------------------------


def test_extra_closed_bridge_day() -> None:
    # Ascension Thursday 14 May 2026 plus a closed Friday 15 May.
    confirmed = ams(2026, 5, 12, 10, 0)
    # 13, (14 Ascension), 15, 18, 19, 20 May.
    assert NL.due_date(confirmed) == date(2026, 5, 20)
    cal = WorkCalendar(extra_closed=frozenset({date(2026, 5, 15)}))
    assert not cal.is_working_day(date(2026, 5, 15))
    assert cal.due_date(confirmed) == date(2026, 5, 21)


def test_extra_open_holiday_and_weekend() -> None:
    cal = WorkCalendar(extra_open=frozenset({date(2026, 4, 6), date(2026, 4, 11)}))
    assert cal.is_working_day(date(2026, 4, 6))  # Easter Monday, open anyway
    assert cal.is_working_day(date(2026, 4, 11))  # a Saturday, open anyway
    assert cal.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    # 6, 7, 8, 9, 10, 11 Apr: the 5th is Fri 10 Apr instead of Mon 13 Apr.
    assert cal.due_date(ams(2026, 4, 3, 16, 0)) == date(2026, 4, 10)
    assert cal.due_date(ams(2026, 4, 3, 16, 0), days=6) == date(2026, 4, 11)


def test_plain_sets_are_accepted() -> None:
    cal = WorkCalendar(extra_closed={date(2026, 5, 15)})  # type: ignore[arg-type]
    assert isinstance(cal.extra_closed, frozenset)
    assert hash(cal) == hash(WorkCalendar(extra_closed=frozenset({date(2026, 5, 15)})))


# -- pausing --------------------------------------------------------------------------------


def test_pause_extension() -> None:
    due = NL.due_date(ams(2026, 3, 6, 14, 0))
    assert due == date(2026, 3, 13)
    # Paused Tue 10 Mar, resumed Thu 12 Mar: Wed and Thu are lost.
    lost = NL.paused_working_days(ams(2026, 3, 10, 11, 0), ams(2026, 3, 12, 15, 0))
    assert lost == 2
    assert NL.extend(due, lost) == date(2026, 3, 17)
    # A pause over a weekend only costs the working days in it.
    assert NL.paused_working_days(ams(2026, 3, 13, 16, 0), ams(2026, 3, 16, 9, 0)) == 1
    assert NL.paused_working_days(ams(2026, 3, 10, 9, 0), ams(2026, 3, 10, 17, 0)) == 0
    assert NL.extend(due, 0) == due
    # Extending across Easter skips Good Friday and Easter Monday.
    assert NL.extend(date(2026, 4, 1), 3) == date(2026, 4, 8)


def test_pause_invalid() -> None:
    with pytest.raises(ValueError, match="paused_working_days"):
        NL.extend(date(2026, 3, 13), -1)
    with pytest.raises(ValueError, match="before"):
        NL.paused_working_days(ams(2026, 3, 12, 9, 0), ams(2026, 3, 10, 9, 0))


# -- identity -------------------------------------------------------------------------------


def test_identity() -> None:
    assert NL.identity == f"v1|NL|-|Europe/Amsterdam|holidays-{HOLIDAYS_VERSION}|closed=0|open=0"
    assert NW.identity.startswith("v1|DE|NW|Europe/Berlin|")
    closed = WorkCalendar(extra_closed=frozenset({date(2026, 5, 15)}))
    assert closed.identity != NL.identity
    assert "closed=1:" in closed.identity
    # Deterministic, and independent of set order and of reminder hours.
    again = WorkCalendar(extra_closed=frozenset([date(2026, 5, 15)]), workday_start=time(8, 0))
    assert again.identity == closed.identity
    assert WorkCalendar(extra_open=frozenset({date(2026, 5, 15)})).identity != closed.identity


# -- the statutory GDPR Art. 12(3) date ------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2028, 3, 29)),
        (date(2024, 2, 29), date(2024, 3, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 12, 1), date(2027, 1, 1)),
        (date(2026, 11, 30), date(2026, 12, 30)),
        # Never moved off weekends or holidays: 25 Dec 2026 is Christmas.
        (date(2026, 11, 25), date(2026, 12, 25)),
    ],
)
def test_statutory_deadline(requested: date, expected: date) -> None:
    assert statutory_deadline(requested) == expected


# -- invalid input --------------------------------------------------------------------------


def test_naive_datetimes_rejected() -> None:
    naive = datetime(2026, 3, 6, 14, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        NL.local_date(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        NL.due(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        NL.next_working_morning(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        NL.working_day_number(naive, date(2026, 3, 9))


def test_datetime_where_date_expected_rejected() -> None:
    with pytest.raises(TypeError, match="local_date"):
        NL.is_working_day(ams(2026, 3, 6, 14, 0))
    with pytest.raises(TypeError, match="local_date"):
        statutory_deadline(ams(2026, 3, 6, 14, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "BE"}, "unsupported country 'BE'"),
        ({"country": "nl"}, "unsupported country 'nl'"),
        ({"country": "DE"}, "needs a region"),
        ({"country": "DE", "region": "XX"}, "unknown region 'XX'.*NW"),
        ({"country": "DE", "region": "Bayern"}, "unknown region 'Bayern'"),
        ({"country": "NL", "region": "NH"}, "has no regions"),
        ({"timezone": "Europe/Amsterdamm"}, "unknown timezone"),
        ({"timezone": ""}, "unknown timezone"),
        ({"workday_start": time(9, 0, tzinfo=UTC)}, "naive local time"),
        (
            {
                "extra_closed": frozenset({date(2026, 1, 2)}),
                "extra_open": frozenset({date(2026, 1, 2)}),
            },
            "both closed and open: 2026-01-02",
        ),
    ],
)
def test_invalid_calendars(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar(**kwargs)  # type: ignore[arg-type]


def test_invalid_days() -> None:
    with pytest.raises(ValueError, match="days must be >= 1"):
        NL.due(ams(2026, 3, 6, 14, 0), days=0)


def test_all_days_closed_does_not_hang() -> None:
    start = date(2026, 1, 1)
    everything = frozenset(start + timedelta(days=i) for i in range(4000))
    cal = WorkCalendar(extra_closed=everything)
    with pytest.raises(ValueError, match="no working day"):
        cal.add_working_days(start, 1)
    with pytest.raises(ValueError, match="no working day"):
        cal.next_working_morning(ams(2026, 1, 1, 12, 0))


# -- property tests against numpy's business-day functions as an independent oracle ----------

FIRST, LAST = date(2024, 1, 1), date(2030, 12, 31)
# n <= 30 working days from the end of 2030 stays within early 2031.
ORACLE_YEARS = range(2023, 2033)
CALENDARS = {
    "NL": NL,
    "DE-NW": NW,
    "DE-BY": BY,
}


def public_holidays(cal: WorkCalendar) -> set[date]:
    # Taken straight from the package, not from WorkCalendar, so the oracle stays independent.
    return set(holidays.country_holidays(cal.country, subdiv=cal.region, years=ORACLE_YEARS))


HOLIDAYS = {key: public_holidays(cal) for key, cal in CALENDARS.items()}

WINDOW = timedelta(days=60)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[WorkCalendar, np.busdaycalendar, date]:
    """A calendar, the same calendar as a numpy busdaycalendar, and a start date."""
    key = draw(st.sampled_from(sorted(CALENDARS)))
    base = CALENDARS[key]
    start = draw(st.dates(FIRST, LAST))
    # Closing and opening days are drawn near the start date, or the 0..30-day walks would
    # hardly ever meet one.
    near = st.dates(start - WINDOW, start + WINDOW)
    closed = draw(st.frozensets(near, max_size=10))
    # numpy's weekmask cannot open a single weekend date, so opening days are drawn from
    # weekday holidays only; weekend openings are covered by test_extra_open_holiday_and_weekend.
    openable = sorted(d for d in HOLIDAYS[key] if d.weekday() < 5 and abs(d - start) <= WINDOW)
    opened: frozenset[date] = frozenset()
    if openable:
        opened = draw(st.frozensets(st.sampled_from(openable), max_size=4)) - closed
    cal = WorkCalendar(
        timezone=base.timezone,
        country=base.country,
        region=base.region,
        extra_closed=closed,
        extra_open=opened,
    )
    off = sorted((HOLIDAYS[key] | closed) - opened)
    busdays = np.busdaycalendar(weekmask="1111100", holidays=np.array(off, dtype="datetime64[D]"))
    return cal, busdays, start


def as_date(value: np.datetime64) -> date:
    result = value.astype("datetime64[D]").item()
    assert isinstance(result, date)
    return result


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.integers(0, 30))
def test_add_working_days_matches_numpy(
    scenario: tuple[WorkCalendar, np.busdaycalendar, date], n: int
) -> None:
    cal, busdays, start = scenario
    # busday_offset first rolls a non-business start to a business day, then counts. Rolling
    # backward to the last business day b <= start is harmless for n >= 1, because no business
    # day lies in (b, start], so "the n-th after b" is "the n-th after start". With
    # roll="forward" a non-business start would be rolled to the next business day f, which
    # then counts as step 0, so the result would be one working day late.
    # For n == 0 the roll would move a non-business start, whereas day 0 stays put.
    if n == 0:
        expected = start
    else:
        expected = as_date(np.busday_offset(start, n, roll="backward", busdaycal=busdays))
    assert cal.add_working_days(start, n) == expected
    assert cal.working_days_between(start, expected) == n


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.integers(-45, 45))
def test_working_days_between_matches_numpy(
    scenario: tuple[WorkCalendar, np.busdaycalendar, date], span: int
) -> None:
    cal, busdays, start = scenario
    end = start + timedelta(days=span)
    # busday_count(a, b) counts business days in [a, b) when a <= b, but for b < a it returns
    # minus the count in (b, a] (numpy 2.x, checked by hand: busday_count("2024-01-09",
    # "2024-01-08") == -1). So (start, end] is busday_count(start + 1, end + 1) going forward,
    # while going backward busday_count(start, end) is already -(count in (end, start]).
    one = timedelta(days=1)
    if end >= start:
        expected = int(np.busday_count(start + one, end + one, busdaycal=busdays))
    else:
        expected = int(np.busday_count(start, end, busdaycal=busdays))
    assert cal.working_days_between(start, end) == expected
    assert cal.working_days_between(end, start) == -expected


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 1), timezones=st.just(UTC)),
    st.integers(1, 10),
)
def test_due_properties(confirmed_at: datetime, days: int) -> None:
    due = NL.due(confirmed_at, days)
    due_day = NL.due_date(confirmed_at, days)
    assert NL.is_working_day(due_day)
    assert NL.local_date(due) == due_day
    assert NL.local_date(due + timedelta(microseconds=1)) == due_day + timedelta(days=1)
    assert NL.working_day_number(confirmed_at, due_day) == days
    morning = NL.next_working_morning(confirmed_at)
    assert morning > confirmed_at
    assert NL.is_working_day(NL.local_date(morning))
    assert morning.astimezone(AMS).time() == NL.workday_start

"""`deskbot sla due` answers "when will it be done?" with the SPEC's own examples."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def due(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "deskbot", "sla", "due", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": "200"},
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["2026-04-03T16:00+02:00"], "Due: end of Mon 13 Apr 2026"),  # Good Friday
        (["2026-04-27T09:00+02:00"], "Due: end of Mon 04 May 2026"),  # King's Day
        (["2026-04-27T09:00+02:00", "--country", "DE", "--region", "NW"], "end of Tue 05 May 2026"),
        (["2026-03-07T10:00+01:00"], "Due: end of Fri 13 Mar 2026"),  # a Saturday
        (["2026-03-05T22:30+00:00"], "Due: end of Thu 12 Mar 2026"),  # 23:30 local: still Thu
        (["2026-03-05T23:30+00:00"], "Due: end of Fri 13 Mar 2026"),  # 00:30 local: Friday
    ],
)
def test_the_specs_examples(args: list[str], expected: str) -> None:
    done = due(*args)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_bad_input_is_explained() -> None:
    naive = due("2026-04-03T16:00")
    assert naive.returncode == 2 and "UTC offset" in naive.stdout
    wrong = due("2026-04-03T16:00+02:00", "--country", "DE")
    assert wrong.returncode == 2 and "region" in wrong.stdout.lower()

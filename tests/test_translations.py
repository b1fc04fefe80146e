"""Every text has its Dutch and German translation: the catalogs are in step with the code.

`deskbot translations check` collects every marked text from the code and templates, as
`deskbot translations update` does, and fails on any that is missing, untranslated, fuzzy or
stale in a catalog, or whose `{placeholders}` differ from the English.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from deskbot import i18n, translations


def test_every_text_is_translated() -> None:
    problems = translations.check()
    assert not problems, "\n".join(str(p) for p in problems[:40])
    # Nothing vacuous: hundreds of texts were checked, and the catalogs are really used.
    assert len(translations.extract()) > 300
    with i18n.speaking("nl"):
        assert i18n._("Please write something.") != "Please write something."


def test_a_text_without_translation_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the check sees when someone adds a text and forgets one language."""
    copy = tmp_path / "nl" / "LC_MESSAGES" / "deskbot.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(Path(str(i18n.catalog_path("nl"))), copy)
    with copy.open("rb") as po:
        catalog = read_po(po, locale="nl")
    catalog.delete("Please write something.")
    catalog["Please give a short reason."].string = ""
    catalog["Only service-desk agents can do that."].string = "Alleen {wie} mag dat."
    with copy.open("wb") as po:
        write_po(po, catalog)

    real = i18n.catalog_path
    monkeypatch.setattr(
        i18n, "catalog_path", lambda language: copy if language == "nl" else real(language)
    )
    found = {(p.text, p.what) for p in translations.check(["nl"])}
    assert found == {
        ("Please write something.", "missing"),
        ("Please give a short reason.", "untranslated"),
        ("Only service-desk agents can do that.", "placeholders differ"),
    }


def test_the_command_line_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deskbot", "translations", "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Every text has its Dutch and German translation" in done.stderr

"""An ordinary (non-editable) install carries its templates, migrations, manifest schema and
the Dutch and German catalogs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

USE_THE_WHEEL = """
import deskbot, sys
from pathlib import Path
assert Path(deskbot.__file__).is_relative_to(sys.argv[1]), deskbot.__file__
from deskbot.db import Database
from deskbot.flows import bug_report
from deskbot.manifest import schema
from deskbot.settings import Settings
from deskbot.slack import views
from deskbot.templating import templates_dir
assert Path(str(templates_dir())).is_relative_to(sys.argv[1])
flow = bug_report.build(Settings().platforms)
print(len(views.modal_page(flow, "d", {}, 0)["blocks"]), len(schema()["properties"]))
Database("sqlite://").upgrade()
from deskbot import i18n
assert Path(str(i18n.catalog_path("de"))).is_relative_to(sys.argv[1])
with i18n.speaking("de"):
    assert bug_report.build(Settings().platforms).title == "Fehler melden"
"""


def test_the_wheel_works_on_its_own(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("deskbot-*.whl"))
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    assert (unpacked / "deskbot/templates/slack/modal_page.json.j2").is_file()
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    done = subprocess.run(
        [sys.executable, "-c", USE_THE_WHEEL, str(unpacked)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr

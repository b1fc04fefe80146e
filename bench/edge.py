"""Issue 10's measurements of the Slack edge: fuzzed requests, acks with a cold cache and 429s,
and how soon a report's receipt and triage card arrive after a Slack outage.

deskbot runs on waitress on 127.0.0.1 against the project's Slack stand-in, which runs in this
process so the benchmark can make it fail; the project's test driver signs and sends the
requests. Every loop is bounded in count and time, and a fixed seed makes two runs (before and
after a change) send the same mutations. The sections live next to this file: edge_fuzz.py,
edge_acks.py and edge_outage.py, with edge_seeds.py, edge_mutations.py and edge_support.py.

    python bench/edge.py [--quick] [--only fuzz,acks,outage] [--seed 10] [--database-url URL]

To measure another checkout of deskbot with this script and this checkout's stand-in:
    PYTHONPATH=/path/to/checkout/src python bench/edge.py
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # tests.support, and the sections beside this

from edge_acks import acks
from edge_fuzz import fuzz
from edge_outage import outage
from edge_support import TALLY, log_thread_crash

import deskbot

SECTIONS = {"fuzz": fuzz, "acks": acks, "outage": outage}


def describe_source() -> str:
    source = Path(deskbot.__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "?"
    return f"deskbot from {source} ({commit or 'not a git checkout'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests, short waits")
    parser.add_argument("--only", default="fuzz,acks,outage", help="comma-separated sections")
    parser.add_argument("--seed", type=int, default=10, help="the fuzzer's random seed")
    parser.add_argument("--failures", type=int, default=2, help="429s before Slack answers")
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default: SQLite files")
    parser.add_argument("--max-minutes", type=float, default=30, help="stop, whatever happens")
    args = parser.parse_args()

    def give_up() -> None:
        print(f"\nstopped: the run took longer than {args.max_minutes} minutes", flush=True)
        os._exit(3)

    watchdog = threading.Timer(args.max_minutes * 60, give_up)
    watchdog.daemon = True
    watchdog.start()
    logging.basicConfig(level=logging.INFO, handlers=[TALLY], force=True)
    threading.excepthook = log_thread_crash
    kind = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    print(f"bench/edge.py {'--quick ' if args.quick else ''}on {kind}; {describe_source()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            try:
                lines = SECTIONS[name.strip()](args, Path(tmp))
            except Exception:
                lines = [f"== {name}: the benchmark itself failed", traceback.format_exc()]
            print("\n" + "\n".join(lines), flush=True)
    watchdog.cancel()


if __name__ == "__main__":
    main()

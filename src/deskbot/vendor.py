"""The vendor's copy of a bug report, as plain text and as Markdown, with personal data redacted."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC

from deskbot import privacy
from deskbot.flows import presenting
from deskbot.flows.engine import Flow
from deskbot.flows.presenting import Line
from deskbot.models import BugReport
from deskbot.templating import render_text

# What was tried before reporting, shown together after the long texts.
CHECKS = ("excluded", "reproduced")

# CommonMark lets any ASCII punctuation be escaped with a backslash. Escaping all of it leaves
# nothing in user text that a renderer could read as emphasis, a link, HTML or a table cell.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BACKTICKS = re.compile(r"`+")
_LINE_BREAK = re.compile(r"\r\n?")


@dataclass(frozen=True)
class VendorReport:
    reference: str
    organisation: str
    text: str
    markdown: str

    @property
    def filename_stem(self) -> str:
        return self.reference


def vendor_report(flow: Flow, report: BugReport, *, organisation: str) -> VendorReport:
    """Every answer on the path taken, redacted; the long texts and the checks as sections."""
    shown = [_tidy(line) for line in presenting.lines(flow, report.answers, privacy.redact)]
    context = {
        "reference": report.reference,
        "organisation": organisation,
        "filed": report.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "details": [line for line in shown if not line.long and line.key not in CHECKS],
        "long_texts": [line for line in shown if line.long],
        "checks": [line for line in shown if line.key in CHECKS],
    }
    return VendorReport(
        reference=report.reference,
        organisation=organisation,
        text=render_text("text/vendor_report.txt.j2", **context),
        markdown=render_text(
            "text/vendor_report.md.j2", escape=_markdown_text, fenced=_markdown_block, **context
        ),
    )


def _tidy(line: Line) -> Line:
    # A short answer stays on its own line, whatever was typed; a long one keeps its lines.
    if line.long:
        return dataclasses.replace(line, value=_LINE_BREAK.sub("\n", line.value))
    return dataclasses.replace(line, value=" ".join(line.value.split()))


def _markdown_text(text: str) -> str:
    """Text that Markdown shows literally, on one line."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def _markdown_block(text: str) -> str:
    """A fenced code block that no line of `text` can close: its fence is the longer."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"

"""Mails the vendor's copy of a bug report: the plain text as the body, the Markdown attached."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from deskbot import clock
from deskbot.i18n import _
from deskbot.settings import Settings
from deskbot.vendor import VendorReport

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The report did not reach the mail server; the message names the reason, never content."""


def send_vendor_report(settings: Settings, report: VendorReport) -> None:
    """Hand `report` to the configured mail server, or raise MailNotSent."""
    smtp = settings.smtp
    host, sender, vendor_address = smtp.host, smtp.sender, smtp.vendor_address
    if not (host and sender and vendor_address):
        raise MailNotSent("Mail is not configured: smtp.host, smtp.sender and smtp.vendor_address")
    message = vendor_message(report, sender=sender, vendor_address=vendor_address)
    stage = "connecting"
    try:
        with smtplib.SMTP(host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                stage = "starting TLS"
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                stage = "logging in"
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.username, password)
            stage = "sending"
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as problem:
        # Server replies and refused-address lists can quote the message or the addresses,
        # so neither the reply nor the original exception travels with this one.
        raise MailNotSent(
            f"{report.reference} was not mailed: {stage} to {host}:{smtp.port} failed, "
            f"{_reason(problem)}"
        ) from None
    log.info("mailed %s to the vendor", report.reference)


def vendor_message(report: VendorReport, *, sender: str, vendor_address: str) -> EmailMessage:
    """The mail as it is sent: it carries nothing that the report has not redacted."""
    message = EmailMessage()
    # Header values must not break lines; a configured name could, so its whitespace is folded.
    organisation = " ".join(report.organisation.split())
    # Translators: the subject of the mail to the vendor, after "[deskbot] ".
    subject = _(
        "{reference} from {organisation}", reference=report.reference, organisation=organisation
    )
    message["Subject"] = f"[deskbot] {subject}"
    message["From"] = sender
    message["To"] = vendor_address
    message["Date"] = format_datetime(clock.now())
    # Without a domain, make_msgid asks the resolver for this host's name, which can hang.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "deskbot.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(report.text)
    message.add_attachment(
        report.markdown, subtype="markdown", filename=f"{report.filename_stem}.md"
    )
    return message


def _reason(problem: Exception) -> str:
    if isinstance(problem, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({problem.smtp_code})"
    if isinstance(problem, smtplib.SMTPNotSupportedError):
        return "the server does not offer it"
    if isinstance(problem, smtplib.SMTPSenderRefused):
        return f"the server refused the sender ({problem.smtp_code})"
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in problem.recipients.values()})
        return f"the server refused the vendor address ({', '.join(map(str, codes))})"
    if isinstance(problem, smtplib.SMTPResponseException):
        return f"the server answered {problem.smtp_code}"
    if isinstance(problem, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(problem, ssl.SSLError):
        return f"TLS failed ({problem.reason or type(problem).__name__})"
    if isinstance(problem, TimeoutError):
        return "the server did not answer in time"
    if isinstance(problem, OSError):
        return f"could not reach the server ({type(problem).__name__})"
    return type(problem).__name__

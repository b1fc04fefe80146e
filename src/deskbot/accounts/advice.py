"""What an email lookup may show to whom, and the next step from the vendor's guidance.

The texts of an answer are written in the language in force when `answer()` is called: the
reader's, so call it inside `i18n.speaking()` for an answer meant for someone else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from deskbot.accounts.lookup import Found, Lookup
from deskbot.i18n import _
from deskbot.settings import ProfessionalDetails

CLIENT = "client"
PROFESSIONAL = "professional"


@dataclass(frozen=True)
class Shown:
    """One account as this viewer may see it; None means "not for your eyes"."""

    kind: str
    platform: str
    active: bool
    account_id: str | None = None
    display_name: str | None = None
    externally_managed: bool | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    address: str
    shown: list[Shown]
    hints: list[str]
    next_steps: list[str]
    ask_data_officer: bool  # client details withheld: offer to route the question
    last_import: datetime | None
    withheld: bool = False
    summary: str = field(default="")


def answer(
    lookup: Lookup,
    *,
    sees_clients: bool,
    professional_details: Mapping[str, ProfessionalDetails],
) -> Answer:
    """The answer for a viewer: data officers see clients in full, others only that one exists."""
    shown = [_show(found, sees_clients) for found in lookup.matches]
    withheld = not sees_clients and any(f.kind == CLIENT for f in lookup.matches)
    steps = [_next_step(found, sees_clients, professional_details) for found in lookup.matches]
    if not lookup.matches:
        steps.append(_nothing_found(lookup.last_import))
    return Answer(
        address=lookup.address,
        shown=shown,
        hints=[_hint(found, sees_clients) for found in lookup.near_misses],
        next_steps=list(dict.fromkeys(steps)),  # once each, in order
        ask_data_officer=withheld,
        last_import=lookup.last_import,
        withheld=withheld,
        summary=_summary(lookup.matches),
    )


def _show(found: Found, sees_clients: bool) -> Shown:
    if found.kind == CLIENT and not sees_clients:
        return Shown(kind=CLIENT, platform=found.platform, active=found.active)
    return Shown(
        kind=found.kind,
        platform=found.platform,
        active=found.active,
        account_id=found.account_id,
        display_name=found.display_name,
        externally_managed=found.externally_managed,
        groups=tuple(found.groups),
    )


def _summary(matches: list[Found]) -> str:
    if not matches:
        return _("This address is not in the account store.")
    kinds = sorted({m.kind for m in matches})
    if kinds == [CLIENT, PROFESSIONAL]:
        return _("This address is used by a client account and a professional account.")
    if kinds == [CLIENT]:
        return _("This address is used by a client account.")
    return _("This address is used by a professional account.")


def _next_step(
    found: Found, sees_clients: bool, professional_details: Mapping[str, ProfessionalDetails]
) -> str:
    if found.kind == CLIENT:
        if not sees_clients:
            return _(
                "A client's address cannot be used for another account: ask for another "
                "address. Only the data officer can see where the client account is; ask "
                "them with the button below."
            )
        if not found.active:
            return _(
                "The client account is inactive. The platform secretary can activate it again "
                "or assign it to another therapist; a new account needs another address."
            )
        return _("A client's address cannot be used for another account: ask for another address.")
    if not found.active:
        # Translators: 'active and inactive accounts' is the name of a filter in the
        # platform: write it as the platform shows it in your language.
        return _(
            "The professional account is inactive: activate it again instead of creating a "
            "new one (search with the filter 'active and inactive accounts')."
        )
    if found.externally_managed:
        setting = professional_details.get(found.platform, "protect_external")
        if setting == "always_manual":
            # Translators: EHR is the electronic health record system.
            return _(
                "The account is managed by an external system (e.g. the EHR). The platform "
                "allows manual changes, but change the address in the external system to "
                "keep both in step."
            )
        return _(
            "The account is managed by an external system (e.g. the EHR): change the address "
            "there; the platform will not accept a manual change."
        )
    return _(
        "The address belongs to this active professional account. Use that account, or "
        "change its address first if it belongs to someone else."
    )


def _nothing_found(last_import: datetime | None) -> str:
    if last_import is None:
        # Translators: `deskbot accounts import` is a command: keep it as it is.
        return _(
            "The account store is empty: import the platform's exports first "
            "(`deskbot accounts import`). Until then, search the platform itself."
        )
    # Translators: {time} is e.g. 2026-11-20 07:30 (in UTC).
    return _(
        "Nothing found. The store was last imported at {time} UTC: if the account was created "
        "since, search the platform for active and inactive accounts, professionals and "
        "clients.",
        time=f"{last_import:%Y-%m-%d %H:%M}",
    )


def _hint(found: Found, sees_clients: bool) -> str:
    if found.kind == CLIENT and not sees_clients:
        return _("A client account has a very similar address (another +tag, dots or case).")
    if found.kind == CLIENT:
        return _("A client account has a very similar address: {email}", email=found.email)
    return _("A professional account has a very similar address: {email}", email=found.email)

"""Who holds which role, from configuration: Slack user IDs and user groups, resolved and cached.

A group whose members Slack could not tell is unknown, not empty: a role that depends on it is
neither granted nor denied, and the caller hears RolesUnknown (a refusal for the user, a retry
later for a reminder or an announcement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from deskbot.cache import Refreshing
from deskbot.i18n import _
from deskbot.settings import Roles


class Role(StrEnum):
    APPLICATION_MANAGER = "application_managers"
    AGENT = "agents"
    DATA_OFFICER = "data_officers"
    THERAPIST = "therapists"
    LEAD = "leads"


# Who may start which flow; checked on the server for every action.
MAY_REPORT_BUGS = frozenset({Role.APPLICATION_MANAGER, Role.AGENT})
MAY_CHECK_EMAIL = frozenset({Role.APPLICATION_MANAGER, Role.AGENT, Role.DATA_OFFICER})
MAY_REQUEST_DELETION = frozenset({Role.APPLICATION_MANAGER, Role.THERAPIST})
SEES_DELETIONS = frozenset({Role.APPLICATION_MANAGER, Role.AGENT, Role.LEAD})
SEES_CLIENT_DATA = frozenset({Role.DATA_OFFICER})


class Refused(Exception):
    """The user may not do this now; the message says why, in words for them."""


class RolesUnknown(Exception):
    """Slack could not tell who is in a user group that decides a role, so nothing was done.

    The message is a whole sentence for the user, in the language in force where it was raised.
    `known` holds the members found so far (members() only): those may be served now, the
    others later.
    """

    def __init__(self, message: str | None = None, *, known: Iterable[str] = ()) -> None:
        super().__init__(
            message
            or _(
                "I could not check your roles with Slack just now, so I did nothing. "
                "Please try again in a minute."
            )
        )
        self.known = tuple(known)


@dataclass(frozen=True)
class Actor:
    """The user who clicked, with the roles they hold at that moment."""

    user_id: str
    roles: frozenset[Role]

    def holds(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class RoleDirectory:
    """Answers "which roles does this Slack user have?"; group members are cached for a while.

    `group_members` asks Slack patiently (timeouts and retries): the ticker and the work after
    an ack use it. `quick_members` is one short try, for a first lookup before an ack; when it
    fails the request is refused with RolesUnknown and the patient lookup goes on in the
    background, so the next request finds the group known.
    """

    def __init__(
        self,
        roles: Roles,
        group_members: Callable[[str], list[str]] | None = None,
        *,
        quick_members: Callable[[str], list[str]] | None = None,
        ttl: float = 300.0,
        everyone: frozenset[Role] = frozenset(),
    ) -> None:
        self._roles = roles
        self._everyone = everyone  # the local console: one person holding every role
        self._groups: Refreshing[str, frozenset[str]] | None = None
        if group_members is not None:
            patient = group_members
            quick = quick_members or group_members
            self._groups = Refreshing(
                lambda group: frozenset(patient(group)),
                quick=lambda group: frozenset(quick(group)),
                ttl=ttl,
                name="deskbot-roles",
                retry_after=0,  # no role without asking: every request asks again
            )

    def roles_of(self, user_id: str) -> frozenset[Role]:
        """Every role the user holds; RolesUnknown when one of them cannot be decided."""
        held = set(self._everyone)
        for role in Role:
            if role not in held and self._holds(user_id, role):
                held.add(role)
        return frozenset(held)

    def has_any(self, user_id: str, allowed: frozenset[Role]) -> bool:
        """Whether the user holds one of these roles. Held directly (by user ID) needs no
        lookup; RolesUnknown when only an unknown group could decide it."""
        if self._everyone & allowed or any(user_id in self._listed(r) for r in allowed):
            return True
        unknown: RolesUnknown | None = None
        for role in sorted(allowed):
            try:
                if self._holds(user_id, role):
                    return True
            except RolesUnknown as problem:
                unknown = problem
        if unknown is not None:
            raise unknown
        return False

    def members(self, role: Role) -> list[str]:
        """The Slack user IDs holding a role, user groups expanded. RolesUnknown when a group
        could not be looked up; its `known` lists the members found all the same."""
        found: list[str] = []
        missing = False
        for member in self._listed(role):
            if not member.startswith("S"):
                expanded: frozenset[str] | None = frozenset({member})
            else:
                expanded = self._members_of(member, quick=False)
            if expanded is None:
                missing = True
                continue
            found += sorted(expanded - set(found))
        if missing:
            raise RolesUnknown(
                _(
                    "I could not ask Slack just now who holds this role, so I did nothing. "
                    "Please try again in a minute."
                ),
                known=found,
            )
        return found

    def _listed(self, role: Role) -> list[str]:
        return list(getattr(self._roles, role.value))

    def _holds(self, user_id: str, role: Role) -> bool:
        listed = self._listed(role)
        if user_id in listed:
            return True
        unknown = False
        for group in (m for m in listed if m.startswith("S")):
            members = self._members_of(group, quick=True)
            if members is None:
                unknown = True
            elif user_id in members:
                return True
        if unknown:
            raise RolesUnknown()
        return False

    def _members_of(self, group_id: str, *, quick: bool) -> frozenset[str] | None:
        """A group's members; None when Slack could not tell (yet)."""
        if self._groups is None:
            return frozenset()  # no Slack to ask (the console): groups have no members
        return self._groups.get_quickly(group_id) if quick else self._groups.get(group_id)

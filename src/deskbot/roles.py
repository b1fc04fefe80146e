"""Who holds which role, from configuration: Slack user IDs and user groups, resolved and cached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from deskbot.cache import Refreshing
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


@dataclass(frozen=True)
class Actor:
    """The user who clicked, with the roles they hold at that moment."""

    user_id: str
    roles: frozenset[Role]

    def holds(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class RoleDirectory:
    """Answers "which roles does this Slack user have?"; group members are cached for a while."""

    def __init__(
        self,
        roles: Roles,
        group_members: Callable[[str], list[str]] | None = None,
        *,
        ttl: float = 300.0,
        everyone: frozenset[Role] = frozenset(),
    ) -> None:
        self._roles = roles
        self._everyone = everyone  # the local console: one person holding every role
        self._groups: Refreshing[str, frozenset[str]] | None = (
            None
            if group_members is None
            else Refreshing(
                lambda group: frozenset(group_members(group)),
                ttl=ttl,
                name="deskbot-roles",
                retry_after=0,  # no role without asking: every request asks again
            )
        )

    def roles_of(self, user_id: str) -> frozenset[Role]:
        held = set(self._everyone)
        for role in Role:
            for member in getattr(self._roles, role.value):
                if member == user_id or (
                    member.startswith("S") and user_id in self._members_of(member)
                ):
                    held.add(role)
                    break
        return frozenset(held)

    def members(self, role: Role) -> list[str]:
        """The Slack user IDs holding a role, user groups expanded."""
        found: list[str] = []
        for member in getattr(self._roles, role.value):
            expanded = self._members_of(member) if member.startswith("S") else {member}
            found += sorted(set(expanded) - set(found))
        return found

    def has_any(self, user_id: str, allowed: frozenset[Role]) -> bool:
        return bool(self.roles_of(user_id) & allowed)

    def _members_of(self, group_id: str) -> frozenset[str]:
        """A group's members; Slack unreachable on the first lookup means no members yet."""
        if self._groups is None:
            return frozenset()
        return self._groups.get(group_id) or frozenset()

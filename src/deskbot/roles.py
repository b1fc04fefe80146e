"""Who holds which role, from configuration: Slack user IDs and user groups, resolved and cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

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
        self._group_members = group_members
        self._ttl = ttl
        self._everyone = everyone  # the local console: one person holding every role
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

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
        """A group's members. Only the very first lookup waits for Slack; after that an expired
        entry is served while a background thread refreshes it, so an ack never waits."""
        if self._group_members is None:
            return frozenset()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(group_id)
            fresh = cached is not None and now - cached[0] < self._ttl
            refresh = cached is not None and not fresh and group_id not in self._refreshing
            if refresh:
                self._refreshing.add(group_id)
        if cached is not None:
            if refresh:
                threading.Thread(
                    target=self._refresh, args=(group_id,), name="deskbot-roles", daemon=True
                ).start()
            return cached[1]
        return self._fetch(group_id) or frozenset()

    def _refresh(self, group_id: str) -> None:
        try:
            self._fetch(group_id)
        finally:
            with self._lock:
                self._refreshing.discard(group_id)

    def _fetch(self, group_id: str) -> frozenset[str] | None:
        assert self._group_members is not None
        try:
            members = frozenset(self._group_members(group_id))
        except Exception:
            # Slack unreachable: keep what we knew rather than lock everyone out or in.
            return None
        with self._lock:
            self._cache[group_id] = (time.monotonic(), members)
        return members

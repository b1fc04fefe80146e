"""A small cache for answers fetched from Slack: only the first lookup of a key waits; after
that an expired entry is served while a background thread fetches it again, so an ack never
waits for Slack twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Refreshing(Generic[K, V]):
    """`get(key)` answers from the cache, or from `fetch` on the first lookup of a key."""

    def __init__(
        self, fetch: Callable[[K], V], *, ttl: float, name: str, retry_after: float = 60.0
    ) -> None:
        self._fetch_one = fetch
        self._ttl = ttl
        self._retry_after = retry_after
        self._name = name
        self._cache: dict[K, tuple[float, V]] = {}
        self._failed: dict[K, float] = {}  # when asking Slack last failed, per key
        self._refreshing: set[K] = set()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value, or None when Slack could not be asked and nothing is known yet.
        After a failed first lookup, Slack is not asked again for `retry_after` seconds, so a
        slow or unreachable Slack delays one request, not every one."""
        now = time.monotonic()
        with self._lock:
            failed = self._failed.get(key)
            if key not in self._cache and failed is not None and now - failed < self._retry_after:
                return None
            cached = self._cache.get(key)
            expired = cached is not None and now - cached[0] >= self._ttl
            refresh = expired and key not in self._refreshing
            if refresh:
                self._refreshing.add(key)
        if cached is not None:
            if refresh:
                threading.Thread(
                    target=self._refresh, args=(key,), name=self._name, daemon=True
                ).start()
            return cached[1]
        return self._fetch(key)

    def _refresh(self, key: K) -> None:
        try:
            self._fetch(key)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _fetch(self, key: K) -> V | None:
        try:
            value = self._fetch_one(key)
        except Exception:
            # Slack unreachable: keep what we knew rather than guess.
            with self._lock:
                self._failed[key] = time.monotonic()
            return None
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
            self._failed.pop(key, None)
        return value

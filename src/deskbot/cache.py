"""A small cache for answers fetched from Slack: only the first lookup of a key waits; after
that an expired entry is served while a background thread fetches it again, so an ack never
waits for Slack twice.

A first lookup made before an ack can go through a quick fetch instead (one short try, no
retries): when it fails the caller hears "not known" at once, and the patient fetch carries
on in the background, so the next request finds the answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Refreshing(Generic[K, V]):
    """`get(key)` answers from the cache, or from `fetch` on the first lookup of a key;
    `get_quickly(key)` from `quick` on the first lookup, falling back to `fetch` in the
    background."""

    def __init__(
        self,
        fetch: Callable[[K], V],
        *,
        ttl: float,
        name: str,
        retry_after: float = 60.0,
        quick: Callable[[K], V] | None = None,
    ) -> None:
        self._fetch_one = fetch
        self._quick_one = quick or fetch
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
        found, known = self._cached(key)
        if known:
            return found
        if self._failed_lately(key):
            return None
        return self._fetch(key, self._fetch_one)[0]

    def get_quickly(self, key: K) -> V | None:
        """Like get, but a first lookup is one quick try. When it fails, or a patient fetch of
        the key is already under way, the answer is None at once and the patient fetch runs
        in the background."""
        found, known = self._cached(key)
        if known:
            return found
        with self._lock:
            busy = key in self._refreshing
        if busy or self._failed_lately(key):
            return None
        value, fetched = self._fetch(key, self._quick_one)
        if not fetched:
            self._refresh_in_background(key)
        return value

    def _cached(self, key: K) -> tuple[V | None, bool]:
        """(value, True) when the key is cached; an expired value is refreshed meanwhile."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            return None, False
        if now - cached[0] >= self._ttl:
            self._refresh_in_background(key)
        return cached[1], True

    def _failed_lately(self, key: K) -> bool:
        with self._lock:
            failed = self._failed.get(key)
        return failed is not None and time.monotonic() - failed < self._retry_after

    def _refresh_in_background(self, key: K) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
        threading.Thread(target=self._refresh, args=(key,), name=self._name, daemon=True).start()

    def _refresh(self, key: K) -> None:
        try:
            self._fetch(key, self._fetch_one)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _fetch(self, key: K, fetch: Callable[[K], V]) -> tuple[V | None, bool]:
        """(the value, True), or (None, False) when Slack could not be asked."""
        try:
            value = fetch(key)
        except Exception:
            # Slack unreachable: keep what we knew rather than guess.
            with self._lock:
                self._failed[key] = time.monotonic()
            return None, False
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
            self._failed.pop(key, None)
        return value, True

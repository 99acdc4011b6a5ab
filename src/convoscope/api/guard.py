"""Login throttling and the bound on concurrent password checks.

A password check is argon2 with 64 MiB of memory and tens of milliseconds of CPU, on purpose;
a flood of logins must not take the server's memory or starve its other endpoints. So:

- at most `CHECKS_AT_ONCE` checks run at a time (all cores but one, so that the other
  endpoints keep a core during a flood); a login that cannot start one
  within `QUEUE_SECONDS` gets 503 with `Retry-After` instead of queueing without end;
- per email, `EMAIL_FAILURES` failed logins within `WINDOW_SECONDS` lock the email for the
  rest of the window (guessing one account's password);
- per client address, `CLIENT_ATTEMPTS` logins within `WINDOW_SECONDS`, failed or not, are the
  limit (spraying many emails, or a flood);
- the counters live in TTL caches of bounded size, so a flood of fresh emails or addresses
  cannot grow memory: when full, the oldest entries go first.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque

from cachetools import TTLCache

WINDOW_SECONDS = 900
EMAIL_FAILURES = 5
CLIENT_ATTEMPTS = 30
CHECKS_AT_ONCE = max(1, (os.cpu_count() or 2) - 1)
QUEUE_SECONDS = 5.0
MAX_TRACKED = 10_000


class _Window:
    """Timestamps of recent hits per key, in a bounded cache."""

    def __init__(self, limit: int):
        self.limit = limit
        self._hits: TTLCache[str, deque[float]] = TTLCache(MAX_TRACKED, WINDOW_SECONDS)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key) or deque(maxlen=self.limit + 1)
        while hits and now - hits[0] >= WINDOW_SECONDS:
            hits.popleft()
        return hits

    def _wait(self, hits: deque[float], now: float, allowed: int) -> int:
        return 0 if len(hits) <= allowed else int(WINDOW_SECONDS - (now - hits[0])) + 1

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (it has used up its limit); 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            return self._wait(self._recent(key, now), now, self.limit - 1)

    def hit(self, key: str) -> int:
        """Count one hit, atomically; the seconds to wait when it is over the limit, else 0."""
        now = time.monotonic()
        with self._lock:
            hits = self._recent(key, now)
            hits.append(now)
            self._hits[key] = hits  # re-inserting renews the entry's time to live
            return self._wait(hits, now, self.limit)

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class LoginGuard:
    def __init__(self) -> None:
        self.emails = _Window(EMAIL_FAILURES)
        self.clients = _Window(CLIENT_ATTEMPTS)
        self._checks = asyncio.Semaphore(CHECKS_AT_ONCE)

    def admit(self, email: str, client: str) -> int:
        """Count a login attempt from `client` for `email`; the seconds to wait when either is
        over its limit, else 0 (the attempt may check the password)."""
        return max(self.clients.hit(client), self.emails.retry_after(email))

    def checked(self, email: str, ok: bool) -> None:
        if ok:
            self.emails.clear(email)
        else:
            self.emails.hit(email)

    async def acquire(self) -> bool:
        """A slot for one password check, or False when none frees up in time."""
        try:
            await asyncio.wait_for(self._checks.acquire(), QUEUE_SECONDS)
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._checks.release()

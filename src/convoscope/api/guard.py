"""Login throttling and the bound on concurrent password checks.

A password check is argon2 with 64 MiB of memory and tens of milliseconds of CPU, on purpose;
a flood of logins must not take the server's memory or starve its other endpoints. So:

- at most `CHECKS_AT_ONCE` checks run at a time (one per core); a login that cannot start one
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
import threading
import time
from collections import deque

from cachetools import TTLCache

WINDOW_SECONDS = 900
EMAIL_FAILURES = 5
CLIENT_ATTEMPTS = 30
CHECKS_AT_ONCE = 2
QUEUE_SECONDS = 5.0
MAX_TRACKED = 10_000


class _Window:
    """Timestamps of recent hits per key, in a bounded cache."""

    def __init__(self, limit: int):
        self.limit = limit
        self._hits: TTLCache[str, deque[float]] = TTLCache(MAX_TRACKED, WINDOW_SECONDS)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return 0
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) < self.limit:
                return 0
            return int(WINDOW_SECONDS - (now - hits[0])) + 1

    def hit(self, key: str) -> None:
        with self._lock:
            hits = self._hits.get(key) or deque(maxlen=self.limit)
            hits.append(time.monotonic())
            self._hits[key] = hits  # re-inserting renews the entry's time to live

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class LoginGuard:
    def __init__(self) -> None:
        self.emails = _Window(EMAIL_FAILURES)
        self.clients = _Window(CLIENT_ATTEMPTS)
        self._checks = asyncio.Semaphore(CHECKS_AT_ONCE)

    def retry_after(self, email: str, client: str) -> int:
        return max(self.emails.retry_after(email), self.clients.retry_after(client))

    def attempted(self, email: str, client: str, ok: bool) -> None:
        self.clients.hit(client)
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

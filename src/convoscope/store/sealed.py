"""Secrets kept sealed: a webhook's signing secret must be read back in clear to check HMAC
signatures, so it cannot be hashed like a password; it is encrypted instead (Fernet:
AES-128-CBC with an HMAC-SHA256 tag, from the `cryptography` package) with a key kept apart
from the database, so that a copy of the database file alone does not give the secrets away.

The key is `CONVOSCOPE_SECRET_KEY` (a Fernet key: `python -c "from cryptography.fernet import
Fernet; print(Fernet.generate_key().decode())"`), else the file `<database>.key` beside the
database, created on first need with mode 0600 (back it up with the database; without it the
secrets must be set again with `convoscope workspace whatsapp|shopify`). An in-memory
database gets a key of its own for its life. Values written by versions that stored them in
clear are read as they are, and sealed when set again.

Verify tokens (Meta's handshake), which only need comparing, are hashed (`digest`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

KEY_ENV = "CONVOSCOPE_SECRET_KEY"
_TOKEN_PREFIX = "gAAAAA"  # every Fernet token: version byte 0x80, then the time
_DIGEST_PREFIX = "sha256:"


class SecretKeyError(RuntimeError):
    """The sealing key is unusable (a malformed CONVOSCOPE_SECRET_KEY, an unreadable file)."""


class Sealer:
    """Seals and unseals the secrets of one database."""

    def __init__(self, database: Path):
        self._database = database
        self._fernet: Fernet | None = None

    def _key(self) -> Fernet:
        if self._fernet is None:
            self._fernet = _fernet_for(self._database)
        return self._fernet

    def seal(self, secret: str) -> str:
        return self._key().encrypt(secret.encode()).decode()

    def unseal(self, stored: str) -> str:
        """The secret in clear; a value stored in clear by an older version as it is."""
        from cryptography.fernet import InvalidToken

        if not stored.startswith(_TOKEN_PREFIX):
            return stored
        try:
            return self._key().decrypt(stored.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"a sealed secret does not open with the key ({KEY_ENV} or "
                f"{self._database}.key): set it again with `convoscope workspace ...`"
            ) from None


def _fernet_for(database: Path) -> Fernet:
    """The database's key as Fernet takes it; `cryptography` is loaded here, on first need
    (5 ms that a report, which opens no secret, does not pay)."""
    from cryptography.fernet import Fernet

    given = os.environ.get(KEY_ENV)
    if given:
        try:
            return Fernet(given.encode())
        except ValueError:
            raise SecretKeyError(
                f"{KEY_ENV} is not a Fernet key (32 url-safe base64 bytes)"
            ) from None
    if str(database) == ":memory:":
        return Fernet(Fernet.generate_key())
    path = database.with_name(database.name + ".key")
    try:
        return Fernet(path.read_bytes().strip())
    except FileNotFoundError:
        pass
    key = Fernet.generate_key()
    try:  # created with its mode, never readable by others even for a moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return Fernet(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return Fernet(key)


def digest(token: str) -> str:
    """What is stored of a token that is only compared."""
    return _DIGEST_PREFIX + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def comparable(sent: str, stored: str) -> tuple[str, str]:
    """The two sides to compare (in constant time) for a token sent and one stored, hashed or
    (written by an older version) in clear."""
    if stored.startswith(_DIGEST_PREFIX):
        return digest(sent), stored
    return sent, stored

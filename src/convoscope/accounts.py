"""Who may do what: users (members of one or more workspaces, a role in each), API keys (one
workspace each) and login sessions (showing one of their user's workspaces at a time).

Secrets are stored only as hashes: passwords with argon2 (slow on purpose), API keys and
session tokens with SHA-256 (they are 256-bit random values, so a fast hash is enough and
lookups stay cheap). A key is shown once, when created. This module knows nothing of HTTP;
the API turns a bearer key or a session cookie into a `Principal` through it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal

from convoscope.store import Store, first_row, only_row

if TYPE_CHECKING:
    from argon2 import PasswordHasher

Role = Literal["admin", "teammate", "ingest"]
ROLES: tuple[Role, ...] = ("admin", "teammate")  # of users; "ingest" is a key scope
KeyScope = Literal["admin", "ingest"]
KEY_SCOPES: tuple[KeyScope, ...] = ("admin", "ingest")
SESSION_LIFETIME = timedelta(hours=12)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_KEY = re.compile(r"^csk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (by email) or an API key, in one workspace."""

    workspace: str
    role: Role
    email: str | None = None
    key_id: str | None = None
    session: str | None = None  # the session token's hash, when authenticated by cookie

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _checked(store: Store, email: str, workspace: str, role: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if store.workspace(workspace) is None:
        raise ValueError(f"no workspace {workspace!r}")
    return email


def create_user(store: Store, email: str, workspace: str, role: str, password: str) -> None:
    """Add a user to an existing workspace; raises ValueError on bad input or a taken email."""
    email = _checked(store, email, workspace, role)
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    if first_row(store.con, "SELECT 1 FROM users WHERE email = ?", [email]):
        raise ValueError(
            f"a user {email!r} exists already (`convoscope user grant` adds a workspace)"
        )
    with store.transaction() as con:
        con.execute(
            "INSERT INTO users (email, workspace, password_hash) VALUES (?, ?, ?)",
            [email, workspace, _hasher().hash(password)],
        )
        con.execute("INSERT INTO memberships VALUES (?, ?, ?)", [email, workspace, role])


def grant(store: Store, email: str, workspace: str, role: str) -> None:
    """Make an existing user a member of another workspace with `role` (or change their role
    there); they switch to it from the page's header."""
    email = _checked(store, email, workspace, role)
    if first_row(store.con, "SELECT 1 FROM users WHERE email = ?", [email]) is None:
        raise ValueError(f"no user {email!r}")
    store.con.execute(
        "INSERT INTO memberships VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role",
        [email, workspace, role],
    )


def list_users(store: Store, workspace: str) -> list[tuple]:
    """(email, role, created_at) of a workspace's members, by email."""
    return store.con.execute(
        "SELECT u.email, m.role, u.created_at FROM memberships m JOIN users u USING (email) "
        "WHERE m.workspace = ? ORDER BY u.email",
        [workspace],
    ).fetchall()


def workspaces_of(store: Store, email: str) -> list[str]:
    """The workspaces a user belongs to, by name."""
    rows = store.con.execute(
        "SELECT workspace FROM memberships WHERE email = ? ORDER BY workspace", [email]
    ).fetchall()
    return [name for (name,) in rows]


def switch_workspace(store: Store, principal: Principal, workspace: str) -> Principal | None:
    """Show another of the user's workspaces in this session; None if they are no member."""
    row = first_row(
        store.con,
        "SELECT role FROM memberships WHERE email = ? AND workspace = ?",
        [principal.email, workspace],
    )
    if row is None or principal.session is None:
        return None
    store.con.execute(
        "UPDATE sessions SET workspace = ? WHERE token_hash = ?", [workspace, principal.session]
    )
    return Principal(
        workspace=workspace, role=row[0], email=principal.email, session=principal.session
    )


def set_password(store: Store, email: str, password: str) -> None:
    """Replace a user's password and end their sessions."""
    email = email.strip().lower()
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    if first_row(store.con, "SELECT 1 FROM users WHERE email = ?", [email]) is None:
        raise ValueError(f"no user {email!r}")
    store.con.execute(
        "UPDATE users SET password_hash = ? WHERE email = ?", [_hasher().hash(password), email]
    )
    store.con.execute("DELETE FROM sessions WHERE email = ?", [email])


def create_key(store: Store, workspace: str, name: str | None = None, scope: str = "admin") -> str:
    """Create an API key for the workspace and return it; only its hash is kept.

    An `admin` key reads and writes everything of its workspace; an `ingest` key only sends
    events (and is the only kind accepted in a webhook URL, where it may end up in logs).
    """
    if store.workspace(workspace) is None:
        raise ValueError(f"no workspace {workspace!r}")
    if scope not in KEY_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(KEY_SCOPES)}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    store.con.execute(
        "INSERT INTO api_keys (key_id, workspace, name, key_hash, scope) VALUES (?, ?, ?, ?, ?)",
        [key_id, workspace, name, _sha256(secret), scope],
    )
    return f"csk_{key_id}_{secret}"


def list_keys(store: Store, workspace: str) -> list[tuple]:
    """(key_id, name, scope, created_at, revoked_at) of a workspace's keys, oldest first."""
    return store.con.execute(
        "SELECT key_id, name, scope, created_at, revoked_at FROM api_keys "
        "WHERE workspace = ? ORDER BY created_at, key_id",
        [workspace],
    ).fetchall()


def revoke_key(store: Store, key_id: str) -> bool:
    """Revoke a key by its id (the 12 hex digits after `csk_`); False if none was active."""
    (count,) = only_row(
        store.con,
        "UPDATE api_keys SET revoked_at = current_timestamp "
        "WHERE key_id = ? AND revoked_at IS NULL",
        [key_id],
    )
    return count > 0


def principal_for_key(store: Store, key: str) -> Principal | None:
    """The workspace a key belongs to, with the key's scope as its role, or None."""
    match = _KEY.match(key)
    if not match:
        return None
    key_id, secret = match.groups()
    row = first_row(
        store.con,
        "SELECT workspace, key_hash, scope FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
        [key_id],
    )
    if row is None or not hmac.compare_digest(row[1], _sha256(secret)):
        return None
    return Principal(workspace=row[0], role=row[2], key_id=key_id)


def check_password(store: Store, email: str, password: str) -> Principal | None:
    """The user if the password matches, else None (same work whether the user exists)."""
    email = email.strip().lower()
    row = first_row(
        store.con,
        "SELECT u.workspace, m.role, u.password_hash FROM users u "
        "JOIN memberships m ON m.email = u.email AND m.workspace = u.workspace "
        "WHERE u.email = ?",
        [email],
    )
    stored = row[2] if row else _dummy_hash()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return Principal(workspace=row[0], role=row[1], email=email)


@cache
def _hasher() -> PasswordHasher:
    """argon2's hasher, loaded on first need: a report or an import never checks a password."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to check unknown emails against, so that they cost what known ones do. Made on
    first use, not at import: an argon2 hash takes 0.1 s that every CLI command would pay."""
    return _hasher().hash(secrets.token_urlsafe(16))


def open_session(store: Store, principal: Principal) -> str:
    """Start a session for a logged-in user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC).replace(tzinfo=None) + SESSION_LIFETIME
    store.con.execute(
        "INSERT INTO sessions (token_hash, email, expires_at, workspace) VALUES (?, ?, ?, ?)",
        [_sha256(token), principal.email, expires, principal.workspace],
    )
    return token


def session_hash(token: str) -> str:
    """What the database keeps of a session token (and what CSRF tokens are derived from)."""
    return _sha256(token)


def principal_for_session(store: Store, token: str) -> Principal | None:
    row = first_row(
        store.con,
        "SELECT m.workspace, m.role, m.email, s.token_hash FROM sessions s "
        "JOIN memberships m ON m.email = s.email AND m.workspace = s.workspace "
        "WHERE s.token_hash = ? AND s.expires_at > ?",
        [_sha256(token), datetime.now(UTC).replace(tzinfo=None)],
    )
    if row is None:
        return None
    return Principal(workspace=row[0], role=row[1], email=row[2], session=row[3])


def close_session(store: Store, principal: Principal) -> None:
    store.con.execute("DELETE FROM sessions WHERE token_hash = ?", [principal.session])
    store.con.execute(
        "DELETE FROM sessions WHERE expires_at <= ?", [datetime.now(UTC).replace(tzinfo=None)]
    )


def server_secret(store: Store) -> bytes:
    """The key that signs cookies and CSRF tokens: made once, kept in the database."""
    store.con.execute(
        "INSERT INTO meta VALUES ('server_secret', ?) ON CONFLICT DO NOTHING",
        [secrets.token_hex(32)],
    )
    return bytes.fromhex(
        only_row(store.con, "SELECT value FROM meta WHERE key = 'server_secret'")[0]
    )

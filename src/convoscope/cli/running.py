"""The CLI beside a running server: DuckDB lets one process open a database file, so while
`serve` or `demo` holds it, the commands a user runs meanwhile (reports, exports, workspaces,
users, keys) ask that server to run their operation (`convoscope.operations`,
`api.operator`); the others (imports, rebuilds) keep saying the file is busy.

The server finds itself to the CLI through a file beside the database, `<database>.server`:
its address and an operator token drawn at each start, readable by the file's owner only
(whoever can read it could read the database file too), removed when the server stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convoscope.cli.common import err, fail, open_local, option_error, say
from convoscope.operations import OPERATIONS, TOKEN_HEADER, OperationError
from convoscope.query import QueryError
from convoscope.store import StoreBusy, default_db_path

TIMEOUT_SECONDS = 600  # a year's report on a large database takes seconds; a hung server not


def control_file(db: Path) -> Path:
    return db.with_name(db.name + ".server")


@dataclass(frozen=True)
class RunningServer:
    """The server holding a database, as its control file describes it."""

    url: str
    token: str
    control: Path

    @classmethod
    def beside(cls, db: Path) -> RunningServer | None:
        path = control_file(db)
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(found["url"]), str(found["token"]), path)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def call(self, operation: str, args: dict[str, Any]) -> Any:
        """The operation's result, or the CLI's error for its refusal."""
        # only when a server holds the file: not in every command's start
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/v1/operator/{operation}",
            data=json.dumps(args).encode(),
            headers={"Content-Type": "application/json", TOKEN_HEADER: self.token},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read())["result"]
        except urllib.error.HTTPError as exc:
            body = _json(exc.read())
            if exc.code == 422 and "param" in body:
                raise option_error(QueryError(body["param"], body["detail"])) from None
            if exc.code == 422 and "code" in body:
                raise fail(str(body["detail"]), int(body["code"])) from None
            raise fail(
                f"the server at {self.url} refused: {body.get('detail', exc.reason)}"
            ) from None
        except OSError as exc:  # refused, reset, timed out
            reason = getattr(exc, "reason", exc)
            raise fail(
                f"the server at {self.url} (from {self.control}) does not answer ({reason}); "
                "if it was stopped, run the command again once it has let the file go"
            ) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def operate(db: Path | None, operation: str, *, create: bool = False, **args: Any) -> Any:
    """Run `operations.<operation>` on the database: here, or in the server that holds it."""
    try:
        store = open_local(db, create=create)
    except StoreBusy as busy:
        server = RunningServer.beside(db if db is not None else default_db_path())
        if server is None:
            raise fail(str(busy)) from None
        say(f"(the server at {server.url} holds the database: asked it)", err)
        return server.call(operation, args)
    with store:
        try:
            return OPERATIONS[operation](store, **args)
        except OperationError as exc:
            raise fail(exc.message, exc.code) from None
        except QueryError as exc:
            raise option_error(exc) from None


@contextlib.contextmanager
def announced(db: Path, host: str, port: int) -> Iterator[str]:
    """A new operator token, written with the server's address beside `db` for the CLI while
    the block serves; the file is removed afterwards."""
    token = secrets.token_urlsafe(32)
    local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    path = control_file(db)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, file)
    os.replace(temporary, path)
    try:
        yield token
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

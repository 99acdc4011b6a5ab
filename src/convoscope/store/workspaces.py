"""Workspaces: the tenants, their settings (time zone, limits, business hours) and the
WhatsApp numbers routed to them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from importlib import resources
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from convoscope.business_hours import BusinessHours
from convoscope.event_fields import LIMITS, FlowType
from convoscope.store.database import Database, first_row
from convoscope.store.sealed import Sealer, digest

DEFAULT_TIMEZONE = "America/Toronto"


@cache
def _iana_zones() -> frozenset[str]:
    """The zone names of the IANA database, as shipped by the `tzdata` package."""
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listing.split())


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA zone name (as `America/Toronto`), else raise ValueError.

    Only names from the IANA database count: not `localtime`, a directory such as `America`,
    or a path, which `ZoneInfo` alone would try to open.
    """
    if name not in _iana_zones():
        shown = name if len(name) <= 64 else name[:64] + "..."
        raise ValueError(f"unknown IANA time zone {shown!r} (e.g. America/Toronto)")
    return name


# A limit in whole seconds: positive, at most a leap year (also what an INTEGER column and
# Spark's int hold).
Seconds = Annotated[StrictInt, Field(gt=0, le=366 * 86400)]
FlowName = Annotated[str, LIMITS["flow"].field()]
MAX_CATALOGUE = 2000  # flows a catalogue may name (a chatbot has tens)


def check_workspace_name(name: str) -> str:
    """A workspace name: 1 to 128 characters, no control character (names are shown in
    pages, terminals, file names)."""
    if not name or len(name) > 128:
        raise ValueError("workspace name must be 1 to 128 characters")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError(f"workspace name {name!r} has a control character")
    return name


ATTRIBUTION_WINDOW_SECONDS = 14 * 86400
MAX_ATTRIBUTION_DAYS = 365


class Settings(BaseModel):
    """A workspace's settings, one model wherever they are read: the database, the API and a
    lake's `workspaces.json`. The time zone is an IANA name; the inactivity limits of SPEC
    section 2 are positive whole seconds, the escalated one not below the chatbot one (the cut
    relies on it); surveys belong to a conversation up to `csat_window_seconds` after it; the
    business hours are `business_hours.BusinessHours`, kept as its plain mapping; the flow
    catalogue (`flow_types`, flow name -> type) re-types the chatbot's flows when read (SPEC
    section 7), so a change applies to history without a re-cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = DEFAULT_TIMEZONE
    inactivity_seconds: Seconds = 600
    escalated_inactivity_seconds: Seconds = 86400
    csat_window_seconds: Seconds = 604800
    # how long after a conversation's last message an order is credited to it (SPEC section 8)
    attribution_window_seconds: Annotated[int, Field(gt=0, le=MAX_ATTRIBUTION_DAYS * 86400)] = (
        ATTRIBUTION_WINDOW_SECONDS
    )
    business_hours: dict[str, list[list[str]]] | None = None
    flow_types: Annotated[dict[FlowName, FlowType], Field(max_length=MAX_CATALOGUE)] = Field(
        default_factory=dict
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("business_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is None:
            return None
        spans = BusinessHours.model_validate(value).model_dump()
        return {day: [list(span) for span in day_spans] for day, day_spans in spans.items()}

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if self.escalated_inactivity_seconds < self.inactivity_seconds:
            raise ValueError("escalated_inactivity_seconds is below inactivity_seconds")
        return self


class Workspace(Settings):
    name: str


class Workspaces(Database):
    """The workspaces of one database file."""

    def workspace(self, name: str) -> Workspace | None:
        """The workspace's settings, read once and kept until this store changes them: every
        request reads them (the zone, the business hours), and this process is the file's
        only writer (DuckDB locks it), so a kept copy is never older than the file."""
        kept = self._kept_workspaces.get(name)
        if kept is not None:
            return kept
        version = self._settings_version
        found = self._read_workspace(name)
        if found is not None and version == self._settings_version:  # no change meanwhile
            self._kept_workspaces[name] = found
        return found

    @cached_property
    def _kept_workspaces(self) -> dict[str, Workspace]:
        return {}

    _settings_version = 0

    def _settings_changed(self, name: str) -> None:
        """Drop the kept copy of a workspace whose row was written (after the commit)."""
        self._settings_version += 1
        self._kept_workspaces.pop(name, None)

    def _read_workspace(self, name: str) -> Workspace | None:
        row = first_row(
            self.con,
            "SELECT name, timezone, inactivity_seconds, escalated_inactivity_seconds, "
            "csat_window_seconds, business_hours, flow_types, "
            f"coalesce(attribution_window_seconds, {ATTRIBUTION_WINDOW_SECONDS}) "
            "FROM workspaces WHERE name = ?",
            [name],
        )
        if row is None:
            return None
        name, timezone, inactivity, escalated, csat_window, hours, flow_types, window = row
        return Workspace(
            name=name,
            timezone=timezone,
            inactivity_seconds=inactivity,
            escalated_inactivity_seconds=escalated,
            csat_window_seconds=csat_window,
            business_hours=json.loads(hours) if hours else None,
            flow_types=json.loads(flow_types) if flow_types else {},
            attribution_window_seconds=window,
        )

    def workspace_names(self) -> list[str]:
        return [
            r[0] for r in self.con.execute("SELECT name FROM workspaces ORDER BY name").fetchall()
        ]

    def ensure_workspace(self, name: str, timezone: str = DEFAULT_TIMEZONE) -> Workspace:
        """Return the workspace, creating it with `timezone` if it does not exist yet."""
        existing = self.workspace(name)
        if existing:
            return existing
        check_workspace_name(name)
        check_timezone(timezone)
        self.con.execute(
            "INSERT INTO workspaces (name, timezone) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [name, timezone],
        )
        # read, not kept: the insert may be part of a transaction that is rolled back (a
        # rejected file creates no workspace)
        self._settings_changed(name)
        return self._read_workspace(name)  # type: ignore[return-value]

    def update_workspace(self, name: str, **changes: Any) -> Workspace:
        """Change some of the settings a workspace admin may change (`timezone`,
        `business_hours`, `flow_types`, `attribution_window_seconds`), validated as `Settings`;
        the others keep their values.
        Serialised with every other write: concurrent updates of one row would otherwise
        fail DuckDB's optimistic concurrency check."""
        current = self.workspace(name)
        if current is None:
            raise ValueError(f"no workspace {name!r}")
        unknown = set(changes) - {
            "timezone",
            "business_hours",
            "flow_types",
            "attribution_window_seconds",
        }
        if unknown:
            raise ValueError(f"not a setting an admin changes: {', '.join(sorted(unknown))}")
        new = Workspace.model_validate({**current.model_dump(), **changes})
        hours = json.dumps(new.business_hours) if new.business_hours is not None else None
        with self.transaction() as con:
            con.execute(
                "UPDATE workspaces SET timezone = ?, business_hours = ?, flow_types = ?, "
                "attribution_window_seconds = ? WHERE name = ?",
                [
                    new.timezone,
                    hours,
                    json.dumps(new.flow_types, ensure_ascii=False),
                    new.attribution_window_seconds,
                    name,
                ],
            )
        self._settings_changed(name)
        return self.workspace(name)  # type: ignore[return-value]

    @cached_property
    def sealer(self) -> Sealer:
        """Seals this database's webhook secrets (`sealed`)."""
        return Sealer(self.path)

    def teammate_names(self, name: str) -> dict[str, str]:
        """The display names known for the workspace's teammates, by teammate id."""
        rows = self.con.execute(
            "SELECT teammate_id, name FROM teammate_names WHERE workspace = ? ORDER BY 1", [name]
        ).fetchall()
        return dict(rows)

    def name_teammates(self, name: str, names: Mapping[str, str | None]) -> None:
        """Set teammates' display names (None forgets one); the others keep theirs."""
        with self.transaction() as con:
            for teammate_id, display in names.items():
                if display is None:
                    con.execute(
                        "DELETE FROM teammate_names WHERE workspace = ? AND teammate_id = ?",
                        [name, teammate_id],
                    )
                else:
                    con.execute(
                        "INSERT INTO teammate_names VALUES (?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET name = excluded.name",
                        [name, teammate_id, display],
                    )

    def set_whatsapp(
        self, name: str, app_secret: str, verify_token: str, phone_number_ids: Sequence[str]
    ) -> None:
        """Meta's app secret (sealed: it is needed in clear to check HMAC signatures), the
        verify token (hashed), and the WhatsApp business phone numbers (`phone_number_id`)
        whose messages are this workspace's. A number belongs to one workspace; setting it
        here moves it."""
        sealed_secret = self.sealer.seal(app_secret)
        with self.transaction() as con:
            con.execute(
                "UPDATE workspaces SET whatsapp_app_secret = ?, whatsapp_verify_token = ? "
                "WHERE name = ?",
                [sealed_secret, digest(verify_token), name],
            )
            con.execute("DELETE FROM whatsapp_numbers WHERE workspace = ?", [name])
            for number in phone_number_ids:
                con.execute("INSERT OR REPLACE INTO whatsapp_numbers VALUES (?, ?)", [number, name])

    def set_shopify(self, name: str, secret: str, shop_domain: str) -> None:
        """The shop's webhook signing secret and its `*.myshopify.com` domain, whose
        notifications belong to this workspace (a domain belongs to one workspace). The
        secret is sealed (`sealed`)."""
        sealed_secret = self.sealer.seal(secret)
        with self.transaction() as con:
            con.execute(
                "UPDATE workspaces SET shopify_secret = ? WHERE name = ?", [sealed_secret, name]
            )
            con.execute("DELETE FROM shopify_shops WHERE workspace = ?", [name])
            con.execute("INSERT OR REPLACE INTO shopify_shops VALUES (?, ?)", [shop_domain, name])

    def shopify_shop(self, shop_domain: str) -> tuple[str, str] | None:
        """The workspace and webhook secret of a shop domain, for routing signed webhooks."""
        row = first_row(
            self.con,
            "SELECT w.name, w.shopify_secret FROM shopify_shops s "
            "JOIN workspaces w ON w.name = s.workspace "
            "WHERE s.shop_domain = ? AND w.shopify_secret IS NOT NULL",
            [shop_domain],
        )
        return (row[0], self.sealer.unseal(row[1])) if row else None

    def whatsapp_numbers(self) -> dict[str, tuple[str, str]]:
        """phone_number_id -> (workspace, app secret), for routing signed notifications."""
        rows = self.con.execute(
            "SELECT n.phone_number_id, w.name, w.whatsapp_app_secret FROM whatsapp_numbers n "
            "JOIN workspaces w ON w.name = n.workspace WHERE w.whatsapp_app_secret IS NOT NULL"
        ).fetchall()
        return {number: (ws, self.sealer.unseal(secret)) for number, ws, secret in rows}

    def whatsapp_verify_tokens(self) -> list[str]:
        """Every configured verify token as stored, hashed (`sealed.comparable` compares one
        sent with them; Meta's handshake names no workspace)."""
        rows = self.con.execute(
            "SELECT whatsapp_verify_token FROM workspaces WHERE whatsapp_verify_token IS NOT NULL"
        ).fetchall()
        return [r[0] for r in rows]

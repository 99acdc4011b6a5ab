"""Customer Support on Twitter (Kaggle "twcs") -> SPEC events, one workspace per brand.

The raw file is read as it is: an optional unnamed leading index column, ids written as floats
(`3.0`), bare carriage returns inside unquoted text, CRLF or LF line ends, and replies to tweets
that are not in the file. The mapping (also in the README):

- a brand is an `author_id` that wrote a tweet with `inbound=False`; its workspace is named by it;
- a customer tweet (`inbound=True`) is a `customer` message of its author, for the brand whose
  tweet it answers, else the brand that answers it (first of `response_tweet_id`), else the first
  `@mention` that is a brand of the file (case-insensitive); else it is skipped;
- a brand tweet is a `teammate` message; `teammate_id` is the signature closing the text
  (`^JK`, `-Becky`, `*DS`, before any trailing links: `JK`, `Becky`, `DS`), else the brand; its
  customer is the author of the tweet it answers when that is a customer, else the first
  numeric `@mention`; else it is skipped;
- channel `twitter`, `event_id` `twcs-<tweet_id>`, `ts` from `Tue Oct 31 22:10:47 +0000 2017`.

The whole file is read first (brands and reply targets can appear anywhere in it); only the
fields the mapping needs are kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

_MENTION = re.compile(r"@(\w+)")
_TRAILING_LINKS = re.compile(r"(\s+https?://\S+)+\s*$")
_SIGNATURE = re.compile(r"(?:^|\s)[\^*-]\s?([A-Za-z][A-Za-z0-9]{0,19})$")


# The header of Kaggle's file, by which a CSV given without `--format twcs` is recognised.
COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)


def is_twcs_header(first_line: bytes) -> bool:
    """Whether a file's first line is twcs's header."""
    text = first_line.decode("utf-8-sig", errors="replace").strip()
    return tuple(next(csv.reader([text]), [])) == COLUMNS


@dataclass
class Tweet:
    tweet_id: str
    author: str
    inbound: bool
    created_at: str
    mentions: list[str]
    signature: str | None
    responses: list[str]
    in_reply_to: str | None


@dataclass
class TwcsResult:
    """Events per brand workspace, and what was skipped, by reason."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, tweet_id: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(tweet_id)


def _tweet_id(value: str) -> str | None:
    """'3.0' -> '3'; '' -> None."""
    value = value.strip()
    if not value:
        return None
    return str(int(float(value))) if re.fullmatch(r"\d+(\.0+)?", value) else value


def signature(text: str) -> str | None:
    """The teammate's signature closing a brand tweet, without its marker."""
    match = _SIGNATURE.search(_TRAILING_LINKS.sub("", text).rstrip())
    return match.group(1) if match else None


def parse_time(value: str) -> str:
    return datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y").isoformat()


def _lines(stream: BinaryIO) -> Iterator[str]:
    """Physical lines ending in LF or CRLF; a bare CR inside a field becomes a space."""
    for raw in io.TextIOWrapper(stream, encoding="utf-8-sig", newline="\n"):
        line = raw[:-1] if raw.endswith("\n") else raw
        line = line.removesuffix("\r").replace("\r", " ")
        yield line + "\n"


def read_tweets(stream: BinaryIO) -> dict[str, Tweet]:
    reader = csv.reader(_lines(stream))
    header = next(reader)
    if header and header[0] == "":
        header[0] = "_index"
    column = {name: i for i, name in enumerate(header)}
    missing = {"tweet_id", "author_id", "inbound", "created_at", "text"} - set(column)
    if missing:
        raise ValueError(f"not a twcs file: missing column(s) {', '.join(sorted(missing))}")
    tweets: dict[str, Tweet] = {}
    for row in reader:
        if len(row) < len(header):
            row += [""] * (len(header) - len(row))

        def get(name: str, row: list[str] = row) -> str:
            return row[column[name]] if name in column else ""

        tweet_id = _tweet_id(get("tweet_id"))
        if tweet_id is None:
            continue
        text = get("text")
        responses = [r for r in (_tweet_id(x) for x in get("response_tweet_id").split(",")) if r]
        tweets[tweet_id] = Tweet(
            tweet_id=tweet_id,
            author=get("author_id").strip(),
            inbound=get("inbound").strip().lower() == "true",
            created_at=get("created_at"),
            mentions=_MENTION.findall(text),
            signature=signature(text),
            responses=responses,
            in_reply_to=_tweet_id(get("in_response_to_tweet_id")),
        )
    return tweets


def map_tweets(tweets: dict[str, Tweet]) -> TwcsResult:
    brands = {t.author for t in tweets.values() if not t.inbound}
    by_lower = {b.lower(): b for b in brands}
    result = TwcsResult()

    def author(tweet_id: str | None) -> str | None:
        target = tweets.get(tweet_id) if tweet_id else None
        return target.author if target else None

    for t in tweets.values():
        try:
            ts = parse_time(t.created_at)
        except ValueError:
            result.skip("unreadable created_at", t.tweet_id)
            continue
        if t.inbound:
            answered = author(t.in_reply_to)
            brand: str | None = answered if answered in brands else None
            brand = brand or next((author(r) for r in t.responses if author(r) in brands), None)
            brand = brand or next(
                (by_lower[m.lower()] for m in t.mentions if m.lower() in by_lower), None
            )
            if brand is None:
                result.skip("customer tweet with no brand", t.tweet_id)
                continue
            workspace, customer, extra = brand, t.author, {"sender": "customer"}
        else:
            answered = author(t.in_reply_to)
            answerer = answered if answered and answered not in brands else None
            found = answerer or next((m for m in t.mentions if m.isdigit()), None)
            if found is None:
                result.skip("brand tweet with no customer", t.tweet_id)
                continue
            workspace, customer = t.author, found
            extra = {"sender": "teammate", "teammate_id": t.signature or t.author}
        result.events.setdefault(workspace, []).append(
            {
                "event_id": f"twcs-{t.tweet_id}",
                "ts": ts,
                "channel": "twitter",
                "customer_id": customer,
                "type": "message",
                **extra,
            }
        )
    return result


def read(stream: BinaryIO) -> TwcsResult:
    """Map a twcs CSV file (opened in binary mode)."""
    return map_tweets(read_tweets(stream))

"""UUIDv7 ids: time-ordered, so cursors and "newer than" need no extra column."""

from __future__ import annotations

import functools
import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def id_floor_for_ms(ms: int) -> uuid.UUID:
    """Smallest UUIDv7 that can carry the given unix-millisecond timestamp."""
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0b10 << 62))


def id_timestamp_ms(value: uuid.UUID) -> int:
    return value.int >> 80


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


# Ids travel as text (Redis members, cached JSON) and as UUIDs (SQL, sets of follows); a
# feed page converts a few hundred of them, and ``uuid.UUID`` parsing and formatting are
# slow enough to show. Both directions are memoised: the same ids recur across requests.
@functools.lru_cache(maxsize=262_144)
def uuid_of(text: str) -> uuid.UUID:
    return uuid.UUID(text)


@functools.lru_cache(maxsize=262_144)
def text_of(value: uuid.UUID) -> str:
    return str(value)

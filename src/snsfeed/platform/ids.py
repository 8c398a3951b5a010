"""UUIDv7 ids: time-ordered, so cursors and "newer than" need no extra column."""

from __future__ import annotations

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

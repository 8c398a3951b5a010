"""Opaque keyset cursors and the shared page-size limits."""

from __future__ import annotations

import base64
import binascii
import uuid

from snsfeed.platform.errors import BadRequest

MAX_PAGE_SIZE = 50


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 16:
            raise ValueError("wrong length")
        return uuid.UUID(bytes=raw)
    except (ValueError, binascii.Error) as exc:
        raise BadRequest("Invalid cursor", code="invalid_cursor") from exc

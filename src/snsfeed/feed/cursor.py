"""Feed cursors: the position (score, member) of the last item a client has seen."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from snsfeed.platform.errors import BadRequest
from snsfeed.platform.ids import id_timestamp_ms


@dataclass(frozen=True, order=True)
class FeedCursor:
    """Items sort by (score, member) descending; a cursor excludes itself and all above."""

    score: int
    member: str

    def encode(self) -> str:
        raw = f"{self.score}:{self.member}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, value: str | None) -> FeedCursor | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            if len(raw) == 16:  # a bare post id, as other list endpoints use
                post_id = uuid.UUID(bytes=raw)
                return cls(id_timestamp_ms(post_id), str(post_id))
            score, _, member = raw.decode().partition(":")
            uuid.UUID(member.split(":", 1)[0])
            return cls(int(score), member)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest("Invalid cursor", code="invalid_cursor") from exc

"""The event envelope every consumer receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from snsfeed.platform.outbox import OutboxEvent


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    actor_id: uuid.UUID | None
    key: str
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_outbox(cls, row: OutboxEvent) -> Event:
        return cls(
            id=row.id,
            type=row.type,
            version=row.version,
            occurred_at=row.occurred_at,
            actor_id=row.actor_id,
            key=row.key,
            payload=dict(row.payload),
        )

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": str(self.id),
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at.isoformat(),
                "actor_id": str(self.actor_id) if self.actor_id else None,
                "key": self.key,
                "payload": self.payload,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Event:
        raw = orjson.loads(data)
        return cls(
            id=uuid.UUID(raw["id"]),
            type=raw["type"],
            version=int(raw["version"]),
            occurred_at=datetime.fromisoformat(raw["occurred_at"]),
            actor_id=uuid.UUID(raw["actor_id"]) if raw.get("actor_id") else None,
            key=raw["key"],
            payload=raw["payload"],
        )

"""Transactional outbox: events are rows written in the same transaction as the change.

Consumers (in-process in embedded mode, a JetStream relay in production) read this
table as an ordered log; ``seq`` gives the order, ``id`` (UUIDv7) de-duplicates.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Uuid
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from snsfeed.platform.db import Base, UTCDateTime
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow


class OutboxEvent(Base):
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


def record_event(
    session: AsyncSession,
    type_: str,
    *,
    actor_id: uuid.UUID | None,
    key: uuid.UUID | str,
    payload: dict[str, Any],
    version: int = 1,
) -> OutboxEvent:
    event = OutboxEvent(
        id=new_id(),
        type=type_,
        version=version,
        occurred_at=utcnow(),
        actor_id=actor_id,
        key=str(key),
        payload=payload,
    )
    session.add(event)
    return event

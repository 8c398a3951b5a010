from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from snsfeed.platform.db import Base, UTCDateTime
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow


class Follow(Base):
    __tablename__ = "user_follows"
    __table_args__ = (
        Index("ix_user_follows_following_seq", "following_id", "seq"),
        Index("ix_user_follows_follower_seq", "follower_id", "seq"),
    )

    follower_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    following_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # UUIDv7 of the follow itself: a stable, time-ordered cursor for follower lists.
    seq: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Block(Base):
    __tablename__ = "user_blocks"
    __table_args__ = (Index("ix_user_blocks_blocked_id", "blocked_id"),)

    blocker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Mute(Base):
    __tablename__ = "user_mutes"

    muter_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

"""All SQL of the notifications context."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationSetting,
    PushSubscription,
)
from snsfeed.platform.db import insert_ignore


@dataclass(frozen=True)
class GroupRow:
    """A page entry: the newest notification of a group, with the group's totals."""

    latest: Notification
    count: int
    unread: int


def _ids(values: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(values))


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- notifications ------------------------------------------------------------------

    async def insert(self, values: dict[str, Any]) -> bool:
        """Insert unless (recipient, dedupe_key) exists; True when this call inserted it."""
        return await insert_ignore(self.session, Notification, values)

    async def get_for(
        self, recipient: uuid.UUID, notification_id: uuid.UUID
    ) -> Notification | None:
        stmt = select(Notification).where(
            Notification.id == notification_id,
            Notification.recipient_id == recipient,
            Notification.in_app.is_(True),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, notification_id: uuid.UUID) -> Notification | None:
        return await self.session.get(Notification, notification_id)

    def _listed(self, recipient: uuid.UUID, hidden_actors: AbstractSet[uuid.UUID]) -> list[Any]:
        conditions: list[Any] = [
            Notification.recipient_id == recipient,
            Notification.in_app.is_(True),
        ]
        if hidden_actors:
            conditions.append(Notification.actor_id.not_in(hidden_actors))
        return conditions

    async def group_page(
        self,
        recipient: uuid.UUID,
        hidden_actors: AbstractSet[uuid.UUID],
        types: Sequence[str] | None,
        before: uuid.UUID | None,
        limit: int,
    ) -> list[GroupRow]:
        """Groups newest first, keyed by their newest notification (the cursor).

        PostgreSQL has no max(uuid), so the newest row of each group is found with a
        window function (both backends have them) instead of an aggregate.
        """
        conditions = self._listed(recipient, hidden_actors)
        if types:
            conditions.append(Notification.type.in_(list(types)))
        by_group: dict[str, Any] = {"partition_by": Notification.group_key}
        ranked = (
            select(
                Notification.id.label("id"),
                func.row_number().over(**by_group, order_by=Notification.id.desc()).label("rank"),
                func.count().over(**by_group).label("n"),
                func.sum(case((Notification.read_at.is_(None), 1), else_=0))
                .over(**by_group)
                .label("unread"),
            )
            .where(*conditions)
            .subquery()
        )
        stmt = select(ranked.c.id, ranked.c.n, ranked.c.unread).where(ranked.c.rank == 1)
        if before is not None:
            stmt = stmt.where(ranked.c.id < before)
        stmt = stmt.order_by(ranked.c.id.desc()).limit(limit)
        heads = (await self.session.execute(stmt)).all()
        if not heads:
            return []
        rows = await self.session.execute(
            select(Notification).where(Notification.id.in_([h.id for h in heads]))
        )
        by_id = {n.id: n for n in rows.scalars()}
        return [GroupRow(by_id[h.id], int(h.n), int(h.unread or 0)) for h in heads]

    async def sample_actors(
        self,
        recipient: uuid.UUID,
        group_keys: Sequence[str],
        hidden_actors: AbstractSet[uuid.UUID],
        per_group: int,
    ) -> dict[str, list[uuid.UUID]]:
        """The most recent actors of each group, newest first."""
        if not group_keys:
            return {}
        conditions = self._listed(recipient, hidden_actors)
        conditions.append(Notification.group_key.in_(list(group_keys)))
        ranked = (
            select(
                Notification.group_key.label("group_key"),
                Notification.actor_id.label("actor_id"),
                Notification.id.label("id"),
                func.row_number()
                .over(partition_by=Notification.group_key, order_by=Notification.id.desc())
                .label("rank"),
            )
            .where(*conditions)
            .subquery()
        )
        stmt = (
            select(ranked.c.group_key, ranked.c.actor_id)
            .where(ranked.c.rank <= per_group)
            .order_by(ranked.c.group_key, ranked.c.id.desc())
        )
        samples: dict[str, list[uuid.UUID]] = {}
        for key, actor in (await self.session.execute(stmt)).all():
            samples.setdefault(key, []).append(actor)
        return samples

    async def unread_count(
        self, recipient: uuid.UUID, hidden_actors: AbstractSet[uuid.UUID]
    ) -> int:
        stmt = select(func.count()).where(
            *self._listed(recipient, hidden_actors), Notification.read_at.is_(None)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def mark_group_read(self, recipient: uuid.UUID, group_key: str, now: datetime) -> int:
        stmt = (
            update(Notification)
            .where(
                Notification.recipient_id == recipient,
                Notification.group_key == group_key,
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def mark_all_read(self, recipient: uuid.UUID, now: datetime) -> int:
        stmt = (
            update(Notification)
            .where(Notification.recipient_id == recipient, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def delete_by_dedupe(self, recipient: uuid.UUID, dedupe_key: str) -> int:
        stmt = delete(Notification).where(
            Notification.recipient_id == recipient, Notification.dedupe_key == dedupe_key
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def delete_for_content(self, content_id: uuid.UUID) -> int:
        stmt = delete(Notification).where(Notification.content_id == content_id)
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def delete_for_comment(self, comment_id: uuid.UUID) -> int:
        stmt = delete(Notification).where(Notification.comment_id == comment_id)
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def delete_between(self, a: uuid.UUID, b: uuid.UUID) -> int:
        stmt = delete(Notification).where(
            or_(
                and_(Notification.recipient_id == a, Notification.actor_id == b),
                and_(Notification.recipient_id == b, Notification.actor_id == a),
            )
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def forget_user(self, user_id: uuid.UUID) -> None:
        """Everything of and about an account that was deleted."""
        for stmt in (
            delete(Notification).where(
                or_(Notification.recipient_id == user_id, Notification.actor_id == user_id)
            ),
            delete(PushSubscription).where(PushSubscription.user_id == user_id),
            delete(NotificationSetting).where(NotificationSetting.user_id == user_id),
        ):
            await self.session.execute(stmt)

    # --- settings -----------------------------------------------------------------------

    async def settings_of(self, user_id: uuid.UUID) -> dict[tuple[str, str], bool]:
        stmt = select(NotificationSetting).where(NotificationSetting.user_id == user_id)
        rows = (await self.session.execute(stmt)).scalars()
        return {(r.type, r.channel): r.enabled for r in rows}

    async def set_setting(
        self, user_id: uuid.UUID, type_: str, channel: str, enabled: bool, now: datetime
    ) -> None:
        row = await self.session.get(NotificationSetting, (user_id, type_, channel))
        if row is None:
            self.session.add(
                NotificationSetting(
                    user_id=user_id, type=type_, channel=channel, enabled=enabled, updated_at=now
                )
            )
        else:
            row.enabled = enabled
            row.updated_at = now

    # --- push subscriptions -------------------------------------------------------------

    async def subscription_by_endpoint(self, endpoint: str) -> PushSubscription | None:
        stmt = select(PushSubscription).where(PushSubscription.endpoint == endpoint)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def add_subscription(self, subscription: PushSubscription) -> None:
        self.session.add(subscription)

    async def subscriptions_of(self, user_id: uuid.UUID) -> Sequence[PushSubscription]:
        stmt = (
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def subscription(self, subscription_id: uuid.UUID) -> PushSubscription | None:
        return await self.session.get(PushSubscription, subscription_id)

    async def delete_subscription(self, user_id: uuid.UUID, subscription_id: uuid.UUID) -> bool:
        stmt = delete(PushSubscription).where(
            PushSubscription.id == subscription_id, PushSubscription.user_id == user_id
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    # --- deliveries ---------------------------------------------------------------------

    async def add_delivery(self, values: dict[str, Any]) -> bool:
        return await insert_ignore(self.session, Delivery, values)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[uuid.UUID]:
        """Lease up to ``limit`` due deliveries to this dispatcher.

        The lease, not a held lock, keeps other dispatchers away while sending (sending
        happens outside the transaction); ``SKIP LOCKED`` keeps concurrent claims from
        queueing behind each other on PostgreSQL.
        """
        stmt = (
            select(Delivery.id)
            .where(
                Delivery.status == DeliveryStatus.PENDING.value,
                Delivery.next_attempt_at <= now,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
            )
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self.session.execute(stmt)).scalars())
        if ids:
            await self.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(lease_until=lease_until, attempts=Delivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
        return ids

    async def delivery(self, delivery_id: uuid.UUID) -> Delivery | None:
        return await self.session.get(Delivery, delivery_id)

    async def deliveries_for(self, notification_ids: Iterable[uuid.UUID]) -> Sequence[Delivery]:
        ids = _ids(notification_ids)
        if not ids:
            return []
        stmt = select(Delivery).where(Delivery.notification_id.in_(ids)).order_by(Delivery.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def all_notifications_of(self, recipient: uuid.UUID) -> Sequence[Notification]:
        """Every row, listed or not (tests and tooling)."""
        stmt = (
            select(Notification)
            .where(Notification.recipient_id == recipient)
            .order_by(Notification.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

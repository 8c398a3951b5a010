"""All SQL of the graph context."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import delete, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.graph.models import Block, Follow, Mute
from snsfeed.platform.db import insert_ignore
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow


class GraphRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # follows
    async def add_follow(self, follower: uuid.UUID, following: uuid.UUID) -> bool:
        return await insert_ignore(
            self.session,
            Follow,
            {
                "follower_id": follower,
                "following_id": following,
                "seq": new_id(),
                "created_at": utcnow(),
            },
        )

    async def remove_follow(self, follower: uuid.UUID, following: uuid.UUID) -> bool:
        stmt = delete(Follow).where(
            Follow.follower_id == follower, Follow.following_id == following
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def is_following(self, follower: uuid.UUID, following: uuid.UUID) -> bool:
        stmt = select(Follow.seq).where(
            Follow.follower_id == follower, Follow.following_id == following
        )
        return (await self.session.execute(stmt)).first() is not None

    async def following_ids(self, follower: uuid.UUID) -> list[uuid.UUID]:
        stmt = select(Follow.following_id).where(Follow.follower_id == follower)
        return list((await self.session.execute(stmt)).scalars())

    async def reader_facts(self, user_id: uuid.UUID) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
        """(whom the user follows, whom they must not see) in one round trip."""
        follows = select(Follow.following_id.label("other"), literal("f").label("kind")).where(
            Follow.follower_id == user_id
        )
        blocked = select(Block.blocked_id, literal("h")).where(Block.blocker_id == user_id)
        blockers = select(Block.blocker_id, literal("h")).where(Block.blocked_id == user_id)
        muted = select(Mute.muted_id, literal("h")).where(Mute.muter_id == user_id)
        rows = (await self.session.execute(union_all(follows, blocked, blockers, muted))).all()
        following = [row.other for row in rows if row.kind == "f"]
        hidden = {row.other for row in rows if row.kind == "h"}
        return following, hidden

    async def reader_facts_about(
        self, readers: Sequence[uuid.UUID], authors: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
        """``reader_facts`` for many readers, limited to a few authors, in one round trip:
        rows (reader, author, "f" follows | "h" hidden: blocked either way or muted)."""
        follows = select(
            Follow.follower_id.label("reader"), Follow.following_id, literal("f").label("kind")
        ).where(Follow.follower_id.in_(readers), Follow.following_id.in_(authors))
        blocked = select(Block.blocker_id, Block.blocked_id, literal("h")).where(
            Block.blocker_id.in_(readers), Block.blocked_id.in_(authors)
        )
        blockers = select(Block.blocked_id, Block.blocker_id, literal("h")).where(
            Block.blocked_id.in_(readers), Block.blocker_id.in_(authors)
        )
        muted = select(Mute.muter_id, Mute.muted_id, literal("h")).where(
            Mute.muter_id.in_(readers), Mute.muted_id.in_(authors)
        )
        rows = await self.session.execute(union_all(follows, blocked, blockers, muted))
        return [(row[0], row[1], row[2]) for row in rows]

    async def follower_ids(self, following: uuid.UUID) -> list[uuid.UUID]:
        stmt = select(Follow.follower_id).where(Follow.following_id == following)
        return list((await self.session.execute(stmt)).scalars())

    async def followers_page(
        self, user_id: uuid.UUID, before: uuid.UUID | None, limit: int, exclude: set[uuid.UUID]
    ) -> Sequence[Follow]:
        stmt = select(Follow).where(Follow.following_id == user_id)
        if exclude:
            stmt = stmt.where(Follow.follower_id.not_in(exclude))
        if before is not None:
            stmt = stmt.where(Follow.seq < before)
        stmt = stmt.order_by(Follow.seq.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def following_page(
        self, user_id: uuid.UUID, before: uuid.UUID | None, limit: int, exclude: set[uuid.UUID]
    ) -> Sequence[Follow]:
        stmt = select(Follow).where(Follow.follower_id == user_id)
        if exclude:
            stmt = stmt.where(Follow.following_id.not_in(exclude))
        if before is not None:
            stmt = stmt.where(Follow.seq < before)
        stmt = stmt.order_by(Follow.seq.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def follower_id_batches(
        self, following: uuid.UUID, batch: int
    ) -> AsyncIterator[list[uuid.UUID]]:
        """Follower ids streamed in batches (a server-side cursor on PostgreSQL).

        Core rows rather than ORM loading: a 10k-follower fan-out spends most of its
        time here otherwise.
        """
        stmt = select(Follow.follower_id).where(Follow.following_id == following)
        conn = await self.session.connection()
        result = await conn.stream(stmt.execution_options(yield_per=batch))
        async for part in result.partitions(batch):
            yield [row[0] for row in part]

    async def count_followers(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(Follow).where(Follow.following_id == user_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def count_following(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(Follow).where(Follow.follower_id == user_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def remove_all_follows_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """Delete every follow to or from the user; returns the other side of each."""
        stmt = (
            delete(Follow)
            .where(or_(Follow.follower_id == user_id, Follow.following_id == user_id))
            .returning(Follow.follower_id, Follow.following_id)
        )
        rows = (await self.session.execute(stmt)).all()
        return {row.follower_id for row in rows} | {row.following_id for row in rows}

    # blocks
    async def add_block(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        return await insert_ignore(
            self.session,
            Block,
            {"blocker_id": blocker, "blocked_id": blocked, "seq": new_id(), "created_at": utcnow()},
        )

    async def remove_block(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        stmt = delete(Block).where(Block.blocker_id == blocker, Block.blocked_id == blocked)
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def is_blocking(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        stmt = select(Block.seq).where(Block.blocker_id == blocker, Block.blocked_id == blocked)
        return (await self.session.execute(stmt)).first() is not None

    async def block_exists_between(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        stmt = select(Block.seq).where(
            or_(
                (Block.blocker_id == a) & (Block.blocked_id == b),
                (Block.blocker_id == b) & (Block.blocked_id == a),
            )
        )
        return (await self.session.execute(stmt)).first() is not None

    async def blocked_either_way(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        mine = select(Block.blocked_id).where(Block.blocker_id == user_id)
        theirs = select(Block.blocker_id).where(Block.blocked_id == user_id)
        rows = (await self.session.execute(mine.union(theirs))).scalars()
        return set(rows)

    async def blockers_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        stmt = select(Block.blocker_id).where(Block.blocked_id == user_id)
        return set((await self.session.execute(stmt)).scalars())

    async def blocks_page(
        self, blocker: uuid.UUID, before: uuid.UUID | None, limit: int
    ) -> Sequence[Block]:
        stmt = select(Block).where(Block.blocker_id == blocker)
        if before is not None:
            stmt = stmt.where(Block.seq < before)
        stmt = stmt.order_by(Block.seq.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    # mutes
    async def add_mute(self, muter: uuid.UUID, muted: uuid.UUID) -> bool:
        return await insert_ignore(
            self.session,
            Mute,
            {"muter_id": muter, "muted_id": muted, "seq": new_id(), "created_at": utcnow()},
        )

    async def remove_mute(self, muter: uuid.UUID, muted: uuid.UUID) -> bool:
        stmt = delete(Mute).where(Mute.muter_id == muter, Mute.muted_id == muted)
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def is_muting(self, muter: uuid.UUID, muted: uuid.UUID) -> bool:
        stmt = select(Mute.seq).where(Mute.muter_id == muter, Mute.muted_id == muted)
        return (await self.session.execute(stmt)).first() is not None

    async def muted_ids(self, muter: uuid.UUID) -> set[uuid.UUID]:
        stmt = select(Mute.muted_id).where(Mute.muter_id == muter)
        return set((await self.session.execute(stmt)).scalars())

    async def mutes_page(
        self, muter: uuid.UUID, before: uuid.UUID | None, limit: int, exclude: set[uuid.UUID]
    ) -> Sequence[Mute]:
        stmt = select(Mute).where(Mute.muter_id == muter)
        if exclude:
            stmt = stmt.where(Mute.muted_id.not_in(exclude))
        if before is not None:
            stmt = stmt.where(Mute.seq < before)
        stmt = stmt.order_by(Mute.seq.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

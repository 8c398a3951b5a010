"""Follow, block and mute use cases, and the visibility facts other contexts ask for."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.graph.models import Block, Follow, Mute
from snsfeed.graph.repository import GraphRepository
from snsfeed.graph.schemas import RelationshipResult
from snsfeed.platform import cache
from snsfeed.platform.errors import BadRequest, Forbidden, NotFound
from snsfeed.platform.events import emit, on_event
from snsfeed.platform.outbox import OutboxEvent
from snsfeed.users import service as users


async def _target(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> None:
    if actor == target:
        raise BadRequest("You cannot do that to yourself", code="self_relationship")
    if await users.get_active(session, target) is None:
        raise NotFound("User not found")


async def _visible_target(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> None:
    """Like ``_target``, and someone who blocked the actor does not exist for the actor.

    Block and unblock skip this check: a blocked user may block back, so that they stay
    protected if the other side unblocks later.
    """
    await _target(session, actor, target)
    if await GraphRepository(session).is_blocking(target, actor):
        raise NotFound("User not found")


async def follow(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> RelationshipResult:
    await _visible_target(session, actor, target)
    repo = GraphRepository(session)
    if await repo.is_blocking(actor, target):
        raise Forbidden("You have blocked this user; unblock them first", code="blocking")
    if await repo.add_follow(actor, target):
        _forget_facts(session, actor, target)
        await emit(
            session,
            "graph.followed",
            actor_id=actor,
            key=target,
            payload={"follower_id": str(actor), "followee_id": str(target)},
        )
    return await relationship(session, actor, target)


async def unfollow(
    session: AsyncSession, actor: uuid.UUID, target: uuid.UUID
) -> RelationshipResult:
    await _visible_target(session, actor, target)
    repo = GraphRepository(session)
    if await repo.remove_follow(actor, target):
        _forget_facts(session, actor, target)
        await emit(
            session,
            "graph.unfollowed",
            actor_id=actor,
            key=target,
            payload={"follower_id": str(actor), "followee_id": str(target)},
        )
    return await relationship(session, actor, target)


async def block(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> RelationshipResult:
    await _target(session, actor, target)
    repo = GraphRepository(session)
    if await repo.add_block(actor, target):
        _forget_facts(session, actor, target)
        # A block ends the relationship in both directions.
        removed_out = await repo.remove_follow(actor, target)
        removed_in = await repo.remove_follow(target, actor)
        await emit(
            session,
            "graph.blocked",
            actor_id=actor,
            key=target,
            payload={
                "blocker_id": str(actor),
                "blocked_id": str(target),
                "removed_follows": [
                    *(
                        [{"follower_id": str(actor), "followee_id": str(target)}]
                        if removed_out
                        else []
                    ),
                    *(
                        [{"follower_id": str(target), "followee_id": str(actor)}]
                        if removed_in
                        else []
                    ),
                ],
            },
        )
    return await relationship(session, actor, target)


async def unblock(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> RelationshipResult:
    await _target(session, actor, target)
    if await GraphRepository(session).remove_block(actor, target):
        _forget_facts(session, actor, target)
        await emit(
            session,
            "graph.unblocked",
            actor_id=actor,
            key=target,
            payload={"blocker_id": str(actor), "blocked_id": str(target)},
        )
    return await relationship(session, actor, target)


async def mute(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> RelationshipResult:
    await _visible_target(session, actor, target)
    if await GraphRepository(session).add_mute(actor, target):
        _forget_facts(session, actor, target)
        await emit(
            session,
            "graph.muted",
            actor_id=actor,
            key=target,
            payload={"muter_id": str(actor), "muted_id": str(target)},
        )
    return await relationship(session, actor, target)


async def unmute(session: AsyncSession, actor: uuid.UUID, target: uuid.UUID) -> RelationshipResult:
    await _visible_target(session, actor, target)
    if await GraphRepository(session).remove_mute(actor, target):
        _forget_facts(session, actor, target)
        await emit(
            session,
            "graph.unmuted",
            actor_id=actor,
            key=target,
            payload={"muter_id": str(actor), "muted_id": str(target)},
        )
    return await relationship(session, actor, target)


async def relationship(
    session: AsyncSession, viewer: uuid.UUID, other: uuid.UUID
) -> RelationshipResult:
    repo = GraphRepository(session)
    return RelationshipResult(
        following=await repo.is_following(viewer, other),
        followed_by=await repo.is_following(other, viewer),
        blocking=await repo.is_blocking(viewer, other),
        muting=await repo.is_muting(viewer, other),
    )


# --- facts other contexts use for visibility ------------------------------------------------


async def is_following(session: AsyncSession, follower: uuid.UUID, followee: uuid.UUID) -> bool:
    return await GraphRepository(session).is_following(follower, followee)


async def is_blocked_between(session: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> bool:
    return a != b and await GraphRepository(session).block_exists_between(a, b)


async def blocked_either_way(session: AsyncSession, user_id: uuid.UUID) -> set[uuid.UUID]:
    return await GraphRepository(session).blocked_either_way(user_id)


async def reader_facts_from_source(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]:
    """``reader_facts`` read from SQL, for work whose result outlives any cache entry."""
    following, hidden = await GraphRepository(session).reader_facts(user_id)
    return frozenset(following), frozenset(hidden)


def facts_key(user_id: uuid.UUID | str) -> str:
    return f"c:facts:{user_id}"


def _forget_facts(session: AsyncSession, *user_ids: uuid.UUID) -> None:
    cache.invalidate_after_commit(session, *(facts_key(u) for u in user_ids))


# The cache holds JSON (lists of strings); turning thousands of them back into UUIDs on
# every read would cost more than the cache saves, so the converted form is kept next to
# the very document object it came from.
_converted: dict[uuid.UUID, tuple[object, tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]]] = {}


async def reader_facts(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]:
    """Whom the user follows, and the authors hidden from their feed (blocks, mutes).

    Read through the near cache: every follow, block and mute change of either party
    invalidates it.
    """
    near = cache.current()
    key = facts_key(user_id)
    epoch = near.epoch
    doc = near.get_local(key) or (await near.get_many([key])).get(key)
    if doc is not None:
        memo = _converted.get(user_id)
        if memo is not None and memo[0] is doc:
            return memo[1]
        facts = (
            frozenset(uuid.UUID(u) for u in doc["following"]),
            frozenset(uuid.UUID(u) for u in doc["hidden"]),
        )
    else:
        following, hidden = await GraphRepository(session).reader_facts(user_id)
        doc = {"following": [str(u) for u in following], "hidden": [str(u) for u in hidden]}
        await near.put_many({key: doc}, since_epoch=epoch)
        doc = near.get_local(key) or doc
        facts = (frozenset(following), frozenset(hidden))
    if len(_converted) > 10_000:
        _converted.clear()
    _converted[user_id] = (doc, facts)
    return facts


async def reader_facts_about(
    session: AsyncSession, readers: Sequence[uuid.UUID], authors: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[set[uuid.UUID], set[uuid.UUID]]]:
    """``reader_facts`` of many readers at once, restricted to ``authors``: for each reader,
    (the authors they follow, the authors hidden from them). Real-time delivery asks it for
    the few authors an event is about."""
    facts: dict[uuid.UUID, tuple[set[uuid.UUID], set[uuid.UUID]]] = {
        r: (set(), set()) for r in readers
    }
    if not readers or not authors:
        return facts
    for reader, author, kind in await GraphRepository(session).reader_facts_about(readers, authors):
        following, hidden = facts[reader]
        (following if kind == "f" else hidden).add(author)
    return facts


async def following_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return await GraphRepository(session).following_ids(user_id)


def follower_id_batches(
    session: AsyncSession, user_id: uuid.UUID, batch: int
) -> AsyncIterator[list[uuid.UUID]]:
    """Stream follower ids, so a fan-out can write one batch while the next is read."""
    return GraphRepository(session).follower_id_batches(user_id, batch)


async def follower_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await GraphRepository(session).count_followers(user_id)


async def follower_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return await GraphRepository(session).follower_ids(user_id)


async def counts(session: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """(followers, following)."""
    repo = GraphRepository(session)
    return await repo.count_followers(user_id), await repo.count_following(user_id)


async def followers_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    viewer: uuid.UUID | None,
    before: uuid.UUID | None,
    limit: int,
) -> Sequence[Follow]:
    repo = GraphRepository(session)
    exclude = await repo.blocked_either_way(viewer) if viewer else set()
    return await repo.followers_page(user_id, before, limit, exclude)


async def following_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    viewer: uuid.UUID | None,
    before: uuid.UUID | None,
    limit: int,
) -> Sequence[Follow]:
    repo = GraphRepository(session)
    exclude = await repo.blocked_either_way(viewer) if viewer else set()
    return await repo.following_page(user_id, before, limit, exclude)


async def blocks_page(
    session: AsyncSession, user_id: uuid.UUID, before: uuid.UUID | None, limit: int
) -> Sequence[Block]:
    return await GraphRepository(session).blocks_page(user_id, before, limit)


async def mutes_page(
    session: AsyncSession, user_id: uuid.UUID, before: uuid.UUID | None, limit: int
) -> Sequence[Mute]:
    repo = GraphRepository(session)
    # Someone who blocked me vanishes from my reads, my own mute list included.
    blocked_me = await repo.blockers_of(user_id)
    return await repo.mutes_page(user_id, before, limit, blocked_me)


@on_event("user.deleted")
async def _forget_deleted_account(session: AsyncSession, event: OutboxEvent) -> None:
    user_id = uuid.UUID(event.payload["user_id"])
    touched = await GraphRepository(session).remove_all_follows_of(user_id)
    _forget_facts(session, user_id, *touched)

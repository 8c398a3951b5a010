"""Post documents: concurrent readers of an uncached post share one load."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from snsfeed.content import service as content
from snsfeed.platform import cache
from tests.helpers import Api


async def test_concurrent_misses_of_one_post_load_it_once(app: FastAPI, api: Api) -> None:
    author = await api.register()
    post_id = uuid.UUID((await api.post(author, "popular"))["id"])
    # The consumers reacting to the post read it too: let them finish before counting.
    if app.state.runtime.bus is not None:
        await app.state.runtime.bus.wait_idle(within_seconds=30)
    key = content.document_key(post_id)
    cache.current().evict_local([key])
    if app.state.redis is not None:
        await app.state.redis.delete(key)

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM content " in statement or "FROM content\n" in statement:
            statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:

        async def read() -> dict[uuid.UUID, Any]:
            async with app.state.sessionmaker() as session:
                return await content.documents(session, [post_id])

        results = await asyncio.gather(*(read() for _ in range(5)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(r[post_id]["content"]["text"] == "popular" for r in results)
    assert len(statements) == 1

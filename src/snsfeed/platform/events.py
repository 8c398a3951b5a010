"""Emitting domain events.

``emit`` writes the event to the outbox (for asynchronous consumers: timelines,
notifications, search …) and runs the handlers other contexts registered for
effects that must commit atomically with the change (e.g. an account deletion
hides the account's posts). Contexts register handlers instead of importing each
other, so the dependency points from the reacting context to the event only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.platform.outbox import OutboxEvent, record_event

Handler = Callable[[AsyncSession, OutboxEvent], Awaitable[None]]

_in_transaction_handlers: dict[str, list[Handler]] = defaultdict(list)


def on_event(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if handler not in _in_transaction_handlers[event_type]:
            _in_transaction_handlers[event_type].append(handler)
        return handler

    return register


async def emit(
    session: AsyncSession,
    event_type: str,
    *,
    actor_id: uuid.UUID | None,
    key: uuid.UUID | str,
    payload: dict[str, Any],
) -> OutboxEvent:
    event = record_event(session, event_type, actor_id=actor_id, key=key, payload=payload)
    for handler in _in_transaction_handlers.get(event_type, ()):
        await handler(session, event)
    return event

"""Media jobs run from the command line (``snsfeed media cleanup``)."""

from __future__ import annotations

from snsfeed.config import Settings
from snsfeed.media import service
from snsfeed.media.storage import create_storage
from snsfeed.platform.db import session_scope
from snsfeed.runtime import start_runtime, stop_runtime


async def run_cleanup(settings: Settings) -> int:
    """Clean up in batches, each its own transaction, until nothing is due."""
    # Embedded mode may run this before `serve` ever migrated the SQLite file.
    runtime = await start_runtime(settings, migrate=settings.embedded, relay=False)
    storage = create_storage(settings)
    total = 0
    try:
        while True:
            async for session in session_scope(runtime.sessionmaker):
                removed = await service.cleanup(session, settings, storage)
            total += removed
            if removed == 0:
                return total
    finally:
        await stop_runtime(runtime)

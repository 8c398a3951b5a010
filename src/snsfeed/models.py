"""Imports every context's tables so ``Base.metadata`` is complete (alembic, tests)."""

from snsfeed.content import models as content_models
from snsfeed.engagement import models as engagement_models
from snsfeed.graph import models as graph_models
from snsfeed.media import models as media_models
from snsfeed.notifications import models as notifications_models
from snsfeed.platform import outbox
from snsfeed.platform.bus import models as bus_models
from snsfeed.platform.db import Base
from snsfeed.users import models as users_models

__all__ = [
    "Base",
    "bus_models",
    "content_models",
    "engagement_models",
    "graph_models",
    "media_models",
    "notifications_models",
    "outbox",
    "users_models",
]

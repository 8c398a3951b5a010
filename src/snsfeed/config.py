"""The one Settings class: every knob is an ``SNSFEED_*`` environment variable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SNSFEED_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    broker_url: str | None = None
    storage_url: str | None = None
    jwt_key_file: Path | None = None
    require_services: bool = False

    host: str = "127.0.0.1"
    port: int = 8000

    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    jwt_issuer: str = "snsfeed"

    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 64 * 1024
    argon2_parallelism: int = 1

    max_text_length: int = Field(default=5000, ge=1)
    max_comment_length: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    feed_page_size_default: int = 20
    feed_page_size_max: int = 50

    rate_limit_enabled: bool = True
    rate_limit_authenticated_per_minute: int = 1000
    rate_limit_anonymous_per_minute: int = 100

    log_level: str = "INFO"
    sql_echo: bool = False

    @property
    def embedded(self) -> bool:
        """Embedded mode: no external SQL server configured."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'snsfeed.db').resolve()}"

    @property
    def resolved_jwt_key_file(self) -> Path:
        return self.jwt_key_file or self.data_dir / "jwt-signing-key.pem"

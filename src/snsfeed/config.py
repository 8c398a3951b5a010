"""The one Settings class: every knob is an ``SNSFEED_*`` environment variable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
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

    # event bus
    api_consumers: bool | None = Field(
        default=None, description="Run consumers inside `serve` (default: only in embedded mode)"
    )
    bus_poll_interval_seconds: float = 0.1
    bus_batch_size: int = 100
    bus_max_attempts: int = Field(default=5, ge=1)
    bus_retry_delays_seconds: tuple[float, ...] = (0.5, 2.0, 10.0, 30.0)
    # How long the SQL-log bus waits at a gap in outbox sequence numbers for the missing
    # row to commit (PostgreSQL assigns them before commit) before passing the gap.
    # How long a broker waits for an acknowledgement before redelivering (a crashed worker).
    bus_ack_wait_seconds: float = Field(default=30.0, gt=0)
    bus_gap_grace_seconds: float = Field(default=10.0, ge=0)
    # Outbox events every reader is done with are deleted after this many hours.
    outbox_retention_hours: float = Field(default=72.0, ge=0)
    outbox_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    nats_stream: str = "SNSFEED_EVENTS"
    nats_subject_prefix: str = "snsfeed.events"

    # timelines (Redis)
    timeline_cap: int = Field(default=800, ge=10)
    timeline_active_days: float = Field(default=7.0, gt=0)
    hot_account_followers: int = Field(default=10_000, ge=1)
    fanout_batch_size: int = Field(default=2500, ge=1)
    # Pause between fan-out batches: spreads a huge fan-out so Redis stays responsive.
    fanout_pause_seconds: float = Field(default=0.0, ge=0)

    # near cache of post documents, author summaries, reader facts and principals:
    # L1 in each process, L2 in Redis (when configured); both invalidated on change.
    cache_l1_ttl_seconds: float = Field(default=30.0, gt=0)
    cache_l1_size: int = Field(default=50_000, ge=100)
    cache_l2_ttl_seconds: int = Field(default=300, ge=1)

    # real-time stream (/ws/feed)
    realtime_queue_size: int = Field(
        default=256, ge=1, description="Messages waiting per stream before it must resync"
    )
    realtime_heartbeat_seconds: float = Field(default=20.0, gt=0)
    # Presence outlives a crashed process by at most this long; must exceed the heartbeat.
    realtime_presence_ttl_seconds: float = Field(default=60.0, gt=0)
    realtime_send_timeout_seconds: float = Field(default=10.0, gt=0)
    realtime_max_streams_per_user: int = Field(default=10, ge=1)
    realtime_max_message_bytes: int = Field(default=4096, ge=256)
    # Older events (a worker catching up after an outage) are not pushed: clients catch up.
    realtime_max_event_age_seconds: float = Field(default=300.0, gt=0)
    # media: uploads (see docs/architecture.md, "Media")
    media_cdn_base_url: str | None = Field(
        default=None, description="Public base URL of media files (a CDN in front of storage)"
    )
    media_max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    media_max_video_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    media_image_max_pixels: int = Field(default=40_000_000, ge=1)
    media_image_max_side: int = Field(default=16_384, ge=1)
    # Longest side of the re-encoded original; the WebP variants are 320 and 1080 px.
    media_image_original_max_side: int = Field(default=4096, ge=320)
    media_image_concurrency: int = Field(default=2, ge=1)
    media_max_attachments: int = Field(default=4, ge=1)
    media_description_max_length: int = Field(default=1500, ge=0)
    media_video_max_seconds: float = Field(default=300.0, gt=0)
    media_video_max_height: int = Field(default=720, ge=16)
    media_video_max_fps: int = Field(default=30, ge=1)
    # The transcoder is a child process with these bounds; past them the video is failed.
    media_transcode_timeout_seconds: float = Field(default=600.0, gt=0)
    media_transcode_cpu_seconds: int = Field(default=900, ge=1)
    media_transcode_memory_mb: int = Field(default=2048, ge=256)
    # Unattached uploads (and failed ones) older than this are removed by `media cleanup`.
    media_orphan_grace_seconds: float = Field(default=24 * 3600.0, ge=0)
    # How often the `media-cleanup` group runs that cleanup in the background.
    media_cleanup_interval_seconds: float = Field(default=3600.0, gt=0)
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    # "AES256" (SSE-S3) or "aws:kms" (with s3_kms_key_id); unset = the bucket's default.
    s3_server_side_encryption: str | None = None
    s3_kms_key_id: str | None = None
    # notifications
    # Likes, shares and follows of one target within this window form one group
    # ("A and 3 others liked your post").
    notify_group_window_seconds: int = Field(default=24 * 3600, ge=60)
    # E-mail waits this long and is skipped if the user read the notification meanwhile or
    # has a stream open (they saw it), as Mastodon does.
    notify_email_delay_seconds: float = Field(default=300.0, ge=0)
    notify_max_attempts: int = Field(default=6, ge=1)
    notify_retry_delays_seconds: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 3600.0)
    notify_dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    notify_dispatch_batch_size: int = Field(default=50, ge=1)
    notify_dispatch_concurrency: int = Field(default=8, ge=1)
    notify_send_timeout_seconds: float = Field(default=10.0, gt=0)
    # A claimed delivery is handed to another dispatcher after this long (a crashed worker).
    notify_lease_seconds: float = Field(default=120.0, gt=0)
    notify_public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_from: str = "snsfeed <no-reply@snsfeed.local>"
    # Web Push (VAPID). Unset: generated into the data dir in embedded mode, off otherwise.
    vapid_private_key_file: Path | None = None
    vapid_subject: str = "mailto:admin@snsfeed.local"
    # FCM HTTP v1 style adapter: POST {"message": …} with this bearer token.
    fcm_endpoint: str | None = None
    fcm_bearer_token: str | None = None
    # Push endpoints must be https unless this is on (tests and local development).
    push_allow_insecure_endpoints: bool = False

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
    def runs_consumers_in_api(self) -> bool:
        return self.embedded if self.api_consumers is None else self.api_consumers

    @property
    def resolved_vapid_key_file(self) -> Path | None:
        if self.vapid_private_key_file is not None:
            return self.vapid_private_key_file
        return self.data_dir / "vapid-private-key.pem" if self.embedded else None

    @property
    def resolved_jwt_key_file(self) -> Path:
        return self.jwt_key_file or self.data_dir / "jwt-signing-key.pem"

    @property
    def media_max_upload_bytes(self) -> int:
        """Body limit of the upload route: the larger file limit plus multipart framing."""
        return max(self.media_max_image_bytes, self.media_max_video_bytes) + 64 * 1024

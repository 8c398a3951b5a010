"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291), via pywebpush."""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from snsfeed.config import Settings
from snsfeed.notifications.channels import PermanentFailure, TargetGone
from snsfeed.platform.security import write_new_key

# How long the push service keeps a message for an offline device.
TTL_SECONDS = 24 * 3600


def load_vapid(settings: Settings) -> Any | None:
    """The VAPID key; generated on first use in embedded mode, None when not configured."""
    path: Path | None = settings.resolved_vapid_key_file
    if path is None:
        return None
    if not path.exists() and settings.vapid_private_key_file is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process won the race
            write_new_key(path)
    return Vapid.from_pem(path.read_bytes())


def application_server_key(vapid: Any) -> str:
    """The public key browsers pass to ``PushManager.subscribe`` (base64url, no padding)."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WebPushSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._vapid: Any | None = None

    @property
    def vapid(self) -> Any | None:
        if self._vapid is None:
            self._vapid = load_vapid(self.settings)
        return self._vapid

    async def send(self, endpoint: str, p256dh: str, auth: str, data: str, topic: str) -> None:
        if self.vapid is None:
            raise PermanentFailure("Web Push is not configured (no VAPID key)")
        try:
            await webpush_async(
                subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=data,
                vapid_private_key=self.vapid,
                # A fresh dict per call: pywebpush fills in aud and exp.
                vapid_claims={"sub": self.settings.vapid_subject},
                ttl=TTL_SECONDS,
                timeout=self.settings.notify_send_timeout_seconds,
                # A resend of the same notification replaces the undelivered copy.
                headers={"Topic": topic, "Urgency": "normal"},
            )
        except WebPushException as exc:
            status = exc.response.status if exc.response is not None else None
            if status in (404, 410):
                raise TargetGone(f"push service answered {status}") from exc
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                raise PermanentFailure(f"push service answered {status}") from exc
            raise

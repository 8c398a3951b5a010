"""An FCM HTTP v1 style adapter: POST ``{"message": {"token", "notification", "data"}}``.

The endpoint (``https://fcm.googleapis.com/v1/projects/<project>/messages:send`` for
Firebase) and the bearer token come from settings; obtaining OAuth2 tokens from a Google
service account is left to the deployment (a sidecar refreshing the token).
"""

from __future__ import annotations

import aiohttp
import orjson

from snsfeed.config import Settings
from snsfeed.notifications.channels import PermanentFailure, TargetGone


class FcmSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, token: str, title: str, body: str, data: dict[str, str]) -> None:
        endpoint = self.settings.fcm_endpoint
        if not endpoint:
            raise PermanentFailure("FCM is not configured")
        message = {
            "message": {
                "token": token,
                "notification": {"title": title, "body": body},
                "data": data,
            }
        }
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.settings.fcm_bearer_token:
            headers["Authorization"] = f"Bearer {self.settings.fcm_bearer_token}"
        timeout = aiohttp.ClientTimeout(total=self.settings.notify_send_timeout_seconds)
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(endpoint, data=orjson.dumps(message), headers=headers) as response,
        ):
            if response.status < 300:
                return
            text = await response.text()
            # FCM answers 404 UNREGISTERED for a token that is gone for good.
            if response.status == 404 or "UNREGISTERED" in text:
                raise TargetGone(f"FCM answered {response.status}: {text[:200]}")
            if response.status in (400, 403):
                raise PermanentFailure(f"FCM answered {response.status}: {text[:200]}")
            raise RuntimeError(f"FCM answered {response.status}: {text[:200]}")

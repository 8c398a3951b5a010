"""Delivery channels: e-mail over SMTP, Web Push (VAPID) and an FCM HTTP v1 style adapter.

A sender raises ``TargetGone`` when the address will never work again (the push service
says the subscription expired: the subscription is removed), ``PermanentFailure`` when
retrying cannot help, and anything else for a transient failure that is retried.
"""

from __future__ import annotations


class TargetGone(Exception):
    """The subscription or address no longer exists."""


class PermanentFailure(Exception):
    """Retrying the same message cannot succeed (rejected as invalid)."""

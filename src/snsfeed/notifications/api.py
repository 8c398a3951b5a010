"""Notification endpoints: the grouped list, read state, settings and push devices."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from snsfeed.notifications import service
from snsfeed.notifications.channels.webpush import application_server_key, load_vapid
from snsfeed.notifications.models import NotificationType, PushSubscription
from snsfeed.notifications.schemas import (
    NotificationList,
    NotificationSettings,
    NotificationSettingsPatch,
    PushSubscriptionIn,
    PushSubscriptionList,
    PushSubscriptionOut,
    UnreadCount,
    VapidPublicKey,
)
from snsfeed.platform.deps import SessionDep, SettingsDep
from snsfeed.platform.errors import NOT_FOUND_RESPONSES, Conflict
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users.deps import CurrentUser

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=NotificationList,
    summary='My notifications, grouped ("A and 3 others liked your post"), newest first',
)
async def list_notifications(
    session: SessionDep,
    me: CurrentUser,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    types: Annotated[
        list[NotificationType] | None, Query(description="Only these types (repeat the parameter)")
    ] = None,
) -> NotificationList:
    groups, next_before = await service.list_groups(
        session, me.id, types, decode_cursor(cursor), size
    )
    return NotificationList(
        items=groups, next_cursor=encode_cursor(next_before) if next_before else None
    )


@router.get("/unread-count", response_model=UnreadCount, summary="How many are unread")
async def unread_count(session: SessionDep, me: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, me.id))


@router.post(
    "/read", status_code=204, summary="Mark all my notifications read", response_class=Response
)
async def mark_all_read(session: SessionDep, me: CurrentUser) -> Response:
    await service.mark_all_read(session, me.id)
    return Response(status_code=204)


@router.post(
    "/{notification_id}/read",
    status_code=204,
    responses=NOT_FOUND_RESPONSES,
    response_class=Response,
    summary="Mark a notification read (with the rest of its group)",
)
async def mark_read(notification_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.mark_read(session, me.id, notification_id)
    return Response(status_code=204)


@router.get(
    "/settings",
    response_model=NotificationSettings,
    summary="Which channels (in_app, push, email) carry each notification type",
)
async def get_settings(session: SessionDep, me: CurrentUser) -> NotificationSettings:
    return await service.get_settings(session, me.id)


@router.patch(
    "/settings",
    response_model=NotificationSettings,
    summary="Change some types and channels; the rest stay as they are",
)
async def update_settings(
    patch: NotificationSettingsPatch, session: SessionDep, me: CurrentUser
) -> NotificationSettings:
    return await service.update_settings(session, me.id, patch)


def _out(sub: PushSubscription) -> PushSubscriptionOut:
    return PushSubscriptionOut(
        id=sub.id,
        kind=sub.kind,
        endpoint=sub.endpoint,
        created_at=sub.created_at,
    )


@router.get(
    "/push-subscriptions/vapid-public-key",
    response_model=VapidPublicKey,
    responses={409: {"description": "Web Push is not configured"}},
    summary="The applicationServerKey for PushManager.subscribe",
)
async def vapid_public_key(settings: SettingsDep, me: CurrentUser) -> VapidPublicKey:
    vapid = load_vapid(settings)
    if vapid is None:
        raise Conflict("webpush push is not configured on this server", code="push_not_configured")
    return VapidPublicKey(public_key=application_server_key(vapid))


@router.get("/push-subscriptions", response_model=PushSubscriptionList, summary="My push devices")
async def list_subscriptions(session: SessionDep, me: CurrentUser) -> PushSubscriptionList:
    return PushSubscriptionList(
        items=[_out(s) for s in await service.subscriptions(session, me.id)]
    )


@router.post(
    "/push-subscriptions",
    response_model=PushSubscriptionOut,
    status_code=201,
    responses={
        200: {"description": "Already registered (updated)"},
        409: {"description": "This kind of push is not configured"},
    },
    summary="Register a Web Push subscription or an FCM token",
)
async def register_subscription(
    data: Annotated[PushSubscriptionIn, Body()],
    session: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
    response: Response,
) -> PushSubscriptionOut:
    sub, created = await service.register_subscription(session, settings, me.id, data)
    if not created:
        response.status_code = 200
    return _out(sub)


@router.delete(
    "/push-subscriptions/{subscription_id}",
    status_code=204,
    responses=NOT_FOUND_RESPONSES,
    response_class=Response,
    summary="Remove a push device",
)
async def remove_subscription(
    subscription_id: uuid.UUID, session: SessionDep, me: CurrentUser
) -> Response:
    await service.remove_subscription(session, me.id, subscription_id)
    return Response(status_code=204)

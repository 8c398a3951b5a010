"""What a notification says, for push and e-mail: Jinja2 templates, in Korean."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from snsfeed.notifications.models import NotificationType
from snsfeed.users.schemas import UserSummary

# One sentence per type; {actor} is the display name (escaped by the HTML template).
HEADLINES: dict[NotificationType, str] = {
    NotificationType.FOLLOW: "{actor}님이 회원님을 팔로우하기 시작했습니다.",
    NotificationType.LIKE: "{actor}님이 회원님의 게시물을 좋아합니다.",
    NotificationType.COMMENT: "{actor}님이 회원님의 게시물에 댓글을 남겼습니다.",
    NotificationType.REPLY: "{actor}님이 회원님의 댓글에 답글을 남겼습니다.",
    NotificationType.MENTION: "{actor}님이 게시물에서 회원님을 언급했습니다.",
    NotificationType.SHARE: "{actor}님이 회원님의 게시물을 공유했습니다.",
}


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    html: str
    url: str


def display_name(user: UserSummary) -> str:
    return f"{user.full_name} (@{user.username})" if user.full_name else f"@{user.username}"


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("snsfeed.notifications", "templates"),
        # HTML is escaped (names and post text are user input); plain text is not.
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def headline(type_: NotificationType, actor: UserSummary) -> str:
    return HEADLINES[type_].format(actor=display_name(actor))


def render(
    type_: NotificationType,
    actor: UserSummary,
    recipient: UserSummary,
    preview: str | None,
    url: str,
) -> Rendered:
    title = headline(type_, actor)
    context = {
        "headline": title,
        "rest": HEADLINES[type_].removeprefix("{actor}"),
        "actor": actor,
        "actor_name": display_name(actor),
        "recipient": recipient,
        "preview": preview,
        "url": url,
    }
    env = _env()
    return Rendered(
        title=title,
        text=env.get_template("email.txt").render(context),
        html=env.get_template("email.html").render(context),
        url=url,
    )

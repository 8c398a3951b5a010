"""E-mail over SMTP (aiosmtplib): a plain-text part and an HTML alternative, UTF-8."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from snsfeed.config import Settings
from snsfeed.notifications.channels import PermanentFailure
from snsfeed.notifications.messages import Rendered

# CPython's header folding at 78 columns drops the space between two encoded words
# ("회원님을 팔로우" arrives as "회원님을팔로우"); a subject kept short and lines allowed to
# RFC 5322's 998 characters are never folded. (We serialise the message ourselves, since
# aiosmtplib would flatten it again with the 78-column policy.)
_POLICY = policy.SMTP.clone(max_line_length=998)
SUBJECT_MAX_CHARS = 150


class EmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def build(self, to: str, message: Rendered) -> EmailMessage:
        mail = EmailMessage(policy=_POLICY)
        mail["From"] = self.settings.smtp_from
        mail["To"] = to
        subject = message.title
        if len(subject) > SUBJECT_MAX_CHARS:
            subject = subject[: SUBJECT_MAX_CHARS - 1] + "…"
        mail["Subject"] = subject
        mail.set_content(message.text, charset="utf-8")
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    async def send(self, to: str, message: Rendered) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                self.build(to, message).as_bytes(),
                sender=parseaddr(s.smtp_from)[1],
                recipients=[to],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                start_tls=s.smtp_starttls,
                use_tls=s.smtp_use_tls,
                timeout=s.notify_send_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is a permanent refusal; 4xx (greylisting, mailbox busy) is worth a retry.
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise

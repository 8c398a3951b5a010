"""E-mail over SMTP (aiosmtplib): a plain-text part and an HTML alternative, UTF-8."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from snsfeed.config import Settings
from snsfeed.notifications.channels import PermanentFailure
from snsfeed.notifications.messages import Rendered


class EmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def build(self, to: str, message: Rendered) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = to
        mail["Subject"] = message.title
        mail.set_content(message.text, charset="utf-8")
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    async def send(self, to: str, message: Rendered) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                self.build(to, message),
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

"""How an outbox message leaves Kitshare: by SMTP, or (in development) as a file in a folder.

A transport has one method, ``send(message)``, which either hands the message on or raises. It
raises ``PermanentSendError`` when trying again cannot help (the server refused every recipient
for good); any other exception is taken as temporary and the outbox retries later.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Protocol

from core.config import Config
from notifications.models import OutboxMessage

DEFAULT_FROM = Config.MAIL_FROM  # the default lives in core.config
#: Seconds an SMTP conversation may stall before it counts as a failure (and is retried).
SMTP_TIMEOUT = 20


class PermanentSendError(Exception):
    """Sending this message can never succeed (for instance, the address does not exist)."""


class Transport(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def _domain_of(address: str) -> str:
    parsed = getaddresses([address])
    addr = parsed[0][1] if parsed else ""
    return addr.rpartition("@")[2] or "localhost"


def build_email(message: OutboxMessage, from_address: str) -> EmailMessage:
    """The RFC 5322 e-mail for an outbox message.

    Its Message-ID is derived from the outbox row, so in the rare case a message is handed to
    the server twice (see ``notifications.service.send_due``) mail systems can tell the copies
    are one message.
    """
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    stamp = message.created_at.strftime("%Y%m%d%H%M%S")
    email["Message-ID"] = f"<kitshare-outbox-{message.id}-{stamp}@{_domain_of(from_address)}>"
    # RFC 3834: an automatic message, so out-of-office robots should not answer it.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.attachment is not None:
        maintype, _, subtype = (message.attachment_type or "application/octet-stream").partition("/")
        email.add_attachment(
            message.attachment,
            maintype=maintype,
            subtype=subtype,
            filename=message.attachment_name or "attachment",
        )
    return email


class SmtpTransport:
    """Send through an SMTP server: plain, STARTTLS (``use_tls``) or implicit TLS (``use_ssl``)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        use_ssl: bool = False,
        from_address: str = DEFAULT_FROM,
        timeout: float = SMTP_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.use_ssl = use_ssl
        self.from_address = from_address
        self.timeout = timeout

    def send(self, message: OutboxMessage) -> None:
        email = build_email(message, self.from_address)
        context = ssl.create_default_context()
        if self.use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with connection as smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
            try:
                smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused as refused:
                codes = [code for code, _ in refused.recipients.values()]
                if codes and all(500 <= code < 600 for code in codes):
                    raise PermanentSendError(
                        f"The mail server refused {message.to_address}: {refused.recipients}"
                    ) from refused
                raise

    def __repr__(self) -> str:
        return f"<SmtpTransport {self.host}:{self.port}>"


class FolderTransport:
    """Write each message as an .eml file in a folder: development mail you can open and read.

    The file is named after the outbox row, so sending a message again rewrites the same file.
    """

    def __init__(self, path: str | os.PathLike[str], from_address: str = DEFAULT_FROM) -> None:
        self.path = Path(path)
        self.from_address = from_address

    def filename_for(self, message: OutboxMessage) -> Path:
        return self.path / f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"

    def send(self, message: OutboxMessage) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        data = build_email(message, self.from_address).as_bytes()
        target = self.filename_for(message)
        # Write then rename, so a reader never sees half a message.
        handle, temporary = tempfile.mkstemp(dir=self.path, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"<FolderTransport {self.path}>"


def transport_from_config(config: Config) -> Transport:
    """The folder transport when mails go to a folder (MAIL_OUTBOX_DIR, or instance/mail outside
    production), SMTP otherwise."""
    if config.mail_outbox_dir:
        return FolderTransport(config.mail_outbox_dir, config.MAIL_FROM)
    return SmtpTransport(
        host=config.MAIL_SERVER,
        port=config.MAIL_PORT,
        username=config.MAIL_USERNAME,
        password=config.MAIL_PASSWORD,
        use_tls=config.MAIL_USE_TLS,
        use_ssl=config.MAIL_USE_SSL,
        from_address=config.MAIL_FROM,
    )

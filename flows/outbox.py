"""The outbox's sender: claim due notices, send each by SMTP, mark it — never one twice.

:func:`send_outbox` first settles rows whose worker died (:func:`~boflyt.engine.store.outbox.
recover`, lease ten times the SMTP timeout), then claims due rows and sends each over one SMTP
connection with :mod:`smtplib`, step by step so the store knows how far it got:

``MAIL``, ``RCPT``, ``DATA`` and the message's lines → row ``committing`` (committed) → the
end-of-data line → the server's reply → row ``sent`` (or retried after a 4xx reply, failed
after a 5xx).

A connection lost before the ``committing`` commit delivered nothing (a server discards a message
whose data never ended), so the row is retried with backoff; one lost after it is ``uncertain``
and is not sent again by itself (see :mod:`boflyt.engine.store.outbox` for the guarantee).

No personal data leaves: a notice names the process, the step and the due date and links to the
case page (``BOFLYT_BASE_URL/cases/<case id>``), never a reference, name or note. Plain Python
(no Prefect): the deadlines flow and ``boflyt outbox send`` both call it.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.engine import Engine

from boflyt.engine.store import outbox
from boflyt.engine.store.outbox import OutboxMessage, Recipient
from boflyt.engine.store.versions import get_version
from boflyt.models.definition import Version
from boflyt.models.errors import NotFoundError
from boflyt.models.vocabulary import NoticeKind, OutboxStatus
from boflyt.models.words import Language, word
from boflyt.settings import Settings

__all__ = ["SendReport", "SmtpServer", "compose", "send_outbox", "smtp_server"]

Connect = Callable[["SmtpServer"], smtplib.SMTP]


@dataclass(frozen=True)
class SmtpServer:
    """Where and how notices are sent (the ``BOFLYT_SMTP_*`` settings)."""

    host: str
    port: int = 25
    sender: str = "boflyt@localhost"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0

    @property
    def lease(self) -> dt.timedelta:
        """How long a claim is held before :func:`~boflyt.engine.store.outbox.recover` takes
        its worker for dead: ten times the timeout (each SMTP step is bounded by it)."""
        return dt.timedelta(seconds=10 * self.timeout)


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The configured SMTP server; None when ``BOFLYT_SMTP_HOST`` is unset."""
    if not settings.smtp_host:
        return None
    return SmtpServer(
        settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
        settings.smtp_password, settings.smtp_starttls, settings.smtp_timeout,
    )  # fmt: skip


@dataclass
class SendReport:
    """What one :func:`send_outbox` did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    uncertain: int = 0
    recovered: int = 0
    """Rows of a dead worker sent again (they had delivered nothing)."""
    held: int = 0
    """Rows of a dead worker held as uncertain (maybe delivered)."""


def _connect(server: SmtpServer) -> smtplib.SMTP:
    smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    smtp.ehlo()
    if server.starttls:
        smtp.starttls()
        smtp.ehlo()
    if server.user:
        smtp.login(server.user, server.password or "")
    return smtp


def compose(
    message: OutboxMessage,
    *,
    version: Version | None,
    to: str,
    sender: str,
    base_url: str,
    lang: Language,
    now: dt.datetime,
) -> EmailMessage:
    """The e-mail of one notice: process, step, due date and a link; nothing about a person.

    ``version`` (the case's, as published) gives the process's and step's names; without it
    their ids are shown.
    """

    def said(key: str, **fields: object) -> str:
        return word(f"outbox.{key}", lang, **fields)

    process = version.name.get(lang) if version else message.process
    step_id = message.step or ""
    step = step_id
    if version is not None:
        step = next((s.name.get(lang) for s in version.steps if s.id == step_id), step_id)
    due = f"{message.due_at:%d.%m.%Y %H:%M}" if message.due_at else "–"
    kind = message.kind.value
    email = EmailMessage()
    email["Subject"] = said(f"{kind}_subject", step=step, process=process, due=due)
    email["From"] = sender
    email["To"] = to
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    lines = [said(f"{kind}_lead"), "", said("body_process", process=process,
             version=message.version), said("body_step", step=step)]  # fmt: skip
    if message.kind is not NoticeKind.HANDOFF:
        lines.append(said("body_due", due=due))
    link = f"{base_url.rstrip('/')}/cases/{message.case_id}"
    lines += ["", said("body_link", link=link), "", said("body_footer")]
    email.set_content("\n".join(lines) + "\n")
    return email


def _data(email: EmailMessage) -> bytes:
    """The message as SMTP DATA lines: CRLF line ends, leading dots doubled, ending in CRLF
    (the end-of-data line is sent separately)."""
    raw = email.as_bytes(policy=email.policy.clone(linesep="\r\n"))
    raw = re.sub(rb"(?m)^\.", b"..", raw)
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


class _ClaimLost(Exception):
    """Another worker took the row over (this one was taken for dead)."""


def _transmit(
    smtp: smtplib.SMTP, engine: Engine, message: OutboxMessage, data: bytes, sender: str, to: str
) -> None:
    """One message over an open connection; raises as smtplib does."""
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(to)
    if code not in (250, 251):
        raise smtplib.SMTPResponseException(code, reply)
    code, reply = smtp.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    smtp.send(data)
    if not outbox.mark_committing(engine, message):
        raise _ClaimLost
    smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def send_outbox(
    engine: Engine,
    recipients: Mapping[str, Recipient],
    server: SmtpServer,
    *,
    base_url: str,
    lang: Language,
    now: Callable[[], dt.datetime],
    limit: int = 100,
    connect: Connect = _connect,
) -> SendReport:
    """Send the due notices of the outbox (at most ``limit``); see the module for the steps.

    ``recipients`` (the workspace's ``[notifications]``) give each organisation's address; a
    row for an organisation without one fails with that reason. ``now`` is the clock.
    """
    report = SendReport()
    report.recovered, report.held = outbox.recover(engine, now=now(), lease=server.lease)
    claimed = outbox.claim(engine, now=now(), limit=limit)
    versions: dict[tuple[str, int], Version | None] = {}
    smtp: smtplib.SMTP | None = None
    try:
        for message in claimed:
            recipient = recipients.get(message.org)
            if recipient is None:
                outbox.mark_failed(engine, message, error=f"no e-mail address for "
                                   f"{message.org} in boflyt.toml [notifications]")  # fmt: skip
                report.failed += 1
                continue
            key = (message.process, message.version)
            if key not in versions:
                try:
                    versions[key] = get_version(engine, process=key[0], version=key[1])
                except NotFoundError:
                    versions[key] = None
            email = compose(message, version=versions[key], to=recipient.address,
                            sender=server.sender, base_url=base_url, lang=lang,
                            now=now())  # fmt: skip
            smtp = _send_one(engine, smtp, server, connect, message, email, report, now)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return report


def _send_one(
    engine: Engine,
    smtp: smtplib.SMTP | None,
    server: SmtpServer,
    connect: Connect,
    message: OutboxMessage,
    email: EmailMessage,
    report: SendReport,
    now: Callable[[], dt.datetime],
) -> smtplib.SMTP | None:
    """Send one claimed row and mark it; returns the connection to go on with (None after an
    error: the next message opens a new one)."""
    try:
        if smtp is None:
            smtp = connect(server)
        _transmit(smtp, engine, message, _data(email), server.sender, str(email["To"]))
        outbox.mark_sent(engine, message, now=now())
        report.sent += 1
        return smtp
    except _ClaimLost:
        _drop(smtp)
        return None
    except smtplib.SMTPResponseException as refused:
        said = refused.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        error = f"{refused.smtp_code} {text}"
        if 400 <= refused.smtp_code < 500:
            outbox.mark_retry(engine, message, now=now(), error=error)
            report.retry += 1
        else:
            outbox.mark_failed(engine, message, error=error)
            report.failed += 1
        _drop(smtp)
        return None
    except (OSError, smtplib.SMTPException) as lost:
        if _status(engine, message) is OutboxStatus.COMMITTING:  # maybe delivered
            outbox.mark_uncertain(engine, message, error=f"connection lost: {lost}")
            report.uncertain += 1
        else:
            outbox.mark_retry(engine, message, now=now(), error=f"connection lost: {lost}")
            report.retry += 1
        _drop(smtp)
        return None


def _status(engine: Engine, message: OutboxMessage) -> OutboxStatus | None:
    found = outbox.list_outbox(engine, ids=(message.id,))
    return found[0].status if found else None


def _drop(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()

"""Delivery of notifications to applicants: the senders and the worker that drives the outbox
(projections.internal.notifications).

A ``Sender`` gets one message at a time: the stable message id (a gateway that deduplicates
can use it), the receipt number, the template code, the recipient's number — opened from its
sealed value just before sending and never stored or logged — and the text. It raises on
failure. ``LoggingSender`` is the default: it logs the receipt number, the template and the
masked number (138****5678), nothing else. An SMS or e-mail gateway plugs in as
``FIREGOV_NOTIFY_SENDER=package.module:factory``, a callable that takes the settings and
returns a Sender.

Every attempt is recorded: a sender that raises is a failed attempt (the error text masked of
personal data), tried again after ``notify_backoff_seconds`` doubled each time, and after
``notify_max_attempts`` the message is failed. A recipient whose key was erased
(crypto-shredding) is never sent to: ``recipient_erased``. A message whose event is older
than ``notify_max_age_hours`` is ``expired`` instead of sent, so the first start on an old
store, or a store whose delivery record was lost, does not text applicants about old news.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from bridge.sanitise import mask
from deployment.bootstrap import Platform
from deployment.settings import InternalSettings
from domain.agencies import AgencyDirectory
from domain.calendar import WorkingDayCalendar
from domain.sealing import ERASED, SealedValueInvalid, Sealer
from projections.internal.notification_delivery import Claimed, Delivery
from projections.internal.notification_messages import mask_phone, render
from projections.internal.notifications import Outbox

log = structlog.get_logger()
MAX_ERROR_CHARS = 300
MAX_BACKOFF = timedelta(days=1)
LOG_EVENTS = {
    Delivery.SENT: "notification_delivered",
    Delivery.FAILED: "notification_failed",
    Delivery.RECIPIENT_ERASED: "notification_withheld_recipient_erased",
    Delivery.EXPIRED: "notification_expired",
}
_SENDER_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class OutgoingMessage:
    id: str  # stable across attempts: "<receipt number>#<event version>"
    receipt_number: str
    template: str
    recipient: str  # the full mobile number: for the gateway only, never logged
    text: str

    def __repr__(self) -> str:  # a traceback or a debug print must not show the number
        return f"OutgoingMessage(id={self.id!r}, template={self.template!r})"


class Sender(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> None:
        """Hand the message to the channel; raise if it was not accepted."""
        ...


class LoggingSender:
    """Writes a log line instead of sending: embedded installations and tests."""

    name = "log"

    def send(self, message: OutgoingMessage) -> None:
        log.info(
            "notification_sent",
            receipt_number=message.receipt_number,
            template=message.template,
            recipient=mask_phone(message.recipient),
        )


def load_sender(spec: str, settings: InternalSettings) -> Sender:
    """``log``, or ``package.module:factory`` where ``factory(settings)`` returns a Sender."""
    if spec == "log":
        return LoggingSender()
    if not _SENDER_SPEC.fullmatch(spec):
        raise ValueError(f"FIREGOV_NOTIFY_SENDER: expected 'log' or 'module:factory', not {spec!r}")
    module, _, factory = spec.partition(":")
    built: Sender = getattr(importlib.import_module(module), factory)(settings)
    return built


def describe_error(error: BaseException, recipient: str | None) -> str:
    """The error as recorded: class and message, personal data masked, kept short (a gateway's
    message may quote the number it refused)."""
    text = f"{type(error).__name__}: {error}"
    if recipient:
        text = text.replace(recipient, mask_phone(recipient))
    return mask(text)[:MAX_ERROR_CHARS]


def backoff(base_seconds: float, attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, ...): base, 2×base, 4×base ..."""
    return min(timedelta(seconds=base_seconds * 2 ** min(attempt - 1, 30)), MAX_BACKOFF)


@dataclass
class DeliveryWorker:
    outbox: Outbox
    sender: Sender
    sealer: Sealer
    calendar: WorkingDayCalendar
    agencies: AgencyDirectory
    clock: Callable[[], datetime]
    max_attempts: int = 5
    backoff_seconds: float = 60
    lease: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(hours=72)
    batch_size: int = 20

    def deliver_due(self) -> int:
        """One round: claim the messages due now and attempt each; returns how many."""
        claimed = self.outbox.claim_due(self.clock(), self.lease, self.batch_size)
        for message in claimed:
            self._deliver(message)
        return len(claimed)

    def _finish(self, message: Claimed, status: Delivery, **outcome: Any) -> None:
        if not self.outbox.record(message, status, self.clock(), **outcome):
            log.warning("notification_claim_lost", receipt_number=message.receipt_number)
            return
        emit = log.info if status is Delivery.SENT else log.warning
        emit(
            LOG_EVENTS[status],
            receipt_number=message.receipt_number,
            template=message.template,
            attempt=message.attempt,
            sender=self.sender.name,
        )

    def _deliver(self, message: Claimed) -> None:
        now = self.clock()
        if message.attempt > self.max_attempts:  # only after leases ran out: workers died
            self._finish(message, Delivery.FAILED, error="claimed too often without an outcome")
            return
        if now - message.event_at > self.max_age:
            self._finish(message, Delivery.EXPIRED)
            return
        if self.sealer.is_erased(message.recipient_subject):
            self._finish(message, Delivery.RECIPIENT_ERASED)
            return
        try:
            recipient = self.sealer.open(message.recipient)
            text = render(message.template, message.params, self.calendar, self.agencies)
        except SealedValueInvalid as error:  # no key, or tampered: trying again cannot help
            self._finish(message, Delivery.FAILED, error=describe_error(error, None))
            return
        except Exception as error:  # e.g. an unreadable calendar file: the operator can fix it
            self._failed_attempt(message, describe_error(error, None))
            return
        if recipient == ERASED:  # erased between the check and the opening
            self._finish(message, Delivery.RECIPIENT_ERASED)
            return
        outgoing = OutgoingMessage(
            message.id, message.receipt_number, message.template, recipient, text
        )
        try:
            self.sender.send(outgoing)
        except Exception as error:  # a sender's failure is an attempt, never the worker's end
            self._failed_attempt(message, describe_error(error, recipient))
            return
        self._finish(message, Delivery.SENT, sender=self.sender.name, text=text)

    def _failed_attempt(self, message: Claimed, error: str) -> None:
        if message.attempt >= self.max_attempts:
            self._finish(message, Delivery.FAILED, error=error)
            return
        retry_at = self.clock() + backoff(self.backoff_seconds, message.attempt)
        if not self.outbox.record(
            message, Delivery.PENDING, self.clock(), error=error, next_attempt_at=retry_at
        ):
            log.warning("notification_claim_lost", receipt_number=message.receipt_number)
            return
        log.warning(
            "notification_attempt_failed",
            receipt_number=message.receipt_number,
            template=message.template,
            attempt=message.attempt,
            error=error,
        )


@dataclass
class Notifier:
    """The outbox follower and the delivery worker as one background step."""

    outbox: Outbox
    worker: DeliveryWorker

    def step(self) -> bool:
        """Follow the log, then deliver what is due; True if anything moved."""
        before = self.outbox.position()
        moved = self.outbox.catch_up() != before
        return self.worker.deliver_due() > 0 or moved


def build_notifier(
    platform: Platform, settings: InternalSettings, sender: Sender | None = None
) -> Notifier:
    outbox = Outbox(platform.app, platform.views)
    worker = DeliveryWorker(
        outbox=outbox,
        sender=sender or load_sender(settings.notify_sender, settings),
        sealer=platform.sealer,
        calendar=platform.calendar,
        agencies=platform.agencies,
        clock=platform.services.context.clock,
        max_attempts=settings.notify_max_attempts,
        backoff_seconds=settings.notify_backoff_seconds,
        lease=timedelta(seconds=settings.notify_lease_seconds),
        max_age=timedelta(hours=settings.notify_max_age_hours),
    )
    return Notifier(outbox, worker)

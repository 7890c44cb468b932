"""Notifications to applicants (RULES.md Art. 9, 15, 16, 29) through the outbox, on SQLite
(and the race between workers on PostgreSQL too).

Each step the applicant must hear of, driven through the real services, makes exactly one
message: short Chinese text with the receipt number, what happened and the deadline or slot,
never the contact's name, the number or the query code. The logging sender logs the masked
number only. A failing sender is retried with a doubling back-off and then failed; a flaky one
succeeds on a retry and the message goes out once; an erased contact is never sent to; a stale
event expires; a rebuild of the outbox gives the same rows and sends nothing again; several
workers never send one message twice. Staff read the delivery status of a case they may read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from deployment.bootstrap import Platform
from deployment.notify import DeliveryWorker, Notifier, OutgoingMessage, build_notifier
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.filing import NoticeItem
from domain.query_code import hash_query_code, new_query_code
from projections.internal.notification_delivery import Delivery
from projections.internal.notifications import Outbox
from tests.booking_support import DETACHMENT, ERQI, JINSHUI, booking_input
from tests.booking_support import staff as booking_staff
from tests.integration.api_fixtures import assert_problem
from tests.integration.api_fixtures import staff as api_staff
from tests.support import Clock, client_of, document, filing_input, materials, settings_for
from tests.support import make_platform as build

WINDOW = Actor("window-jinshui", Role.WINDOW_CLERK, JINSHUI)
ERQI_WINDOW = Actor("window-erqi", Role.WINDOW_CLERK, ERQI)
INTAKE = Actor.system(DETACHMENT, "intake")
CONSOLE = Actor.system(DETACHMENT, "test")
FILING_PHONE, FILING_NAME = "13812345678", "张伟"
BOOKING_PHONE, BOOKING_NAME = "13912345678", "李娜"
TRACKING = "凭查询码在网上查询进度"


class RecordingSender:
    """Records what it was given; the first ``failures`` calls fail, quoting the number as a
    careless gateway would."""

    name = "test-sms"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.sent: list[OutgoingMessage] = []
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        with self._lock:
            self.calls += 1
            if self.calls <= self.failures:
                raise ConnectionError(f"gateway refused {message.recipient}: try later")
            self.sent.append(message)
        time.sleep(0.002)  # a gateway's round trip: gives racing workers their chance

    def by_receipt(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for message in self.sent:
            found.setdefault(message.receipt_number, []).append(message.template)
        return found


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Tuesday 2026-11-24 09:30, Asia/Shanghai


def make_platform(tmp_path: Path, clock: Clock, **settings: Any) -> Platform:
    return build(settings_for(tmp_path, **settings), clock)


@pytest.fixture
def platform(tmp_path: Path, clock: Clock) -> Iterator[Platform]:
    built = make_platform(tmp_path, clock, notify_max_attempts=3, notify_backoff_seconds=60)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def notifier(platform: Platform, sender: RecordingSender) -> Notifier:
    return build_notifier(platform, platform.settings, sender)


def deliver_all(notifier: Notifier) -> None:
    while notifier.step():
        pass


def delivery(outbox: Outbox, receipt: str) -> list[dict[str, Any]]:
    return outbox.messages(receipt)


def online_filing(platform: Platform, **overrides: Any) -> tuple[str, str]:
    """A filing made online through intake; its receipt number and query code."""
    code = new_query_code()
    receipt = platform.services.filings.submit(
        INTAKE, **filing_input(**overrides), channel="online", query_code_hash=hash_query_code(code)
    )
    return receipt, code


def booking(platform: Platform, actor: Actor = INTAKE, **overrides: Any) -> str:
    receipt: str = platform.services.bookings.request(
        actor, **booking_input(**overrides), channel="online"
    )
    return receipt


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


# -- what makes a notification ----------------------------------------------------------------


def test_art9_a_filing_notifies_its_receipt_its_one_notice_its_certificate_and_a_referral(
    platform: Platform, notifier: Notifier, sender: RecordingSender
) -> None:
    filings = platform.services.filings
    receipt, query_code = online_filing(platform)
    notice = NoticeItem(item="fire_design_documents", problem="defective", reason="图纸未盖章")
    filings.issue_supplement_notice(WINDOW, receipt, [notice])
    filings.resubmit(INTAKE, receipt, materials(version="2"))  # nothing to tell: they sent it
    number = filings.issue_certificate(WINDOW, receipt)
    at_window = filings.submit(WINDOW, **filing_input(), channel="window")
    elsewhere = filings.submit(ERQI_WINDOW, **filing_input(), agency=ERQI)
    filings.refer(ERQI_WINDOW, elsewhere)

    deliver_all(notifier)

    assert sender.by_receipt() == {
        receipt: ["filing_received", "filing_supplement_notice", "filing_certificate_issued"],
        at_window: ["filing_received"],
        elsewhere: ["filing_received", "filing_referred"],
    }
    texts = {(m.receipt_number, m.template): m.text for m in sender.sent}
    received = texts[receipt, "filing_received"]
    assert received.startswith("【郑州市金水区消防救援大队】您的消防设计备案")
    assert f"受理编号{receipt}" in received
    assert "审查期限至2026年12月1日" in received  # 5 working days from Tuesday 24 November
    assert "需补正材料1项" in texts[receipt, "filing_supplement_notice"]
    assert f"备案凭证编号{number}" in texts[receipt, "filing_certificate_issued"]
    jinshui = platform.agencies.get(JINSHUI)
    assert f"请向{jinshui.name}（电话{jinshui.phone}）申请" in texts[elsewhere, "filing_referred"]
    for message in sender.sent:
        assert message.recipient == FILING_PHONE  # opened at send time, for the gateway only
        assert message.text.endswith(f"{TRACKING}。")
        for secret in (FILING_NAME, FILING_PHONE, query_code, "图纸未盖章"):
            assert secret not in message.text


def test_art15_16_a_booking_notifies_receipt_forwarding_slot_refusal_rejection_and_result(
    platform: Platform, clock: Clock, notifier: Notifier, sender: RecordingSender
) -> None:
    bookings = platform.services.bookings
    head = booking_staff(platform.services, "head", JINSHUI, Role.DEPT_HEAD)
    main = booking_staff(platform.services, "main", JINSHUI)
    inspected = booking(platform)
    bookings.forward(WINDOW, inspected, "防火监督科")
    bookings.assign(head, inspected, main.actor_id)
    bookings.reply_with_slot(main, inspected, "2026-11-26", "am")
    bookings.accept_slot(INTAKE, inspected)  # the applicant's own step: nothing to tell them
    refused = booking(platform)
    bookings.forward(WINDOW, refused, "防火监督科")
    bookings.assign(head, refused, main.actor_id)
    bookings.reply_with_refusal(main, refused, "该场所尚未取得消防验收合格意见")
    rejected = booking(platform, agency=ERQI)
    bookings.reject(ERQI_WINDOW, rejected)
    clock.now = at(26, 10)
    bookings.record_result(main, inspected, False, ["疏散通道堵塞"], "2026-12-03")

    deliver_all(notifier)

    assert sender.by_receipt() == {
        inspected: [
            "booking_received",
            "booking_forwarded",
            "booking_slot_offered",
            "booking_result",
        ],
        refused: ["booking_received", "booking_forwarded", "booking_refused"],
        rejected: ["booking_received", "booking_rejected"],
    }
    texts = {(m.receipt_number, m.template): m.text for m in sender.sent}
    assert "窗口将于2026年11月24日12时前审查" in texts[inspected, "booking_received"]
    assert "承办人将于2026年11月26日前回复检查时间" in texts[inspected, "booking_received"]
    assert "已转交防火监督科办理" in texts[inspected, "booking_forwarded"]
    assert "现场检查时间安排在2026年11月26日上午" in texts[inspected, "booking_slot_offered"]
    assert "不合格，复查日期2026年12月3日" in texts[inspected, "booking_result"]
    assert "不予安排现场检查" in texts[refused, "booking_refused"]
    jinshui = platform.agencies.get(JINSHUI)
    assert f"请向{jinshui.name}（电话{jinshui.phone}）预约" in texts[rejected, "booking_rejected"]
    assert texts[rejected, "booking_rejected"].startswith("【郑州市二七区消防救援大队】")
    for message in sender.sent:
        assert message.recipient == BOOKING_PHONE
        for secret in (BOOKING_NAME, BOOKING_PHONE, "疏散通道堵塞", "尚未取得消防验收合格意见"):
            assert secret not in message.text


def test_on_the_commitment_route_the_permit_is_one_message_with_the_20_day_check(
    platform: Platform, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt = booking(platform, route="notice_commitment")
    platform.services.bookings.issue_permit_on_commitment(
        WINDOW, receipt, "防火监督科", document("signed commitment")
    )

    deliver_all(notifier)

    assert sender.by_receipt() == {receipt: ["booking_received", "booking_permit_issued"]}
    assert "当场作出许可，将于2026年12月22日前到场核查" in sender.sent[-1].text


def test_a_passed_inspection_is_told_without_findings(
    platform: Platform, clock: Clock, notifier: Notifier, sender: RecordingSender
) -> None:
    bookings = platform.services.bookings
    head = booking_staff(platform.services, "head", JINSHUI, Role.DEPT_HEAD)
    main = booking_staff(platform.services, "main", JINSHUI)
    receipt = booking(platform)
    bookings.forward(WINDOW, receipt, "防火监督科")
    bookings.assign(head, receipt, main.actor_id)
    bookings.reply_with_slot(main, receipt, "2026-11-25", "pm")
    bookings.accept_slot(INTAKE, receipt)
    clock.now = at(25, 14)
    bookings.record_result(main, receipt, True, [])

    deliver_all(notifier)

    assert "现场检查合格。" in sender.sent[-1].text
    assert "2026年11月25日下午" in sender.sent[-2].text


# -- personal data ------------------------------------------------------------------------------


def test_the_logging_sender_logs_the_receipt_the_template_and_the_masked_number_only(
    platform: Platform,
) -> None:
    notifier = build_notifier(platform, platform.settings)  # the default: FIREGOV_NOTIFY_SENDER=log
    receipt, query_code = online_filing(platform)

    with capture_logs() as logs:
        deliver_all(notifier)

    (sent,) = [entry for entry in logs if entry["event"] == "notification_sent"]
    assert sent == {
        "event": "notification_sent",
        "log_level": "info",
        "receipt_number": receipt,
        "template": "filing_received",
        "recipient": "138****5678",
    }
    for secret in (FILING_PHONE, FILING_NAME, query_code):
        assert secret not in repr(logs)
    (row,) = delivery(notifier.outbox, receipt)
    assert (row["status"], row["sender"], row["attempts"]) == ("sent", "log", 1)


def test_the_outbox_stores_the_sealed_reference_never_the_number(
    platform: Platform, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt, _ = online_filing(platform)
    booked = booking(platform)

    deliver_all(notifier)

    assert len(sender.sent) == 2
    (row,) = delivery(notifier.outbox, receipt)
    subject = platform.services.filings.load(receipt).contact_subject
    assert row["recipient"].startswith(f"sealed:v1:{subject}:")
    assert row["recipient_subject"] == subject
    # Nowhere in the views' database file (nor its write-ahead log), sent or not.
    views = platform.settings.internal_dir / "views.sqlite"
    stored = b"".join(path.read_bytes() for path in (views, Path(f"{views}-wal")) if path.is_file())
    assert booked.encode() in stored  # the check reads the right file
    for secret in (FILING_PHONE, FILING_NAME, BOOKING_PHONE, BOOKING_NAME):
        assert secret.encode() not in stored


def test_an_erased_contact_is_never_notified(
    platform: Platform, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt, _ = online_filing(platform)
    subject = platform.services.filings.load(receipt).contact_subject
    platform.services.personal_data.erase(CONSOLE, subject, "申请人要求删除个人信息")
    platform.services.filings.issue_certificate(WINDOW, receipt)

    deliver_all(notifier)

    assert sender.calls == 0
    rows = delivery(notifier.outbox, receipt)
    assert [(r["template"], r["status"]) for r in rows] == [
        ("filing_received", "recipient_erased"),
        ("filing_certificate_issued", "recipient_erased"),
    ]
    assert notifier.worker.deliver_due() == 0  # final: never claimed again


# -- delivery -------------------------------------------------------------------------------------


def test_a_failing_sender_is_retried_with_doubling_back_off_then_the_message_fails(
    platform: Platform, clock: Clock
) -> None:
    sender = RecordingSender(failures=100)
    notifier = build_notifier(platform, platform.settings, sender)  # 3 attempts, 60 s, doubled
    receipt, _ = online_filing(platform)
    start = clock.now

    with capture_logs() as logs:
        notifier.step()
        (row,) = delivery(notifier.outbox, receipt)
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert datetime.fromisoformat(row["next_attempt_at"]) == start + timedelta(seconds=60)
        assert row["last_error"] == "ConnectionError: gateway refused 138****5678: try later"

        clock.advance(seconds=59)
        assert notifier.worker.deliver_due() == 0  # not due yet
        clock.advance(seconds=1)
        assert notifier.worker.deliver_due() == 1
        (row,) = delivery(notifier.outbox, receipt)
        assert (row["status"], row["attempts"]) == ("pending", 2)
        assert datetime.fromisoformat(row["next_attempt_at"]) == clock.now + timedelta(seconds=120)

        clock.advance(seconds=120)
        assert notifier.worker.deliver_due() == 1
        (row,) = delivery(notifier.outbox, receipt)
        assert (row["status"], row["attempts"], row["sent_at"]) == ("failed", 3, None)
        clock.advance(days=1)
        assert notifier.worker.deliver_due() == 0  # failed is final

    assert (sender.calls, sender.sent) == (3, [])
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "notification_attempt_failed",
        "notification_attempt_failed",
        "notification_failed",
    ]
    assert FILING_PHONE not in repr(logs)


def test_a_flaky_sender_succeeds_on_the_retry_and_the_message_is_sent_once(
    platform: Platform, clock: Clock
) -> None:
    sender = RecordingSender(failures=1)
    notifier = build_notifier(platform, platform.settings, sender)
    receipt, _ = online_filing(platform)

    notifier.step()
    clock.advance(seconds=60)
    deliver_all(notifier)
    clock.advance(days=1)
    deliver_all(notifier)

    assert [m.receipt_number for m in sender.sent] == [receipt]
    (row,) = delivery(notifier.outbox, receipt)
    assert (row["status"], row["attempts"], row["sender"]) == ("sent", 2, "test-sms")
    assert row["last_error"].startswith("ConnectionError")  # the failed attempt stays on record
    assert row["text"] == sender.sent[0].text
    assert datetime.fromisoformat(row["sent_at"]) == clock.now - timedelta(days=1)


def test_a_notification_of_an_old_event_expires_instead_of_being_sent(
    platform: Platform, clock: Clock, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt, _ = online_filing(platform)
    clock.advance(hours=72, seconds=1)  # FIREGOV_NOTIFY_MAX_AGE_HOURS: 72 by default

    deliver_all(notifier)

    assert sender.calls == 0
    assert [r["status"] for r in delivery(notifier.outbox, receipt)] == ["expired"]


def test_a_worker_that_dies_while_sending_leaves_the_message_to_another_after_the_lease(
    platform: Platform, clock: Clock, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt, _ = online_filing(platform)
    notifier.outbox.catch_up()
    (held,) = notifier.outbox.claim_due(clock.now, timedelta(minutes=5))  # and then it died

    assert notifier.worker.deliver_due() == 0  # held: nobody else sends it meanwhile
    clock.advance(minutes=5)
    deliver_all(notifier)

    assert [m.receipt_number for m in sender.sent] == [receipt]
    assert not notifier.outbox.record(held, Delivery.SENT, clock.now)  # its claim is gone
    (row,) = delivery(notifier.outbox, receipt)
    assert (row["status"], row["attempts"]) == ("sent", 2)


# -- exactly once -------------------------------------------------------------------------------


def test_a_rebuilt_outbox_has_the_same_rows_and_sends_nothing_again(
    platform: Platform, clock: Clock, notifier: Notifier, sender: RecordingSender
) -> None:
    receipt, _ = online_filing(platform)
    platform.services.filings.issue_certificate(WINDOW, receipt)
    booked = booking(platform)
    platform.services.bookings.forward(WINDOW, booked, "防火监督科")
    deliver_all(notifier)
    notifier.outbox.catch_up()  # again: nothing applied twice
    before = notifier.outbox.derived_rows()
    statuses = notifier.outbox.messages()
    sent = len(sender.sent)
    assert sent == 4

    notifier.outbox.rebuild()
    deliver_all(notifier)

    assert notifier.outbox.derived_rows() == before
    assert notifier.outbox.messages() == statuses
    assert len(sender.sent) == sent  # nothing went out twice
    # A new case after the rebuild is told as usual.
    platform.services.filings.issue_certificate(WINDOW, online_filing(platform)[0])
    deliver_all(notifier)
    assert [m.template for m in sender.sent[sent:]] == [
        "filing_received",
        "filing_certificate_issued",
    ]


def racing_workers(platform: Platform, sender: RecordingSender, workers: int = 3) -> None:
    """Several workers, each with its own outbox follower, deliver at the same time."""
    notifiers = [build_notifier(platform, platform.settings, sender) for _ in range(workers)]
    for notifier in notifiers:
        notifier.worker.batch_size = 2
    start = threading.Barrier(workers)

    def run(notifier: Notifier) -> None:
        start.wait()
        deliver_all(notifier)

    threads = [threading.Thread(target=run, args=(n,)) for n in notifiers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_platform(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[Platform]:
    """The platform on SQLite, or on its own PostgreSQL schema."""
    extra: dict[str, Any] = {}
    if request.param == "postgres":
        extra = {
            "database_url": request.getfixturevalue("pg_url"),
            "schema": request.getfixturevalue("pg_schema"),
        }
    built = make_platform(tmp_path, clock, **extra)
    try:
        yield built
    finally:
        built.close()


def test_several_workers_never_send_the_same_message_twice(any_platform: Platform) -> None:
    receipts = [online_filing(any_platform)[0] for _ in range(12)]
    sender = RecordingSender()

    racing_workers(any_platform, sender)

    assert sorted(m.receipt_number for m in sender.sent) == sorted(receipts)
    assert len({m.id for m in sender.sent}) == len(sender.sent) == 12
    outbox = Outbox(any_platform.app, any_platform.views)
    assert {(r["status"], r["attempts"]) for r in outbox.messages()} == {("sent", 1)}


def test_workers_claiming_at_the_same_moment_never_share_a_message(
    any_platform: Platform, clock: Clock
) -> None:
    for _ in range(12):
        online_filing(any_platform)
    Outbox(any_platform.app, any_platform.views).catch_up()
    outboxes = [Outbox(any_platform.app, any_platform.views) for _ in range(4)]
    start = threading.Barrier(len(outboxes))
    claimed: list[list[str]] = []

    def claim(outbox: Outbox) -> None:
        start.wait()
        claimed.append([c.id for c in outbox.claim_due(clock.now, timedelta(minutes=5), 12)])

    threads = [threading.Thread(target=claim, args=(o,)) for o in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    every = [message for ids in claimed for message in ids]
    assert len(claimed) == len(outboxes)
    assert len(every) == len(set(every)) == 12


# -- the staff API --------------------------------------------------------------------------------


def test_staff_read_the_delivery_status_of_a_case_they_may_read(
    platform: Platform, clock: Clock, notifier: Notifier
) -> None:
    client: TestClient = client_of(platform)
    receipt, query_code = online_filing(platform)
    deliver_all(notifier)
    platform.services.filings.issue_certificate(WINDOW, receipt)  # not delivered yet
    window = api_staff(platform, clock, "window.jinshui", Role.WINDOW_CLERK, JINSHUI)

    response = client.get(
        "/api/v1/notifications", params={"receipt_number": receipt}, headers=window
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["receipt_number"], body["count"]) == (receipt, 2)
    first, second = body["notifications"]
    assert (first["template"], first["status"], first["status_zh"]) == (
        "filing_received",
        "sent",
        "已发送",
    )
    assert first["sent_at"] == "2026-11-24T09:30:00+08:00"
    assert (second["template"], second["status"], second["attempts"]) == (
        "filing_certificate_issued",
        "pending",
        0,
    )
    assert second["next_attempt_at"] == "2026-11-24T09:30:00+08:00"
    assert second["text"].startswith("【郑州市金水区消防救援大队】")  # what would go out now
    assert {n["recipient"] for n in body["notifications"]} == {"138****5678"}
    for secret in (FILING_PHONE, FILING_NAME, query_code):
        assert secret not in response.text


def test_the_delivery_status_is_refused_outside_the_case_readers_and_their_jurisdiction(
    platform: Platform, clock: Clock
) -> None:
    client: TestClient = client_of(platform)
    receipt, _ = online_filing(platform)
    booked = booking(platform)
    erqi = api_staff(platform, clock, "window.erqi", Role.WINDOW_CLERK, ERQI)
    auditor = api_staff(platform, clock, "auditor", Role.AUDITOR, DETACHMENT)
    handler = api_staff(platform, clock, "handler.jinshui", Role.HANDLER, JINSHUI)

    def get(headers: dict[str, str], number: str) -> Any:
        return client.get(
            "/api/v1/notifications", params={"receipt_number": number}, headers=headers
        )

    assert_problem(get(erqi, receipt), 403, "outside_jurisdiction")
    assert_problem(get(auditor, receipt), 403, "not_permitted")
    assert_problem(get(erqi, "BA20261124XXXX"), 404, "not_found")
    assert_problem(get(erqi, "BA 1"), 422, "validation_failed")
    assert_problem(client.get("/api/v1/notifications", headers=erqi), 422, "validation_failed")
    assert_problem(get({}, receipt), 401, "not_authenticated")
    assert get(handler, booked).status_code == 200
    assert get(handler, receipt).status_code == 200  # handlers read filings too


def test_a_delivery_worker_is_built_from_the_settings(tmp_path: Path, clock: Clock) -> None:
    platform = make_platform(
        tmp_path,
        clock,
        notify_max_attempts=7,
        notify_backoff_seconds=30,
        notify_lease_seconds=90,
        notify_max_age_hours=24,
    )
    try:
        worker: DeliveryWorker = build_notifier(platform, platform.settings).worker
        assert (worker.sender.name, worker.max_attempts, worker.backoff_seconds) == ("log", 7, 30)
        assert (worker.lease, worker.max_age) == (timedelta(seconds=90), timedelta(hours=24))
    finally:
        platform.close()

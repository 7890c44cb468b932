"""Nothing personal crosses the bridge (DESIGN.md decision 4; issues 3 and 16): 10,000 internal
events carrying ID numbers (18 and 15 digits), mobile numbers, landlines, local numbers after a
phone word, bank card numbers and e-mail addresses — written in every grouping, separator,
width and prefix, the addresses spelled out (tests/personal_data_forms.py) — and personal
names in every string field a person can type → the public events hold none of them, as
checked by the detectors and by looking for each identifying run of digits with separators
taken out; organisation names and credit codes cross unchanged. The same
for bookings (issue 4) down every way they can take: the contact person and phone, the staff
who handled them and the documents they rest on never cross."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from bridge.allow_list import Sources, translate
from bridge.contract.events import validate
from bridge.sanitise import find_personal_data
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.filing import NoticeItem
from domain.services import Services
from tests.booking_support import booking_input, staff
from tests.personal_data_forms import Planted, any_form, identifying_runs
from tests.support import Clock, credit_code, document, filing_input, materials, memory_services

WINDOW = Actor("window", Role.WINDOW_CLERK, "zz-jinshui")
HEAD = Actor("head", Role.DEPT_HEAD, "zz-jinshui")
HANDLER = Actor("handler", Role.HANDLER, "zz-jinshui")
APPROVER = Actor("approver", Role.APPROVER, "zz-jinshui")
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷"]


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def planted(rng: random.Random, secrets: list[Planted], name: bool = False) -> str:
    """Free text with one personal value in it, as people type: words around it. Names go
    only into fields that never cross: no checksum can tell a name in free text."""
    value = any_form(rng)
    secrets.append(value)
    who = rng.choice(NAMES) if name else "申请人"
    return f"{rng.choice(['联系', '经办人', '账号', '电话'])}：{value.written}，{who}"


def leaked(secrets: list[Planted], crossed: list[tuple[str, dict[str, Any]]]) -> list[Planted]:
    """The planted values that show in what crossed: as written, or (numbers) their
    identifying digits in any grouping, in any one text (hashes and credit codes left out:
    among thousands of them some hold a seven-digit run by chance)."""
    everything = orjson.dumps(crossed).decode()
    texts = "\n".join(
        identifying_runs(text)
        for _, payload in crossed
        for key, value in payload.items()
        if not key.endswith("hash") and key != "credit_code"
        for text in strings(value)
    )
    return [
        secret
        for secret in secrets
        if secret.written in everything or (secret.kind != "email" and secret.identifying in texts)
    ]


def life_cycle(services: Services, rng: random.Random, secrets: list[Planted], index: int) -> str:
    organisation = f"郑州第{index}建设有限公司"
    receipt = services.filings.submit(
        WINDOW,
        **filing_input(
            organisation_name=organisation
            if index % 2
            else f"{organisation}（{planted(rng, secrets)}）",
            credit_code=credit_code(f"org-{index}"),
            project_name=f"项目{index} {planted(rng, secrets)}",
            project_address=f"金水区{planted(rng, secrets, name=True)}",
            contact_name=rng.choice(NAMES),
            contact_phone=mobile(rng),
            materials=materials(leave_out=("construction_permit",)),
        ),
    )
    services.filings.issue_supplement_notice(
        WINDOW,
        receipt,
        [NoticeItem(item="construction_permit", problem="missing", reason=planted(rng, secrets))],
    )
    services.filings.resubmit(WINDOW, receipt, materials(version=str(index)))
    services.filings.issue_certificate(WINDOW, receipt)
    if index % 4 == 0:
        services.filings.select_for_inspection(HEAD, receipt, planted(rng, secrets)[:100])
        services.filings.record_inspection_result(HANDLER, receipt, False, [planted(rng, secrets)])
        services.filings.approve_result_for_publication(APPROVER, receipt)
    return receipt


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def cross(services: Services) -> list[tuple[str, dict[str, Any]]]:
    """Every public event the stored internal events give."""
    app = services.context.app

    def as_of(aggregate_id: Any, version: int) -> Any:
        return app.repository.get(aggregate_id, version=version)

    sources = Sources(
        calendar=services.context.calendar,
        agencies=services.context.agencies,
        filing_at=as_of,
        booking_at=as_of,
    )
    crossed: list[tuple[str, dict[str, Any]]] = []
    for notification in app.recorder.select_notifications(start=1, limit=20_000):
        crossed += translate(app.mapper.to_domain_event(notification), sources)
    return crossed


def test_ten_thousand_internal_events_cross_without_personal_data() -> None:
    rng = random.Random(20261129)
    services: Services = memory_services(Clock())
    secrets: list[Planted] = []
    index = 0
    app = services.context.app
    while (app.recorder.max_notification_id() or 0) < 10_000:
        life_cycle(services, rng, secrets, index)
        index += 1
    crossed = cross(services)

    everything = orjson.dumps(crossed).decode()
    assert (app.recorder.max_notification_id() or 0) >= 10_000
    for event_type, payload in crossed:
        validate(event_type, payload)  # exactly the contract's fields
        assert all(find_personal_data(text) == [] for text in strings(payload)), payload
    assert leaked(secrets, crossed) == []
    assert not any(name in everything for name in NAMES)  # contacts and addresses never cross
    received = [p for t, p in crossed if t == "filing.received.v1"]
    assert all(p["credit_code"] == credit_code(f"org-{i}") for i, p in enumerate(received))
    assert [p["organisation_name"] for p in received[1::2]] == [
        f"郑州第{i}建设有限公司" for i in range(1, len(received), 2)
    ]


class BookingDesks:
    """The 金水区 staff who handle bookings, and the half days they offer in turn (four
    places each, from the day after the clock's Tuesday on)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.head = staff(services, "booking-head", "zz-jinshui", Role.DEPT_HEAD)
        self.handler = staff(services, "booking-handler", "zz-jinshui")
        calendar, day = services.context.calendar, date(2026, 11, 25)
        self.days: list[date] = []
        while day < date(2026, 12, 31):  # an inspection on the 31st has no re-check day left
            if calendar.is_working_day(day):
                self.days.append(day)
            day += timedelta(days=1)
        self.offers = 0

    def next_slot(self) -> tuple[date, str]:
        place, self.offers = self.offers, self.offers + 1
        return self.days[place // 8], "am" if place // 4 % 2 == 0 else "pm"

    def offer(self, receipt: str) -> None:
        self.services.bookings.reply_with_slot(self.handler, receipt, *self.next_slot())


def booking_life_cycle(
    desks: BookingDesks, rng: random.Random, secrets: list[Planted], index: int
) -> str | None:
    """One booking down one of six ways; returns it if it waits for its inspection's result."""
    bookings, window = desks.services.bookings, WINDOW
    way = index % 6
    receipt = bookings.request(
        window,
        **booking_input(
            organisation_name=f"郑州第{index}商业有限公司（{planted(rng, secrets)}）",
            credit_code=credit_code(f"booking-org-{index}"),
            project_name=f"门店{index} {planted(rng, secrets)}",
            contact_name=rng.choice(NAMES),
            contact_phone=mobile(rng),
            basis_number=f"郑金消检受字〔2026〕第{index:04d}号 {planted(rng, secrets)}",
            district="二七区" if way == 0 else "金水区",
            route="notice_commitment" if way == 5 else "ordinary",
        ),
        agency="zz-jinshui",
    )
    if way == 0:
        bookings.reject(window, receipt)  # outside the remit: names the competent agency
        return None
    department = f"防火监督科（{planted(rng, secrets)}）"
    if way == 5:
        bookings.issue_permit_on_commitment(window, receipt, department, document(str(index)))
    else:
        bookings.forward(window, receipt, department)
    bookings.assign(desks.head, receipt, desks.handler.actor_id)
    if way == 1:
        bookings.reply_with_refusal(desks.handler, receipt, planted(rng, secrets))
        return None
    desks.offer(receipt)
    if way == 2:
        bookings.request_another_slot(window, receipt)
        desks.offer(receipt)
    if way == 3:
        bookings.cancel(window, receipt, planted(rng, secrets))
        return None
    bookings.accept_slot(window, receipt)
    return receipt if way in (2, 4) else None


def test_booking_events_cross_without_the_contact_the_staff_or_any_planted_number() -> None:
    rng = random.Random(20261124)
    clock = Clock()
    services: Services = memory_services(clock)
    desks = BookingDesks(services)
    secrets: list[Planted] = []
    waiting = [
        receipt
        for index in range(120)
        if (receipt := booking_life_cycle(desks, rng, secrets, index)) is not None
    ]
    clock.now = datetime(2026, 12, 30, 18, tzinfo=SHANGHAI)  # every slot has begun
    for receipt in waiting:
        passed = rng.random() < 0.5
        findings = [] if passed else [planted(rng, secrets)]
        recheck = None if passed else "2026-12-31"
        services.bookings.record_result(desks.handler, receipt, passed, findings, recheck)

    crossed = cross(services)
    everything = orjson.dumps(crossed).decode()

    kinds = {event_type for event_type, _ in crossed}
    assert {t for t in kinds if t.startswith("booking.")} == {
        "booking.received.v1", "booking.rejected.v1", "booking.forwarded.v1",
        "booking.permit_issued.v1", "booking.handlers_assigned.v1", "booking.slot_offered.v1",
        "booking.inspection_refused.v1", "booking.another_slot_requested.v1",
        "booking.cancelled.v2", "booking.slot_accepted.v1",
        "booking.inspection_result_recorded.v1",
    }  # fmt: skip
    for event_type, payload in crossed:
        validate(event_type, payload)
        assert all(find_personal_data(text) == [] for text in strings(payload)), payload
    assert leaked(secrets, crossed) == []
    assert not any(name in everything for name in NAMES)  # the sealed contacts never cross
    assert desks.handler.actor_id not in everything
    assert desks.head.actor_id not in everything
    assert "sha256:" not in everything  # uploaded scans and signed commitments stay inside

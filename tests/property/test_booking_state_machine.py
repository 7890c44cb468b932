"""The booking life cycle (RULES.md Art. 11-16) as a state machine, through the services.

A small model says what each command must do; Hypothesis runs random command sequences over
several bookings of two brigades and the detachment, against the in-memory store, and checks
that no illegal transition is accepted and no legal one refused (with the refusal's exact code),
including who may act, the noon and 2-working-day deadlines (late flags), half days that are
not working days or have begun, and full half days. The agencies take only one or two
inspections per half day here (the 金水区 brigade's own figure, the default for the others), so
that bookings compete for places.

After every step the state rebuilt from the stored events equals the loaded aggregate and the
model, the version equals the number of stored events, and no half day holds more bookings than
its capacity (or holds any booking the model does not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.actor import Actor, Role
from domain.agencies import AgencyDirectory
from domain.booking import Booking
from domain.booking_rules import BEFORE_REPLY, CANCELLABLE, BookingStatus, Half, slot_start
from domain.calendar import SHANGHAI, to_shanghai_date
from domain.errors import DomainError
from domain.inspection_slot import InspectionSlot
from domain.services import Services
from domain.services.bookings import booking_id
from tests.booking_support import DETACHMENT, ERQI, JINSHUI, booking_input, staff
from tests.support import Clock, document, memory_services

# Everything stays inside 2026, the last year the bundled calendar covers.
LAST_MOVE = datetime(2026, 12, 12, tzinfo=SHANGHAI)
# Inspections per half day: the 金水区 brigade's own figure, the service's default for the rest.
CAPACITY = {JINSHUI: 1, ERQI: 2, DETACHMENT: 2}
MAX_BOOKINGS = 6
COMPETENT = {"金水区": JINSHUI, "二七区": ERQI}
BASIS = {
    "pre_opening": "inspection_receipt",
    "fire_acceptance": "acceptance_receipt",
    "completion_spot_check": "completion_certificate",
}
INTAKE = Actor.system(DETACHMENT, "intake")
PREFER_FITTING = st.sampled_from([True, True, True, False])
WHO = st.sampled_from(["own", "own", "own", "detachment", "other brigade"])
OTHER = {JINSHUI: ERQI, ERQI: JINSHUI, DETACHMENT: JINSHUI}
ADVANCING = (
    BookingStatus.RECEIVED,
    BookingStatus.FORWARDED,
    BookingStatus.ASSIGNED,
    BookingStatus.SLOT_OFFERED,
    BookingStatus.SCHEDULED,
)
EDGE_STATUSES = {
    "noon": (BookingStatus.RECEIVED,),
    "reply": (BookingStatus.ASSIGNED,),
    "slot": (BookingStatus.SLOT_OFFERED, BookingStatus.SCHEDULED),
}


def some(*statuses: BookingStatus) -> Callable[[BookingLifeCycle], bool]:
    """Precondition: some booking is where the command is legal. The command may still pick
    another booking (one time in four), where it must be refused."""
    return lambda machine: any(b.status in statuses for b in machine.model.values())


@dataclass
class Expected:
    kind: str
    route: str
    agency: str
    district: str
    received_at: datetime
    status: BookingStatus = BookingStatus.RECEIVED
    reply_from: datetime | None = None
    permit: bool = False
    main_handler: str | None = None
    slot: tuple[date, Half] | None = None
    events: int = 1


class BookingLifeCycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.services: Services = memory_services(self.clock)
        self.services.bookings.inspections_per_half_day = CAPACITY[ERQI]
        agencies = self.services.context.agencies
        self.services.context.agencies = AgencyDirectory(
            [replace(a, inspections_per_half_day=CAPACITY[JINSHUI]) if a.code == JINSHUI else a
             for a in agencies.all()],
            city=agencies.city,
        )  # fmt: skip
        self.calendar = self.services.context.calendar
        self.model: dict[str, Expected] = {}
        self.places: dict[tuple[str, date, Half], list[str]] = {}
        self.slot_events: dict[tuple[str, date, Half], int] = {}
        self.handlers = {
            agency: [staff(self.services, f"handler{n}.{agency}", agency) for n in (1, 2)]
            for agency in (JINSHUI, ERQI, DETACHMENT)
        }
        self.heads = {
            agency: staff(self.services, f"head.{agency}", agency, Role.DEPT_HEAD)
            for agency in (JINSHUI, ERQI, DETACHMENT)
        }
        self.clerk = staff(self.services, "clerk.jinshui", JINSHUI, Role.WINDOW_CLERK)
        self.forced: str | None = None

    # -- helpers ------------------------------------------------------------------------------

    def expect(self, refusal: str | None, command: Callable[[], Any]) -> Any:
        if refusal is None:
            return command()
        with pytest.raises(DomainError) as refused:
            command()
        assert refused.value.code == refusal, refused.value.message_en
        return None

    def pick(self, data: st.DataObject, *legal: BookingStatus) -> tuple[str, Expected]:
        """A booking, most often one where the command is legal (if there is one); the one
        ``advance`` names when it runs a command."""
        if self.forced is not None:
            return self.forced, self.model[self.forced]
        receipts = list(self.model)
        fitting = [r for r in receipts if self.model[r].status in legal]
        prefer_fitting: bool = data.draw(PREFER_FITTING, label="prefer a fitting booking")
        if fitting and prefer_fitting:
            receipts = fitting
        receipt = data.draw(st.sampled_from(receipts), label="receipt")
        return receipt, self.model[receipt]

    def window(self, booking: Expected, who: str) -> tuple[Actor, str | None]:
        agency = {"own": booking.agency, "detachment": DETACHMENT}.get(who, OTHER[booking.agency])
        refusal = None if agency == booking.agency else "outside_jurisdiction"
        return Actor(f"window-{agency}", Role.WINDOW_CLERK, agency), refusal

    def now(self) -> datetime:
        return self.clock()

    def has_bookings(self) -> bool:
        return bool(self.model)

    def reply_late(self, booking: Expected) -> bool:
        assert booking.reply_from is not None
        return bool(self.now() > self.calendar.deadline_after(booking.reply_from, 2))

    def release(self, receipt: str, booking: Expected) -> None:
        if booking.slot is not None:
            key = (booking.agency, *booking.slot)
            self.places[key].remove(receipt)
            self.slot_events[key] += 1
            booking.slot = None

    # -- the form and the window's review -----------------------------------------------------

    @precondition(lambda self: len(self.model) < MAX_BOOKINGS)
    @rule(
        kind=st.sampled_from(sorted(BASIS)),
        route=st.sampled_from(["ordinary", "ordinary", "ordinary", "notice_commitment"]),
        district=st.sampled_from(sorted(COMPETENT)),
        asked=st.sampled_from([None, None, JINSHUI, ERQI, DETACHMENT]),
        fitting_basis=st.sampled_from([True, True, True, False]),
    )
    def request(
        self, kind: str, route: str, district: str, asked: str | None, fitting_basis: bool
    ) -> None:
        unfitting = "fire_acceptance" if kind == "pre_opening" else "pre_opening"
        basis = BASIS[kind] if fitting_basis else BASIS[unfitting]
        refusal = None
        if route == "notice_commitment" and kind != "pre_opening":
            refusal = "route_not_allowed"
        elif not fitting_basis:
            refusal = "basis_does_not_fit_kind"
        fields = booking_input(kind=kind, route=route, district=district, basis_kind=basis)
        receipt = self.expect(
            refusal, lambda: self.services.bookings.request(INTAKE, **fields, agency=asked)
        )
        if refusal is None:
            agency = asked or COMPETENT[district]
            self.model[receipt] = Expected(kind, route, agency, district, self.now())
            self.model[receipt].reply_from = self.now()

    def review_refusal(self, booking: Expected, jurisdiction: str | None) -> str | None:
        if jurisdiction is not None:
            return jurisdiction
        if booking.status is not BookingStatus.RECEIVED:
            return "illegal_transition"
        if booking.agency not in {COMPETENT[booking.district], DETACHMENT}:
            return "outside_remit"
        return None

    def forwarded(self, receipt: str, booking: Expected, events: int) -> None:
        late = self.now() > self.calendar.next_working_noon(booking.received_at)
        forwarded = next(e for e in self.stored(receipt) if isinstance(e, Booking.Forwarded))
        assert forwarded.late is late
        booking.status = BookingStatus.FORWARDED
        booking.events += events

    @precondition(has_bookings)
    @rule(data=st.data(), who=WHO)
    def forward(self, data: st.DataObject, who: str) -> None:
        receipt, booking = self.pick(data, BookingStatus.RECEIVED)
        actor, jurisdiction = self.window(booking, who)
        refusal = self.review_refusal(booking, jurisdiction)
        if refusal is None and booking.route == "notice_commitment":
            refusal = "permit_due_on_the_spot"
        self.expect(refusal, lambda: self.services.bookings.forward(actor, receipt, "防火监督科"))
        if refusal is None:
            self.forwarded(receipt, booking, 1)

    @precondition(has_bookings)
    @rule(data=st.data(), who=WHO)
    def issue_permit_on_commitment(self, data: st.DataObject, who: str) -> None:
        receipt, booking = self.pick(data, BookingStatus.RECEIVED)
        actor, jurisdiction = self.window(booking, who)
        refusal = self.review_refusal(booking, jurisdiction)
        if refusal is None and booking.route != "notice_commitment":
            refusal = "not_on_commitment_route"
        commitment = document("commitment")
        self.expect(
            refusal,
            lambda: self.services.bookings.issue_permit_on_commitment(
                actor, receipt, "防火监督科", commitment
            ),
        )
        if refusal is None:
            self.forwarded(receipt, booking, 2)
            booking.permit = True

    @precondition(has_bookings)
    @rule(data=st.data(), who=WHO)
    def reject(self, data: st.DataObject, who: str) -> None:
        receipt, booking = self.pick(data, BookingStatus.RECEIVED)
        actor, refusal = self.window(booking, who)
        if refusal is None and booking.status is not BookingStatus.RECEIVED:
            refusal = "illegal_transition"
        if refusal is None and booking.agency == COMPETENT[booking.district]:
            refusal = "agency_is_competent"
        competent = self.expect(refusal, lambda: self.services.bookings.reject(actor, receipt))
        if refusal is None:
            assert competent == COMPETENT[booking.district]
            booking.status = BookingStatus.REJECTED
            booking.events += 1

    # -- assignment and reply -----------------------------------------------------------------

    @precondition(some(*BEFORE_REPLY))
    @rule(
        data=st.data(),
        head=st.sampled_from(["own", "own", "detachment", "other brigade"]),
        main=st.sampled_from(["h1", "h1", "h2", "other agency", "clerk"]),
        assistants=st.sampled_from([[], [], ["h2"], ["h1"], ["h2", "h2"]]),
    )
    def assign(self, data: st.DataObject, head: str, main: str, assistants: list[str]) -> None:
        receipt, booking = self.pick(data, *BEFORE_REPLY)
        agency = {"own": booking.agency, "detachment": DETACHMENT}.get(head, OTHER[booking.agency])
        own, other = self.handlers[booking.agency], self.handlers[OTHER[booking.agency]]
        ids = {"h1": own[0].actor_id, "h2": own[1].actor_id, "other agency": other[0].actor_id}
        ids["clerk"] = self.clerk.actor_id
        refusal = None
        if agency not in {booking.agency, DETACHMENT}:
            refusal = "outside_jurisdiction"
        elif booking.status not in BEFORE_REPLY:
            refusal = "illegal_transition"
        elif main == "clerk":
            refusal = "not_a_handler"
        elif main == "other agency":
            refusal = "handler_of_another_agency"
        elif main in assistants or len(set(assistants)) != len(assistants):
            refusal = "handler_named_twice"
        named = [ids[a] for a in assistants]
        self.expect(
            refusal,
            lambda: self.services.bookings.assign(self.heads[agency], receipt, ids[main], named),
        )
        if refusal is None:
            booking.status = BookingStatus.ASSIGNED
            booking.main_handler = ids[main]
            booking.events += 1

    def handler(self, booking: Expected, main: bool) -> Actor:
        own = self.handlers[booking.agency]
        if main and booking.main_handler is not None:
            return next(h for h in own if h.actor_id == booking.main_handler)
        return next((h for h in own if h.actor_id != booking.main_handler), own[0])

    def reply_refusal(self, booking: Expected, actor: Actor) -> str | None:
        if booking.status is not BookingStatus.ASSIGNED:
            return "illegal_transition"
        if actor.actor_id != booking.main_handler:
            return "not_the_main_handler"
        return None

    @precondition(some(BookingStatus.ASSIGNED))
    @rule(
        data=st.data(),
        main=st.sampled_from([True, True, True, False]),
        days_ahead=st.integers(0, 6),  # weekends and this morning included: refused
        half=st.sampled_from(list(Half)),
        taken=st.booleans(),
    )
    def reply_with_slot(
        self, data: st.DataObject, main: bool, days_ahead: int, half: Half, taken: bool = False
    ) -> None:
        """A half day some days ahead, or (``taken``) one where a place is already held."""
        receipt, booking = self.pick(data, BookingStatus.ASSIGNED)
        day = to_shanghai_date(self.now()) + timedelta(days=days_ahead)
        held = sorted(k[1:] for k, v in self.places.items() if v and k[0] == booking.agency)
        if taken and held:
            day, half = data.draw(st.sampled_from(held), label="a half day with places held")
        actor = self.handler(booking, main)
        key = (booking.agency, day, half)
        refusal = self.reply_refusal(booking, actor)
        if refusal is None and not self.calendar.is_working_day(day):
            refusal = "not_a_working_day"
        elif refusal is None and slot_start(day, half) <= self.now():
            refusal = "slot_in_the_past"
        elif refusal is None and len(self.places.get(key, [])) >= CAPACITY[booking.agency]:
            refusal = "slot_full"
        late = self.reply_late(booking) if refusal is None else False
        self.expect(
            refusal,
            lambda: self.services.bookings.reply_with_slot(actor, receipt, day, str(half)),
        )
        if refusal is None:
            assert self.stored(receipt)[-1].late is late
            booking.status = BookingStatus.SLOT_OFFERED
            booking.slot = (day, half)
            booking.events += 1
            self.slot_events[key] = self.slot_events.get(key, 1) + 1
            self.places.setdefault(key, []).append(receipt)

    @precondition(some(BookingStatus.ASSIGNED))
    @rule(data=st.data(), main=st.sampled_from([True, True, False]))
    def reply_with_refusal(self, data: st.DataObject, main: bool) -> None:
        receipt, booking = self.pick(data, BookingStatus.ASSIGNED)
        actor = self.handler(booking, main)
        refusal = self.reply_refusal(booking, actor)
        if refusal is None and booking.permit:
            refusal = "site_check_required_after_permit"
        late = self.reply_late(booking) if refusal is None else False
        self.expect(
            refusal,
            lambda: self.services.bookings.reply_with_refusal(actor, receipt, "不具备检查条件"),
        )
        if refusal is None:
            assert self.stored(receipt)[-1].late is late
            booking.status = BookingStatus.REFUSED
            booking.events += 1

    # -- the applicant's answer and the result ------------------------------------------------

    @precondition(some(BookingStatus.SLOT_OFFERED))
    @rule(data=st.data(), by_window=st.booleans())
    def accept_slot(self, data: st.DataObject, by_window: bool) -> None:
        receipt, booking = self.pick(data, BookingStatus.SLOT_OFFERED)
        actor = Actor("window", Role.WINDOW_CLERK, booking.agency) if by_window else INTAKE
        refusal = None
        if booking.status is not BookingStatus.SLOT_OFFERED:
            refusal = "illegal_transition"
        elif booking.slot is not None and slot_start(*booking.slot) <= self.now():
            refusal = "slot_passed"
        self.expect(refusal, lambda: self.services.bookings.accept_slot(actor, receipt))
        if refusal is None:
            booking.status = BookingStatus.SCHEDULED
            booking.events += 1

    @precondition(some(BookingStatus.SLOT_OFFERED))
    @rule(data=st.data())
    def request_another_slot(self, data: st.DataObject) -> None:
        receipt, booking = self.pick(data, BookingStatus.SLOT_OFFERED)
        refusal = None if booking.status is BookingStatus.SLOT_OFFERED else "illegal_transition"
        self.expect(refusal, lambda: self.services.bookings.request_another_slot(INTAKE, receipt))
        if refusal is None:
            self.release(receipt, booking)
            booking.status = BookingStatus.ASSIGNED
            booking.reply_from = self.now()
            booking.events += 1

    @precondition(has_bookings)
    @rule(data=st.data(), really=st.sampled_from([False, False, False, True]))
    def cancel(self, data: st.DataObject, really: bool) -> None:
        """Mostly where it is refused: an accepted cancellation ends the life cycle."""
        if really:
            receipt, booking = self.pick(data, *CANCELLABLE)
        else:
            ended = [r for r, b in self.model.items() if b.status not in CANCELLABLE]
            if not ended:
                return
            receipt = data.draw(st.sampled_from(ended), label="receipt")
            booking = self.model[receipt]
        refusal = None
        if booking.status not in CANCELLABLE:
            refusal = "illegal_transition"
        elif booking.permit:
            refusal = "site_check_required_after_permit"
        elif (
            booking.status is BookingStatus.SCHEDULED
            and booking.slot is not None
            and slot_start(*booking.slot) <= self.now()
        ):
            refusal = "inspection_begun"
        self.expect(refusal, lambda: self.services.bookings.cancel(INTAKE, receipt, "不需要了"))
        if refusal is None:
            self.release(receipt, booking)
            booking.status = BookingStatus.CANCELLED
            booking.events += 1

    @precondition(some(BookingStatus.SCHEDULED))
    @rule(
        data=st.data(),
        main=st.sampled_from([True, True, False]),
        passed=st.booleans(),
        findings=st.lists(st.sampled_from(["疏散通道堵塞", " "]), max_size=2),
        recheck_after=st.sampled_from([None, 0, 1, 2, 4, 7]),
    )
    def record_result(
        self,
        data: st.DataObject,
        main: bool,
        passed: bool,
        findings: list[str],
        recheck_after: int | None,
    ) -> None:
        receipt, booking = self.pick(data, BookingStatus.SCHEDULED)
        actor = self.handler(booking, main)
        slot = booking.slot
        recheck = None
        if slot is not None and recheck_after is not None:
            recheck = slot[0] + timedelta(days=recheck_after)
        real = [f for f in findings if f.strip()]
        refusal = None
        if booking.status is not BookingStatus.SCHEDULED or slot is None:
            refusal = "illegal_transition"
        elif actor.actor_id != booking.main_handler:
            refusal = "not_the_main_handler"
        elif self.now() < slot_start(*slot):
            refusal = "inspection_not_begun"
        elif not passed and not real:
            refusal = "missing_findings"
        elif not passed and recheck is None:
            refusal = "missing_recheck_date"
        elif passed and recheck is not None:
            refusal = "recheck_without_failure"
        elif recheck is not None and (
            recheck <= slot[0] or not self.calendar.is_working_day(recheck)
        ):
            refusal = "invalid_recheck_date"
        self.expect(
            refusal,
            lambda: self.services.bookings.record_result(actor, receipt, passed, findings, recheck),
        )
        if refusal is None:
            booking.status = BookingStatus.INSPECTED
            booking.events += 1

    # -- along the usual path -----------------------------------------------------------------

    @precondition(some(*ADVANCING))
    @rule(data=st.data(), days_ahead=st.integers(1, 4), half=st.sampled_from(list(Half)))
    def advance(self, data: st.DataObject, days_ahead: int, half: Half) -> None:
        """One booking one step further along the usual path, through the same rules, so that
        random runs reach the end of the life cycle and compete for half days."""
        ready = [r for r, b in self.model.items() if b.status in ADVANCING]
        receipt = data.draw(st.sampled_from(ready), label="advance")
        booking = self.model[receipt]
        self.forced = receipt
        try:
            if booking.status is BookingStatus.RECEIVED:
                if booking.agency not in {COMPETENT[booking.district], DETACHMENT}:
                    self.reject(data, "own")
                elif booking.route == "notice_commitment":
                    self.issue_permit_on_commitment(data, "own")
                else:
                    self.forward(data, "own")
            elif booking.status is BookingStatus.FORWARDED:
                self.assign(data, "own", "h1", [])
            elif booking.status is BookingStatus.ASSIGNED:
                self.reply_with_slot(data, True, days_ahead, half)
            elif booking.status is BookingStatus.SLOT_OFFERED:
                self.accept_slot(data, False)
            else:
                assert booking.slot is not None
                begins = slot_start(*booking.slot) + timedelta(hours=1)
                self.clock.now = max(self.now(), begins)
                self.record_result(data, True, True, [], None)
        finally:
            self.forced = None

    # -- time ---------------------------------------------------------------------------------

    @precondition(lambda self: self.now() < LAST_MOVE)
    @rule(hours=st.integers(1, 60), minutes=st.integers(0, 59))
    def let_time_pass(self, hours: int, minutes: int) -> None:
        self.clock.advance(hours=hours, minutes=minutes)

    @precondition(lambda self: self.has_bookings() and self.now() < LAST_MOVE)
    @rule(
        data=st.data(),
        side=st.sampled_from([-1, 0, 1]),
        edge=st.sampled_from(["slot", "noon", "reply"]),
    )
    def go_to_an_edge(self, data: st.DataObject, side: int, edge: str) -> None:
        """Just before, at, or just after a deadline or the start of a half day."""
        _, booking = self.pick(data, *EDGE_STATUSES[edge])
        moments = {
            "noon": self.calendar.next_working_noon(booking.received_at),
            "reply": self.calendar.deadline_after(booking.reply_from or booking.received_at, 2),
            "slot": slot_start(*booking.slot) if booking.slot else None,
        }
        moment = moments[edge]
        if moment is not None and moment + timedelta(microseconds=side) > self.now():
            self.clock.now = moment + timedelta(microseconds=side)

    # -- invariants ---------------------------------------------------------------------------

    def stored(self, receipt: str) -> list[Any]:
        return list(self.services.context.app.events.get(booking_id(receipt)))

    @invariant()
    def stored_events_rebuild_the_state(self) -> None:
        for receipt, expected in self.model.items():
            loaded = self.services.bookings.load(receipt)
            events = self.stored(receipt)
            folded: Booking | None = None
            for stored in events:
                folded = stored.mutate(folded)
            assert isinstance(folded, Booking)
            assert loaded.version == folded.version == len(events) == expected.events
            state = (expected.status, expected.main_handler, expected.slot, expected.permit)
            for booking in (loaded, folded):
                permit = booking.permit_issued_at is not None
                assert (booking.status, booking.main_handler, booking.slot, permit) == state
            assert (loaded.reply_from, loaded.received_at) == (
                folded.reply_from,
                folded.received_at,
            )

    @invariant()
    def no_half_day_holds_more_than_its_capacity(self) -> None:
        app = self.services.context.app
        for (agency, day, half), receipts in self.places.items():
            slot_id = InspectionSlot.create_id(agency, day, half)
            slot: object = app.repository.get(slot_id)
            assert isinstance(slot, InspectionSlot)
            assert slot.booked == receipts
            assert len(slot.booked) <= CAPACITY[agency]
            events = list(app.events.get(slot_id))
            assert slot.version == len(events) == self.slot_events[(agency, day, half)]


def test_no_illegal_transition_is_accepted_and_no_legal_one_refused() -> None:
    run_state_machine_as_test(
        BookingLifeCycle,
        settings=settings(
            max_examples=60,
            stateful_step_count=80,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

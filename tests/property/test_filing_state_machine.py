"""The filing life cycle (RULES.md Art. 7-10) as a state machine, through the services.

A small model says what each command must do; Hypothesis runs random command sequences over
several filings against the in-memory store and checks that no illegal transition is ever
accepted and no legal one refused, with the refusal's exact code. The 5-working-day notice
period is computed with the platform's own calendar; the clock moves by random hours across
nights and weekends and jumps to either side of a deadline.

After every step the state rebuilt from the stored events equals the loaded aggregate and the
model, and the aggregate's version is the number of its stored events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from domain.calendar import SHANGHAI, to_shanghai_date
from domain.errors import DomainError
from domain.filing import CHECKLISTS, Filing, FilingKind, FilingStatus, Material, NoticeItem
from domain.services import Services
from domain.services.filings import REVIEW_WORKING_DAYS, filing_id
from projections.internal.filings import project
from tests.support import Clock, document, filing_input, materials, memory_services

# Keep every receipt and deadline inside 2026: the bundled calendar ends with that year.
# The clock moves only before 11 December, so it reaches the 18th at the latest (just past the
# deadline of a case received on the 10th), and a case received on the 18th is due the 25th.
LAST_MOVE = datetime(2026, 12, 11, tzinfo=SHANGHAI)
COMPETENT = {"金水区": "zz-jinshui", "二七区": "zz-erqi"}
OTHER_BRIGADE = {"zz-jinshui": "zz-erqi", "zz-erqi": "zz-jinshui"}
DECIDED = frozenset(FilingStatus) - {FilingStatus.RECEIVED, FilingStatus.AWAITING_SUPPLEMENT}
MAX_FILINGS = 3  # few filings, so that random runs take them far through their life cycle
# Hypothesis leans towards the first choice; three in four prefer a legal target.
PREFER_FITTING = st.sampled_from([True, True, True, False])
# Who at the window acts: mostly the filing's own brigade, sometimes one outside it (the
# detachment's window included: the window acts for its own agency only).
WHO = st.sampled_from(["own", "own", "own", "detachment", "other brigade"])
SAME_PERSON = "person-1"  # a handler who also holds the approver role
ITEM_CHANGES = st.lists(st.sampled_from(["keep", "drop", "v1", "v2", "v3"]), min_size=6, max_size=6)

assert all(len(checklist) == 6 for checklist in CHECKLISTS.values())


@dataclass
class Expected:
    """What the model believes about one filing."""

    kind: FilingKind
    agency: str
    district: str
    received_at: datetime
    documents: dict[str, str]
    status: FilingStatus = FilingStatus.RECEIVED
    notices: int = 0
    last_notice: set[str] = field(default_factory=set)  # what the last notice named
    changed: set[str] = field(default_factory=set)  # what changed since the last notice
    recorded_by: str | None = None
    certificate: str | None = None
    events: int = 1

    def items(self, indices: set[int] | list[int]) -> list[str]:
        checklist = list(CHECKLISTS[self.kind])
        return [checklist[i] for i in sorted(indices)]

    def missing_required(self) -> bool:
        return any(
            required and item not in self.documents
            for item, (_, required) in CHECKLISTS[self.kind].items()
        )


class FilingLifeCycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.services: Services = memory_services(self.clock)
        self.model: dict[str, Expected] = {}
        self.taken: Counter[tuple[str, str, int]] = Counter()

    # -- helpers ------------------------------------------------------------------------------

    def window(self, filing: Expected, who: str) -> Actor:
        agency = {
            "own": filing.agency,
            "detachment": "zz",
            "other brigade": OTHER_BRIGADE[filing.agency],
        }[who]
        return Actor(f"window-{agency}", Role.WINDOW_CLERK, agency)

    @staticmethod
    def jurisdiction_refusal(who: str) -> str | None:
        return None if who == "own" else "outside_jurisdiction"

    def expect(self, refusal: str | None, command: Callable[[], Any]) -> Any:
        """Run ``command``: it must succeed if ``refusal`` is None, else fail with that code."""
        if refusal is None:
            return command()
        with pytest.raises(DomainError) as refused:
            command()
        assert refused.value.code == refusal, refused.value.message_en
        return None

    def accepted(self, filing: Expected) -> None:
        filing.events += 1

    def pick(self, data: st.DataObject, *legal: FilingStatus) -> tuple[str, Expected]:
        """A filing, most often one in a status where the command is legal (if there is one),
        so that random runs reach the end of the life cycle and not only its refusals."""
        receipts = list(self.model)  # in order of submission: receipt numbers are random
        fitting = [r for r in receipts if self.model[r].status in legal]
        prefer_fitting = data.draw(PREFER_FITTING, label="prefer a fitting filing")
        if fitting and prefer_fitting:
            receipts = fitting
        receipt = data.draw(st.sampled_from(receipts), label="receipt")
        return receipt, self.model[receipt]

    def has_filings(self) -> bool:
        return bool(self.model)

    # -- commands -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < MAX_FILINGS)
    @rule(
        kind=st.sampled_from(list(FilingKind)),
        left_out=st.one_of(st.just(set()), st.sets(st.integers(0, 5), max_size=2)),
        district=st.sampled_from(sorted(COMPETENT)),
        asked=st.sampled_from([None, "zz-jinshui", "zz-erqi"]),
    )
    def submit(
        self, kind: FilingKind, left_out: set[int], district: str, asked: str | None
    ) -> None:
        agency = asked or COMPETENT[district]
        filing = Expected(kind, agency, district, self.clock(), {})
        handed_in = materials(str(kind), leave_out=tuple(filing.items(left_out)))
        filing.documents = {m["item"]: m["document"] for m in handed_in}
        receipt = self.services.filings.submit(
            self.window(filing, "own"),
            **filing_input(kind=str(kind), district=district, materials=handed_in),
            agency=asked,
        )
        self.model[receipt] = filing

    @precondition(has_filings)
    @rule(
        data=st.data(),
        indices=st.sets(st.integers(0, 5), min_size=1),
        problem=st.sampled_from(["missing", "defective"]),
        who=WHO,
    )
    def issue_supplement_notice(
        self, data: st.DataObject, indices: set[int], problem: str, who: str
    ) -> None:
        receipt, filing = self.pick(data, FilingStatus.RECEIVED)
        items = filing.items(indices)
        refusal = self.jurisdiction_refusal(who)
        if refusal is None and filing.status is not FilingStatus.RECEIVED:
            refusal = "illegal_transition"
        if refusal is None and self.review_period_over(filing):
            refusal = "supplement_notice_too_late"
        # 一次告知: after a notice, only what changed since, or what the last notice named.
        if (
            refusal is None
            and filing.notices
            and set(items) - (filing.changed | filing.last_notice)
        ):
            refusal = "notice_names_unchanged_items"
        notice = [NoticeItem(item=i, problem=problem, reason="须补正") for i in items]
        self.expect(
            refusal,
            lambda: self.services.filings.issue_supplement_notice(
                self.window(filing, who), receipt, notice
            ),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.AWAITING_SUPPLEMENT
            filing.notices += 1
            filing.last_notice = set(items)
            filing.changed = set()

    @precondition(has_filings)
    @rule(data=st.data(), changes=ITEM_CHANGES, who=WHO)
    def resubmit(self, data: st.DataObject, changes: list[str], who: str) -> None:
        receipt, filing = self.pick(data, FilingStatus.AWAITING_SUPPLEMENT)
        new: dict[str, str] = {}
        for item, change in zip(CHECKLISTS[filing.kind], changes, strict=True):
            if change == "keep" and item in filing.documents:
                new[item] = filing.documents[item]
            elif change.startswith("v"):
                new[item] = document(f"{filing.kind}:{item}:{change[1:]}")
        changed = {
            i for i in set(new) | set(filing.documents) if new.get(i) != filing.documents.get(i)
        }
        refusal = self.jurisdiction_refusal(who)
        if refusal is None and filing.status is not FilingStatus.AWAITING_SUPPLEMENT:
            refusal = "illegal_transition"
        if refusal is None and not changed:
            refusal = "nothing_changed"
        handed_in = [
            Material(item=i, document=d, file_name=f"{i}.pdf", size=1, media_type="application/pdf")
            for i, d in new.items()
        ]
        self.expect(
            refusal,
            lambda: self.services.filings.resubmit(self.window(filing, who), receipt, handed_in),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.RECEIVED
            filing.documents = new
            filing.changed = changed
            filing.received_at = self.clock()

    def review_period_over(self, filing: Expected) -> bool:
        deadline = self.services.context.calendar.deadline_after(
            filing.received_at, REVIEW_WORKING_DAYS
        )
        return bool(self.clock() > deadline)

    @precondition(has_filings)
    @rule(data=st.data(), who=WHO)
    def issue_certificate(self, data: st.DataObject, who: str) -> None:
        receipt, filing = self.pick(data, FilingStatus.RECEIVED)
        refusal = self.jurisdiction_refusal(who)
        if refusal is None and filing.status is not FilingStatus.RECEIVED:
            refusal = "illegal_transition"
        if refusal is None and filing.missing_required() and not self.review_period_over(filing):
            refusal = "materials_incomplete"
        number = self.expect(
            refusal,
            lambda: self.services.filings.issue_certificate(self.window(filing, who), receipt),
        )
        if refusal is None:
            year = to_shanghai_date(self.clock()).year
            scope = (filing.agency, str(filing.kind), year)
            self.taken[scope] += 1
            prefix = self.services.context.agencies.get(filing.agency).certificate_prefixes
            assert number == f"{prefix[str(filing.kind)]}〔{year}〕第{self.taken[scope]:04d}号"
            self.accepted(filing)
            filing.status = FilingStatus.CERTIFIED
            filing.certificate = number

    @precondition(has_filings)
    @rule(data=st.data(), who=WHO)
    def withdraw(self, data: st.DataObject, who: str) -> None:
        # Mostly try it where it is refused: an accepted withdrawal ends the life cycle.
        receipt, filing = self.pick(data, *DECIDED)
        refusal = self.jurisdiction_refusal(who)
        open_statuses = {FilingStatus.RECEIVED, FilingStatus.AWAITING_SUPPLEMENT}
        if refusal is None and filing.status not in open_statuses:
            refusal = "illegal_transition"
        self.expect(
            refusal,
            lambda: self.services.filings.withdraw(self.window(filing, who), receipt, "申请撤回"),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.WITHDRAWN

    @precondition(has_filings)
    @rule(data=st.data(), who=WHO)
    def refer(self, data: st.DataObject, who: str) -> None:
        receipt, filing = self.pick(data, *DECIDED)  # as for withdrawal
        refusal = self.jurisdiction_refusal(who)
        if refusal is None and filing.status is not FilingStatus.RECEIVED:
            refusal = "illegal_transition"
        if refusal is None and filing.agency == COMPETENT[filing.district]:
            refusal = "agency_is_competent"
        competent = self.expect(
            refusal, lambda: self.services.filings.refer(self.window(filing, who), receipt)
        )
        if refusal is None:
            assert competent == COMPETENT[filing.district]
            self.accepted(filing)
            filing.status = FilingStatus.REFERRED

    @precondition(has_filings)
    @rule(data=st.data(), by_system=st.booleans())
    def select_for_inspection(self, data: st.DataObject, by_system: bool) -> None:
        receipt, filing = self.pick(data, FilingStatus.CERTIFIED)
        actor = Actor.system("zz", "draw") if by_system else Actor("head", Role.DEPT_HEAD, "zz")
        refusal = None if filing.status is FilingStatus.CERTIFIED else "illegal_transition"
        self.expect(
            refusal,
            lambda: self.services.filings.select_for_inspection(actor, receipt, "抽签记录"),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.SELECTED

    @precondition(has_filings)
    @rule(
        data=st.data(),
        handler=st.sampled_from([SAME_PERSON, "handler-2"]),
        passed=st.sampled_from([True, False]),
        findings=st.lists(st.sampled_from(["疏散通道堵塞", "", "  "]), max_size=2),
    )
    def record_inspection_result(
        self, data: st.DataObject, handler: str, passed: bool, findings: list[str]
    ) -> None:
        receipt, filing = self.pick(data, FilingStatus.SELECTED)
        refusal = None if filing.status is FilingStatus.SELECTED else "illegal_transition"
        if refusal is None and not passed and not any(f.strip() for f in findings):
            refusal = "missing_findings"
        actor = Actor(handler, Role.HANDLER, filing.agency)  # handlers act in their own agency
        self.expect(
            refusal,
            lambda: self.services.filings.record_inspection_result(
                actor, receipt, passed, findings
            ),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.INSPECTED
            filing.recorded_by = handler

    @precondition(has_filings)
    @rule(data=st.data(), approver=st.sampled_from([SAME_PERSON, "approver-2"]))
    def approve_result_for_publication(self, data: st.DataObject, approver: str) -> None:
        receipt, filing = self.pick(data, FilingStatus.INSPECTED)
        refusal = None if filing.status is FilingStatus.INSPECTED else "illegal_transition"
        if refusal is None and approver == filing.recorded_by:
            refusal = "approver_is_drafter"
        actor = Actor(approver, Role.APPROVER, "zz")
        self.expect(
            refusal,
            lambda: self.services.filings.approve_result_for_publication(actor, receipt),
        )
        if refusal is None:
            self.accepted(filing)
            filing.status = FilingStatus.RESULT_PUBLISHED

    # -- time ---------------------------------------------------------------------------------

    @precondition(lambda self: self.clock() < LAST_MOVE)
    @rule(hours=st.integers(1, 72), minutes=st.integers(0, 59))
    def let_time_pass(self, hours: int, minutes: int) -> None:
        self.clock.advance(hours=hours, minutes=minutes)

    @precondition(lambda self: self.model and self.clock() < LAST_MOVE)
    @rule(data=st.data(), side=st.sampled_from([-1, 0, 1]))
    def go_to_the_edge_of_the_review_deadline(self, data: st.DataObject, side: int) -> None:
        _, filing = self.pick(data, FilingStatus.RECEIVED)
        deadline = self.services.context.calendar.deadline_after(
            filing.received_at, REVIEW_WORKING_DAYS
        )
        moment = deadline + timedelta(microseconds=side)
        if moment > self.clock():  # the clock never runs backwards
            self.clock.now = moment

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def stored_events_rebuild_the_state(self) -> None:
        app = self.services.context.app
        for receipt, expected in self.model.items():
            loaded: Any = app.repository.get(filing_id(receipt))
            events: list[Any] = list(app.events.get(filing_id(receipt)))
            folded: Filing | None = None
            row: dict[str, Any] | None = None
            for stored in events:
                folded = stored.mutate(folded)
                row = project(row, stored)
            assert isinstance(loaded, Filing)
            assert isinstance(folded, Filing)
            assert row is not None
            assert loaded.version == len(events) == expected.events
            assert (loaded.status, loaded.certificate_number) == (
                expected.status,
                expected.certificate,
            )
            assert (folded.status, folded.version, folded.certificate_number) == (
                loaded.status,
                loaded.version,
                loaded.certificate_number,
            )
            assert (row["status"], row["version"], row["certificate_number"]) == (
                str(expected.status),
                expected.events,
                expected.certificate,
            )

    @invariant()
    def certificate_numbers_are_unique(self) -> None:
        numbers = [f.certificate for f in self.model.values() if f.certificate is not None]
        assert len(numbers) == len(set(numbers)) == sum(self.taken.values())


def test_no_illegal_transition_is_accepted_and_no_legal_one_refused() -> None:
    run_state_machine_as_test(
        FilingLifeCycle,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

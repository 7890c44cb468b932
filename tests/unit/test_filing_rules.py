"""Filings (RULES.md Art. 7-10) through the application services on the in-memory store.

One test per rule: the certificate and its number, the one complete supplement notice within
5 working days, resubmission, withdrawal, referral to the competent agency, the spot check
and its result, who may act, and what every stored event carries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.errors import (
    ConcurrentChange,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    OutsideJurisdiction,
)
from domain.events import by
from domain.filing import Filing, FilingStatus, Material, NoticeItem
from domain.numbering import NumberSequence
from domain.sealing import ERASED, is_sealed
from domain.services import Services
from domain.services.filings import filing_id
from tests.support import Clock, credit_code, document, filing_input, materials, memory_services

JINSHUI_WINDOW = Actor("window-jinshui", Role.WINDOW_CLERK, "zz-jinshui")
ERQI_WINDOW = Actor("window-erqi", Role.WINDOW_CLERK, "zz-erqi")
DETACHMENT_WINDOW = Actor("window-zz", Role.WINDOW_CLERK, "zz")
JINSHUI_HEAD = Actor("head-jinshui", Role.DEPT_HEAD, "zz-jinshui")
JINSHUI_HANDLER = Actor("handler-jinshui", Role.HANDLER, "zz-jinshui")
JINSHUI_APPROVER = Actor("approver-jinshui", Role.APPROVER, "zz-jinshui")
GOOD_CODE = credit_code("org")
WRONG_CHECK_CHARACTER = GOOD_CODE[:-1] + ("1" if GOOD_CODE[-1] != "1" else "2")


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Tuesday 2026-11-24 09:30, Asia/Shanghai


@pytest.fixture
def services(clock: Clock) -> Services:
    built: Services = memory_services(clock)
    return built


def submit(services: Services, actor: Actor = JINSHUI_WINDOW, **overrides: Any) -> str:
    return services.filings.submit(actor, **filing_input(**overrides))


def notice(*items: str, problem: str = "missing") -> list[NoticeItem]:
    return [NoticeItem(item=item, problem=problem, reason=f"请补正{item}") for item in items]


def stored_events(services: Services, receipt: str) -> list[Any]:
    return list(services.context.app.events.get(filing_id(receipt)))


def certified_and_selected(services: Services) -> str:
    receipt = submit(services)
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    services.filings.select_for_inspection(JINSHUI_HEAD, receipt, "抽签记录 2026-11-001")
    return receipt


# -- certificate and its number ---------------------------------------------------------------


def test_complete_materials_get_a_certificate_numbered_for_the_agency_kind_and_year(
    services: Services,
) -> None:
    receipt = submit(services)

    number = services.filings.issue_certificate(JINSHUI_WINDOW, receipt)

    assert number == "郑金消设备字〔2026〕第0001号"
    filing = services.filings.load(receipt)
    assert filing.status is FilingStatus.CERTIFIED
    assert filing.certificate_number == number


def test_certificate_numbers_run_densely_per_agency_kind_and_year(
    services: Services, clock: Clock
) -> None:
    def certify(actor: Actor = JINSHUI_WINDOW, **overrides: Any) -> str:
        return services.filings.issue_certificate(actor, submit(services, actor, **overrides))

    first = certify()
    second = certify()
    completion = certify(kind="completion", materials=materials("completion"))
    other_agency = certify(ERQI_WINDOW, district="二七区", project_address="二七区大学路 2 号")
    third = certify()
    clock.now = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    next_year = certify()

    assert [first, second, third] == [
        "郑金消设备字〔2026〕第0001号",
        "郑金消设备字〔2026〕第0002号",
        "郑金消设备字〔2026〕第0003号",
    ]
    assert completion == "郑金消竣备字〔2026〕第0001号"
    assert other_agency == "郑二消设备字〔2026〕第0001号"
    assert next_year == "郑金消设备字〔2027〕第0001号"


def test_a_refused_certificate_takes_no_number(services: Services) -> None:
    incomplete = submit(services, materials=materials(leave_out=("construction_permit",)))
    with pytest.raises(IllegalTransition):
        services.filings.issue_certificate(JINSHUI_WINDOW, incomplete)

    assert services.filings.issue_certificate(JINSHUI_WINDOW, submit(services)).endswith("第0001号")


# -- one complete supplement notice within 5 working days ------------------------------------


def test_incomplete_materials_get_one_notice_listing_all_items(services: Services) -> None:
    # The planning permit is only needed for new or extended works: leaving it out is fine.
    left_out = ("planning_permit", "designer_qualification", "construction_permit")
    receipt = submit(services, materials=materials(leave_out=left_out))

    with pytest.raises(IllegalTransition) as refused:
        services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    assert refused.value.code == "materials_incomplete"
    assert refused.value.details["items"] == ["designer_qualification", "construction_permit"]

    items = notice("designer_qualification", "construction_permit")
    services.filings.issue_supplement_notice(JINSHUI_WINDOW, receipt, items)

    assert services.filings.load(receipt).status is FilingStatus.AWAITING_SUPPLEMENT
    issued = stored_events(services, receipt)[-1]
    assert isinstance(issued, Filing.SupplementNoticeIssued)
    assert issued.items == items


def test_the_notice_period_ends_with_the_fifth_working_day_after_receipt(
    services: Services,
) -> None:
    receipt = submit(services)  # Tue 2026-11-24; Sat 28 and Sun 29 are not counted

    deadline = services.filings.review_deadline(services.filings.load(receipt))

    assert deadline == datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=SHANGHAI)


def test_a_notice_at_2359_on_the_fifth_working_day_is_in_time(
    services: Services, clock: Clock
) -> None:
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    clock.advance(days=7, hours=14, minutes=29)
    assert clock.now == datetime(2026, 12, 1, 23, 59, tzinfo=SHANGHAI)

    services.filings.issue_supplement_notice(JINSHUI_WINDOW, receipt, notice("construction_permit"))

    assert services.filings.load(receipt).status is FilingStatus.AWAITING_SUPPLEMENT


def test_a_notice_after_the_fifth_working_day_is_too_late(services: Services, clock: Clock) -> None:
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    clock.advance(days=7, hours=14, minutes=30)
    assert clock.now == datetime(2026, 12, 2, 0, 0, tzinfo=SHANGHAI)

    with pytest.raises(IllegalTransition) as refused:
        services.filings.issue_supplement_notice(
            JINSHUI_WINDOW, receipt, notice("construction_permit")
        )

    assert refused.value.code == "supplement_notice_too_late"
    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


def test_after_the_notice_period_incomplete_materials_count_as_complete(
    services: Services, clock: Clock
) -> None:
    """Administrative Licensing Law Art. 32: no notice within 5 working days means the case
    counts as received complete, so the window certifies it and the event says why."""
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    with pytest.raises(IllegalTransition) as refused:
        services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    assert refused.value.code == "materials_incomplete"

    clock.advance(days=7, hours=14, minutes=30)  # 00:00 after the fifth working day
    number = services.filings.issue_certificate(JINSHUI_WINDOW, receipt)

    certified = stored_events(services, receipt)[-1]
    assert isinstance(certified, Filing.CertificateIssued)
    assert certified.certificate_number == number
    assert certified.deemed_complete is True


def test_complete_materials_are_not_marked_deemed_complete(services: Services) -> None:
    receipt = submit(services)
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    assert stored_events(services, receipt)[-1].deemed_complete is False


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda s, r: s.filings.withdraw(JINSHUI_WINDOW, r, "撤回\x00"), "reason"),
        (
            lambda s, r: s.filings.issue_supplement_notice(
                JINSHUI_WINDOW,
                r,
                [NoticeItem(item="construction_permit", problem="missing", reason="缺\x07")],
            ),
            "items",
        ),
    ],
)
def test_control_characters_in_free_text_are_refused(
    services: Services, command: Callable[[Services, str], Any], field: str
) -> None:
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    before = len(stored_events(services, receipt))

    with pytest.raises(InvalidInput) as refused:
        command(services, receipt)

    assert refused.value.field == field
    assert refused.value.code == "invalid_text"
    assert len(stored_events(services, receipt)) == before


def test_control_characters_in_findings_are_refused(services: Services) -> None:
    receipt = certified_and_selected(services)
    with pytest.raises(InvalidInput) as refused:
        services.filings.record_inspection_result(
            JINSHUI_HANDLER, receipt, False, ["疏散通道堵塞\x00"]
        )
    assert refused.value.field == "findings"


def noticed_then_resubmitted(services: Services) -> str:
    """First notice names construction_permit (missing) and fire_design_documents (defective);
    the applicant adds the permit and changes the application form, nothing else."""
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    services.filings.issue_supplement_notice(
        JINSHUI_WINDOW,
        receipt,
        notice("construction_permit") + notice("fire_design_documents", problem="defective"),
    )
    resubmitted = [
        Material(**{**m, "document": document("application_form:2")})
        if m["item"] == "application_form"
        else m
        for m in materials()
    ]
    services.filings.resubmit(JINSHUI_WINDOW, receipt, resubmitted)
    changed = stored_events(services, receipt)[-1]
    assert changed.changed_items == ["application_form", "construction_permit"]
    return receipt


def test_a_second_notice_may_not_name_an_unchanged_item_the_first_notice_left_out(
    services: Services,
) -> None:
    receipt = noticed_then_resubmitted(services)
    version = services.filings.load(receipt).version

    with pytest.raises(IllegalTransition) as refused:
        services.filings.issue_supplement_notice(
            JINSHUI_WINDOW, receipt, notice("application_form", "designer_qualification")
        )

    assert refused.value.code == "notice_names_unchanged_items"
    assert refused.value.details["items"] == ["designer_qualification"]
    assert services.filings.load(receipt).version == version


@pytest.mark.parametrize(
    "item",
    [
        pytest.param("application_form", id="changed-since-the-first-notice"),
        pytest.param("fire_design_documents", id="named-before-and-still-unchanged"),
    ],
)
def test_a_second_notice_may_name_changed_items_and_items_named_before(
    services: Services, item: str
) -> None:
    receipt = noticed_then_resubmitted(services)

    services.filings.issue_supplement_notice(
        JINSHUI_WINDOW, receipt, notice(item, problem="defective")
    )

    filing = services.filings.load(receipt)
    assert filing.status is FilingStatus.AWAITING_SUPPLEMENT
    assert filing.notices == 2


def with_documents(**versions: str) -> list[Material]:
    """The whole design checklist, the named items in another version of their document."""
    return [
        Material(**{**m, "document": document(f"design:{m['item']}:{versions[m['item']]}")})
        if m["item"] in versions
        else m
        for m in materials()
    ]


def test_a_third_notice_may_not_name_an_item_fixed_before_the_second_and_untouched_since(
    services: Services,
) -> None:
    """一次告知 looks back to the LAST notice: an item the first notice named, put right in the
    first resubmission and untouched in the second, could have been named in the second."""
    receipt = submit(services, materials=materials(leave_out=("construction_permit",)))
    filings = services.filings
    filings.issue_supplement_notice(JINSHUI_WINDOW, receipt, notice("construction_permit"))
    filings.resubmit(JINSHUI_WINDOW, receipt, with_documents(application_form="2"))
    filings.issue_supplement_notice(
        JINSHUI_WINDOW, receipt, notice("application_form", problem="defective")
    )
    filings.resubmit(JINSHUI_WINDOW, receipt, with_documents(application_form="3"))
    version = filings.load(receipt).version

    with pytest.raises(IllegalTransition) as refused:
        filings.issue_supplement_notice(
            JINSHUI_WINDOW, receipt, notice("construction_permit", problem="defective")
        )

    assert refused.value.code == "notice_names_unchanged_items"
    assert refused.value.details["items"] == ["construction_permit"]
    assert filings.load(receipt).version == version
    filings.issue_supplement_notice(
        JINSHUI_WINDOW, receipt, notice("application_form", problem="defective")
    )
    assert filings.load(receipt).notices == 3


def test_resubmitting_identical_materials_is_refused(services: Services) -> None:
    receipt = submit(services)
    services.filings.issue_supplement_notice(
        JINSHUI_WINDOW, receipt, notice("fire_design_documents", problem="defective")
    )

    with pytest.raises(InvalidInput) as refused:
        services.filings.resubmit(JINSHUI_WINDOW, receipt, materials())

    assert refused.value.code == "nothing_changed"
    assert services.filings.load(receipt).status is FilingStatus.AWAITING_SUPPLEMENT


# -- withdrawal and referral ------------------------------------------------------------------


@pytest.mark.parametrize(
    "supplement", [pytest.param(False, id="received"), pytest.param(True, id="awaiting-supplement")]
)
def test_a_filing_may_be_withdrawn_before_it_is_decided(
    services: Services, supplement: bool
) -> None:
    receipt = submit(services)
    if supplement:
        services.filings.issue_supplement_notice(
            JINSHUI_WINDOW, receipt, notice("fire_design_documents", problem="defective")
        )

    services.filings.withdraw(JINSHUI_WINDOW, receipt, "  建设单位书面申请撤回  ")

    assert services.filings.load(receipt).status is FilingStatus.WITHDRAWN
    assert stored_events(services, receipt)[-1].reason == "建设单位书面申请撤回"


def test_a_certified_filing_cannot_be_withdrawn(services: Services) -> None:
    receipt = submit(services)
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)

    with pytest.raises(IllegalTransition) as refused:
        services.filings.withdraw(JINSHUI_WINDOW, receipt, "建设单位书面申请撤回")

    assert refused.value.code == "illegal_transition"
    assert services.filings.load(receipt).status is FilingStatus.CERTIFIED


def test_a_filing_asked_of_the_wrong_brigade_is_referred_to_the_competent_one(
    services: Services,
) -> None:
    receipt = submit(services, ERQI_WINDOW, agency="zz-erqi")  # a 金水区 project

    competent = services.filings.refer(ERQI_WINDOW, receipt)

    assert competent == "zz-jinshui"
    assert services.filings.load(receipt).status is FilingStatus.REFERRED
    assert stored_events(services, receipt)[-1].competent_agency == "zz-jinshui"


def test_the_competent_brigade_cannot_refer_a_filing(services: Services) -> None:
    receipt = submit(services)

    with pytest.raises(IllegalTransition) as refused:
        services.filings.refer(JINSHUI_WINDOW, receipt)

    assert refused.value.code == "agency_is_competent"
    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


# -- spot check and its result ---------------------------------------------------------------


def test_only_a_certified_filing_can_be_selected_for_inspection(services: Services) -> None:
    receipt = submit(services)
    with pytest.raises(IllegalTransition):
        services.filings.select_for_inspection(JINSHUI_HEAD, receipt, "抽签记录 2026-11-001")

    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    services.filings.select_for_inspection(JINSHUI_HEAD, receipt, "抽签记录 2026-11-001")

    assert services.filings.load(receipt).status is FilingStatus.SELECTED


@pytest.mark.parametrize("findings", [[], ["   "]], ids=["none", "blank"])
def test_a_failed_inspection_must_list_its_findings(
    services: Services, findings: list[str]
) -> None:
    receipt = certified_and_selected(services)

    with pytest.raises(InvalidInput) as refused:
        services.filings.record_inspection_result(JINSHUI_HANDLER, receipt, False, findings)

    assert refused.value.code == "missing_findings"
    assert refused.value.field == "findings"
    assert services.filings.load(receipt).status is FilingStatus.SELECTED


def test_a_failed_inspection_with_findings_is_recorded(services: Services) -> None:
    receipt = certified_and_selected(services)

    services.filings.record_inspection_result(
        JINSHUI_HANDLER, receipt, False, [" 疏散指示标志设置不符合设计 ", ""]
    )

    recorded = stored_events(services, receipt)[-1]
    assert isinstance(recorded, Filing.InspectionResultRecorded)
    assert (recorded.passed, recorded.findings) == (False, ["疏散指示标志设置不符合设计"])


def test_the_person_who_recorded_the_result_cannot_approve_it(
    services: Services, clock: Clock
) -> None:
    receipt = certified_and_selected(services)
    services.filings.record_inspection_result(JINSHUI_HANDLER, receipt, True, [])
    filing = services.filings.load(receipt)
    same_person = Actor(JINSHUI_HANDLER.actor_id, Role.APPROVER, "zz-jinshui")

    with pytest.raises(IllegalTransition) as refused:
        filing.approve_result_for_publication(**by(same_person, clock()))
    assert refused.value.code == "approver_is_drafter"
    # The same through the service: one account that holds both roles.
    with pytest.raises(IllegalTransition):
        services.filings.approve_result_for_publication(same_person, receipt)

    services.filings.approve_result_for_publication(JINSHUI_APPROVER, receipt)
    assert services.filings.load(receipt).status is FilingStatus.RESULT_PUBLISHED


# -- who acts, and what every event carries ---------------------------------------------------


def test_every_event_carries_actor_role_agency_and_time(services: Services, clock: Clock) -> None:
    steps: list[tuple[Actor, datetime]] = []

    def at(actor: Actor) -> Actor:
        clock.advance(hours=1)
        steps.append((actor, clock()))
        return actor

    receipt = submit(services, at(ERQI_WINDOW), agency="zz-erqi", materials=materials())
    filings = services.filings
    colleague = Actor("window-erqi-2", Role.WINDOW_CLERK, "zz-erqi")
    filings.issue_supplement_notice(at(colleague), receipt, notice("construction_permit"))
    filings.resubmit(at(ERQI_WINDOW), receipt, materials(version="2"))
    filings.issue_certificate(at(ERQI_WINDOW), receipt)
    filings.select_for_inspection(at(Actor.system("zz", "draw")), receipt, "抽签记录 2026-11-002")
    filings.record_inspection_result(
        at(Actor("h-erqi", Role.HANDLER, "zz-erqi")), receipt, True, []
    )
    filings.approve_result_for_publication(at(Actor("a-zz", Role.APPROVER, "zz")), receipt)

    events = stored_events(services, receipt)
    assert [type(e).__name__ for e in events] == [
        "Submitted",
        "SupplementNoticeIssued",
        "Resubmitted",
        "CertificateIssued",
        "SelectedForInspection",
        "InspectionResultRecorded",
        "ResultApprovedForPublication",
    ]
    assert [(e.actor_id, e.actor_role, e.actor_agency, e.timestamp) for e in events] == [
        (actor.actor_id, str(actor.role), actor.agency, moment) for actor, moment in steps
    ]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("district", "海淀区", "unknown_district"),
        ("credit_code", WRONG_CHECK_CHARACTER, "invalid_credit_code"),
        ("credit_code", "91410105MA44", "invalid_credit_code"),
        ("contact_phone", "12812345678", "invalid_mobile"),
        ("contact_phone", "1381234567", "invalid_mobile"),
    ],
)
def test_wrong_input_is_refused_naming_the_field(
    services: Services, field: str, value: str, code: str
) -> None:
    assert value != filing_input()[field]

    with pytest.raises(InvalidInput) as refused:
        submit(services, JINSHUI_WINDOW, **{field: value})

    assert (refused.value.field, refused.value.code) == (field, code)
    assert services.context.app.recorder.max_notification_id() is None


def test_a_brigade_clerk_cannot_act_on_another_brigades_filing(services: Services) -> None:
    receipt = submit(services)

    with pytest.raises(OutsideJurisdiction):
        services.filings.issue_certificate(ERQI_WINDOW, receipt)
    with pytest.raises(OutsideJurisdiction):
        submit(services, ERQI_WINDOW)  # a 金水区 project goes to 金水 unless asked of 二七

    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


def test_a_detachment_clerk_acts_on_the_detachments_filings_but_not_a_brigades(
    services: Services,
) -> None:
    """The window acts for its own agency: a detachment clerk certifying a brigade's filing
    would number it in the brigade's name (RULES.md "Who acts")."""
    brigades = submit(services)
    detachments = submit(services, DETACHMENT_WINDOW, agency="zz")

    with pytest.raises(OutsideJurisdiction):
        services.filings.issue_certificate(DETACHMENT_WINDOW, brigades)
    number = services.filings.issue_certificate(DETACHMENT_WINDOW, detachments)

    assert number == "郑消设备字〔2026〕第0001号"  # the detachment's own prefix
    assert services.filings.load(brigades).status is FilingStatus.RECEIVED
    assert services.filings.issue_certificate(JINSHUI_WINDOW, brigades).endswith("第0001号")


def test_the_detachments_heads_and_approvers_act_for_the_whole_city_its_handlers_do_not(
    services: Services,
) -> None:
    receipt = submit(services)
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    services.filings.select_for_inspection(Actor("head-zz", Role.DEPT_HEAD, "zz"), receipt, "抽签")

    with pytest.raises(OutsideJurisdiction):
        services.filings.record_inspection_result(
            Actor("handler-zz", Role.HANDLER, "zz"), receipt, True, []
        )
    services.filings.record_inspection_result(JINSHUI_HANDLER, receipt, True, [])
    services.filings.approve_result_for_publication(
        Actor("approver-zz", Role.APPROVER, "zz"), receipt
    )

    assert services.filings.load(receipt).status is FilingStatus.RESULT_PUBLISHED


def test_a_handler_cannot_issue_certificates(services: Services) -> None:
    receipt = submit(services)

    with pytest.raises(NotPermitted) as refused:
        services.filings.issue_certificate(JINSHUI_HANDLER, receipt)

    assert type(refused.value) is NotPermitted  # the role, not the jurisdiction
    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


# -- the version the client read (If-Match) ---------------------------------------------------


def test_a_command_on_a_stale_version_is_refused_and_changes_nothing(services: Services) -> None:
    receipt = submit(services)
    read = services.filings.load(receipt).version
    services.filings.issue_supplement_notice(
        JINSHUI_WINDOW, receipt, notice("planning_permit", problem="defective"), read
    )

    with pytest.raises(ConcurrentChange) as refused:
        services.filings.withdraw(JINSHUI_WINDOW, receipt, "建设单位书面申请撤回", read)

    assert refused.value.code == "concurrent_change"
    assert services.filings.load(receipt).status is FilingStatus.AWAITING_SUPPLEMENT
    services.filings.withdraw(JINSHUI_WINDOW, receipt, "建设单位书面申请撤回", read + 1)
    assert services.filings.load(receipt).status is FilingStatus.WITHDRAWN


def test_a_stale_version_from_outside_the_jurisdiction_is_refused_for_the_jurisdiction(
    services: Services,
) -> None:
    """Who may act is checked before the version: an outsider learns nothing about the case."""
    receipt = submit(services)

    with pytest.raises(OutsideJurisdiction):
        services.filings.issue_certificate(ERQI_WINDOW, receipt, expected_version=99)
    with pytest.raises(NotPermitted) as refused:
        services.filings.issue_certificate(JINSHUI_HANDLER, receipt, expected_version=99)

    assert type(refused.value) is NotPermitted
    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


# -- the audit trail --------------------------------------------------------------------------


def test_only_auditors_read_the_history_of_what_is_not_a_filing(services: Services) -> None:
    """A sequence, a staff account (its logins) or an erasure belongs to no agency's case:
    a role that may read case histories still may not read these (Art. 27, 39)."""
    services.filings.issue_certificate(JINSHUI_WINDOW, submit(services))
    sequence = str(NumberSequence.create_id("certificate:zz-jinshui:design:2026"))
    auditor = Actor("auditor-zz", Role.AUDITOR, "zz")

    for reader in (JINSHUI_WINDOW, JINSHUI_HEAD, Actor("head-zz", Role.DEPT_HEAD, "zz")):
        with pytest.raises(NotPermitted) as refused:
            services.audit.history(reader, sequence)
        assert refused.value.code == "not_permitted"

    assert [e.event for e in services.audit.history(auditor, sequence)] == [
        "Started",
        "NumberTaken",
    ]
    assert len(services.audit.history(Actor.system("zz", "console"), sequence)) == 2


def test_a_filings_history_is_read_only_inside_its_jurisdiction(services: Services) -> None:
    receipt = submit(services)

    with pytest.raises(OutsideJurisdiction):
        services.audit.history(ERQI_WINDOW, receipt)

    (submitted,) = services.audit.history(JINSHUI_WINDOW, receipt)
    assert (submitted.event, submitted.agency) == ("Submitted", "zz-jinshui")


# -- personal data is sealed ------------------------------------------------------------------


def test_the_contact_person_is_stored_sealed_and_opens_to_the_plaintext(
    services: Services,
) -> None:
    receipt = submit(services, contact_phone="138 1234 5678")

    submitted = stored_events(services, receipt)[0]
    assert is_sealed(submitted.contact_phone)
    assert is_sealed(submitted.contact_name)
    assert "13812345678" not in submitted.contact_phone
    assert services.context.sealer.open(submitted.contact_phone) == "13812345678"
    assert services.context.sealer.open(submitted.contact_name) == "张伟"
    (notification,) = services.context.app.recorder.select_notifications(start=1, limit=10)
    assert b"13812345678" not in notification.state
    assert "张伟".encode() not in notification.state
    assert "郑州测试置业有限公司".encode() in notification.state  # not personal data


def test_every_filing_seals_its_contact_under_a_subject_of_its_own(services: Services) -> None:
    first, second = submit(services), submit(services)  # the same contact, the same phone

    subjects = {stored_events(services, r)[0].contact_subject for r in (first, second)}

    assert len(subjects) == 2


def test_after_one_contact_is_erased_a_new_filing_with_the_same_phone_is_accepted(
    services: Services,
) -> None:
    """Phone numbers are reissued and shared: erasing one person's data must not refuse the
    next applicant who gives the same number."""
    erased = submit(services, contact_phone="13812345678")
    subject = stored_events(services, erased)[0].contact_subject
    assert services.personal_data.erase(Actor.system("zz", "test"), subject, "本人要求删除")

    later = submit(services, contact_name="李娜", contact_phone="13812345678")

    submitted = stored_events(services, later)[0]
    assert services.context.sealer.open(submitted.contact_phone) == "13812345678"
    assert services.context.sealer.open(submitted.contact_name) == "李娜"
    assert services.context.sealer.open(stored_events(services, erased)[0].contact_phone) == ERASED


def test_domain_errors_leave_no_event_behind(services: Services) -> None:
    receipt = submit(services)
    refusals: list[Callable[[], object]] = [
        lambda: services.filings.resubmit(JINSHUI_WINDOW, receipt, materials(version="2")),
        lambda: services.filings.select_for_inspection(JINSHUI_HEAD, receipt, "抽签"),
        lambda: services.filings.approve_result_for_publication(JINSHUI_APPROVER, receipt),
        lambda: services.filings.issue_supplement_notice(JINSHUI_WINDOW, receipt, []),
    ]
    for refuse in refusals:
        with pytest.raises(DomainError):
            refuse()

    assert len(stored_events(services, receipt)) == 1
    assert services.filings.load(receipt).status is FilingStatus.RECEIVED


# -- certificate revocation -------------------------------------------------------------------


def test_an_approver_revokes_a_certificate_with_a_reason(services: Services) -> None:
    receipt = submit(services)
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)

    services.filings.revoke_certificate(JINSHUI_APPROVER, receipt, "申报材料虚假")

    revoked = stored_events(services, receipt)[-1]
    assert isinstance(revoked, Filing.CertificateRevoked)
    assert revoked.reason == "申报材料虚假"
    assert services.filings.load(receipt).status is FilingStatus.CERTIFICATE_REVOKED


def test_only_an_issued_certificate_can_be_revoked_and_only_by_an_approver(
    services: Services,
) -> None:
    receipt = submit(services)
    with pytest.raises(IllegalTransition):
        services.filings.revoke_certificate(JINSHUI_APPROVER, receipt, "申报材料虚假")
    services.filings.issue_certificate(JINSHUI_WINDOW, receipt)
    with pytest.raises(NotPermitted):
        services.filings.revoke_certificate(JINSHUI_WINDOW, receipt, "申报材料虚假")
    with pytest.raises(InvalidInput):
        services.filings.revoke_certificate(JINSHUI_APPROVER, receipt, "  ")
    assert services.filings.load(receipt).status is FilingStatus.CERTIFIED


def test_only_the_system_quarantines_a_submission_and_only_once(services: Services) -> None:
    system = Actor.system("zz", "intake")

    assert services.intake.quarantine(
        system,
        "BA20261124ABCDEF",
        "unknown_district",
        "district",
        "区县不属本市",
        "unknown district",
    )
    assert not services.intake.quarantine(
        system,
        "BA20261124ABCDEF",
        "unknown_district",
        "district",
        "区县不属本市",
        "unknown district",
    )
    with pytest.raises(NotPermitted):
        services.intake.quarantine(JINSHUI_WINDOW, "BA20261124ABCDEG", "x", None, "理由", "reason")

"""The permission table (RULES.md "Who acts"): which role may run which command.

Application services check it for every command (DESIGN.md decision 2); the staff API checks
queries against the same table. Jurisdiction is checked next to it: an actor acts only inside
its own agency, except the detachment's departments whose role acts for the whole city ("Who
acts"). Administrators never touch business data (Art. 27, 39).
"""

from __future__ import annotations

from enum import StrEnum

from domain.actor import Actor, Role
from domain.agencies import AgencyDirectory
from domain.errors import NotPermitted, OutsideJurisdiction


class Command(StrEnum):
    SUBMIT_FILING = "submit_filing"
    RESUBMIT_FILING = "resubmit_filing"
    WITHDRAW_FILING = "withdraw_filing"
    ISSUE_SUPPLEMENT_NOTICE = "issue_supplement_notice"
    ISSUE_CERTIFICATE = "issue_certificate"
    REFER_FILING = "refer_filing"
    SELECT_FOR_INSPECTION = "select_for_inspection"
    RECORD_INSPECTION_RESULT = "record_inspection_result"
    APPROVE_RESULT_PUBLICATION = "approve_result_publication"
    REVOKE_CERTIFICATE = "revoke_certificate"
    VIEW_FILINGS = "view_filings"
    REQUEST_BOOKING = "request_booking"
    FORWARD_BOOKING = "forward_booking"
    REJECT_BOOKING = "reject_booking"
    ISSUE_PERMIT_ON_COMMITMENT = "issue_permit_on_commitment"
    ASSIGN_BOOKING_HANDLERS = "assign_booking_handlers"
    REPLY_TO_BOOKING = "reply_to_booking"
    ACCEPT_BOOKING_SLOT = "accept_booking_slot"
    REQUEST_ANOTHER_SLOT = "request_another_slot"
    CANCEL_BOOKING = "cancel_booking"
    RECORD_BOOKING_RESULT = "record_booking_result"
    VIEW_BOOKINGS = "view_bookings"
    VIEW_HISTORY = "view_history"
    OPEN_STAFF_ACCOUNT = "open_staff_account"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    QUARANTINE_SUBMISSION = "quarantine_submission"
    PUBLISH_AVAILABILITY = "publish_availability"
    RECORD_CALENDAR_COVERAGE = "record_calendar_coverage"
    VIEW_QUARANTINE = "view_quarantine"
    VIEW_OVERDUE_COUNTS = "view_overdue_counts"
    VIEW_LOGIN_ATTEMPTS = "view_login_attempts"
    VIEW_CALENDAR_COVERAGE = "view_calendar_coverage"


W, H, D, A = Role.WINDOW_CLERK, Role.HANDLER, Role.DEPT_HEAD, Role.APPROVER
SYSTEM = Role.SYSTEM

PERMISSIONS: dict[Command, frozenset[Role]] = {
    # Applicants file online through intake (the system actor); the window also records
    # filings and resubmissions handed in at the counter, and written withdrawals.
    Command.SUBMIT_FILING: frozenset({W, SYSTEM}),
    Command.RESUBMIT_FILING: frozenset({W, SYSTEM}),
    Command.WITHDRAW_FILING: frozenset({W, SYSTEM}),
    Command.ISSUE_SUPPLEMENT_NOTICE: frozenset({W}),
    Command.ISSUE_CERTIFICATE: frozenset({W}),
    Command.REFER_FILING: frozenset({W}),
    # The draw (双随机) is run by the business department; its result selects the filing.
    Command.SELECT_FOR_INSPECTION: frozenset({D, SYSTEM}),
    Command.RECORD_INSPECTION_RESULT: frozenset({H}),
    Command.APPROVE_RESULT_PUBLICATION: frozenset({A}),
    # Withdrawing an administrative record is a leader's decision (审批).
    Command.REVOKE_CERTIFICATE: frozenset({A}),
    Command.VIEW_FILINGS: frozenset({W, H, D, A, Role.SUPERVISOR, Role.LEGAL_REVIEWER}),
    # Bookings (Art. 11-16). The applicant's own steps come through intake (the system actor);
    # the window also records them when the applicant phones or comes to the counter.
    Command.REQUEST_BOOKING: frozenset({W, SYSTEM}),
    Command.ACCEPT_BOOKING_SLOT: frozenset({W, SYSTEM}),
    Command.REQUEST_ANOTHER_SLOT: frozenset({W, SYSTEM}),
    Command.CANCEL_BOOKING: frozenset({W, SYSTEM}),
    Command.FORWARD_BOOKING: frozenset({W}),
    Command.REJECT_BOOKING: frozenset({W}),
    Command.ISSUE_PERMIT_ON_COMMITMENT: frozenset({W}),
    Command.ASSIGN_BOOKING_HANDLERS: frozenset({D}),
    # Only the assigned main handler, which the booking itself checks.
    Command.REPLY_TO_BOOKING: frozenset({H}),
    Command.RECORD_BOOKING_RESULT: frozenset({H}),
    Command.VIEW_BOOKINGS: frozenset({W, H, D, A, Role.SUPERVISOR}),
    Command.VIEW_HISTORY: frozenset({W, H, D, A, Role.SUPERVISOR, Role.AUDITOR, SYSTEM}),
    # Until the approval flow of Art. 28 lands, accounts are opened only from the console.
    Command.OPEN_STAFF_ACCOUNT: frozenset({SYSTEM}),
    Command.ERASE_PERSONAL_DATA: frozenset({SYSTEM}),
    # Only the intake importer refuses what citizens send (it runs as the system).
    Command.QUARANTINE_SUBMISSION: frozenset({SYSTEM}),
    # The days with room are published by a job of the platform itself, never by a person.
    Command.PUBLISH_AVAILABILITY: frozenset({SYSTEM}),
    # So is how far the working-day calendar reaches: the platform reads its own files.
    Command.RECORD_CALENDAR_COVERAGE: frozenset({SYSTEM}),
    # The refusals themselves: the window answers applicants who ask why, the supervisors
    # watch the service (Art. 33), the auditors read them as part of the audit trail.
    Command.VIEW_QUARANTINE: frozenset({W, Role.SUPERVISOR, Role.AUDITOR}),
    # Overdue items per agency (Art. 31 quantified management): for those who answer for
    # the agencies' handling — heads, leaders — and for the supervisors (Art. 33).
    Command.VIEW_OVERDUE_COUNTS: frozenset({D, A, Role.SUPERVISOR}),
    # Failed logins and the sources locked out or throttled: the security administrator's
    # watch over access (MLPS; docs/security.md). Who tried which account from where.
    Command.VIEW_LOGIN_ATTEMPTS: frozenset({Role.SECURITY_ADMIN}),
    # How far the working-day calendar reaches and from which source: platform configuration,
    # the system administrator's to keep (RULES.md), read by every member of staff, since a
    # deadline in a year not covered shows as unknown on everyone's desk. No business data.
    Command.VIEW_CALENDAR_COVERAGE: frozenset(Role) - {Role.APPLICANT, SYSTEM},
}

# The commands of bookings (Art. 11-16), for tables that list the filing commands apart.
BOOKING_COMMANDS = frozenset(
    {
        Command.REQUEST_BOOKING,
        Command.FORWARD_BOOKING,
        Command.REJECT_BOOKING,
        Command.ISSUE_PERMIT_ON_COMMITMENT,
        Command.ASSIGN_BOOKING_HANDLERS,
        Command.REPLY_TO_BOOKING,
        Command.ACCEPT_BOOKING_SLOT,
        Command.REQUEST_ANOTHER_SLOT,
        Command.CANCEL_BOOKING,
        Command.RECORD_BOOKING_RESULT,
        Command.VIEW_BOOKINGS,
    }
)

# Roles that read across the whole city whatever agency their account sits in (Art. 33).
CITY_WIDE_READERS = frozenset({Role.SUPERVISOR, Role.AUDITOR})
# "The detachment's departments may also act for the whole city where their role says so": the
# detachment's heads, approvers and reviewers act on every brigade's cases. The window and the
# handlers act for their own agency only, wherever it sits: a detachment clerk certifying a
# brigade's filing would number it in the brigade's name.
CITY_WIDE_FROM_DETACHMENT = frozenset(
    {Role.DEPT_HEAD, Role.APPROVER, Role.LEGAL_REVIEWER, Role.SECRECY_REVIEWER}
)


def may(actor: Actor, command: Command) -> bool:
    return actor.role in PERMISSIONS[command]


def in_jurisdiction(actor: Actor, agencies: AgencyDirectory, case_agency: str) -> bool:
    """True if ``actor`` may act on (or read) a case of ``case_agency`` (never an unknown one)."""
    if case_agency not in agencies:
        return False
    if actor.role in CITY_WIDE_READERS or actor.agency == case_agency:
        return True
    return actor.role in CITY_WIDE_FROM_DETACHMENT and actor.agency == agencies.detachment.code


def authorize(
    actor: Actor, command: Command, agencies: AgencyDirectory, case_agency: str | None = None
) -> None:
    """Raise unless ``actor`` may run ``command`` on a case of ``case_agency``."""
    if not may(actor, command):
        raise NotPermitted(
            f"角色“{actor.role}”无权执行“{command}”",
            f"role {actor.role} may not {command}",
            command=str(command),
        )
    if case_agency is None or actor.role is Role.SYSTEM:
        return
    if in_jurisdiction(actor, agencies, case_agency):
        return
    raise OutsideJurisdiction(
        "该事项不属于本机构管辖范围",
        "the case belongs to an agency outside your jurisdiction",
        command=str(command),
    )

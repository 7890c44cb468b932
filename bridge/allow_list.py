"""The allow-list (DESIGN.md decision 4): which internal events cross to the public side, and
exactly what of them. Each entry maps an internal event type and its class version to a function
that builds the public events; an internal type not listed never crosses, and a field not named
in the public contract never crosses. Free text is masked by the scanner; sealed personal data is
never opened here (the bridge holds no key to open it).

Keyed on the class version: bumping a listed event's schema stops the bridge (fail closed)
until someone decides here what of the new version the public may see.

Filings and intake refusals are translated here; bookings and the days with room in
bridge.allow_list_bookings; what all translations share (Sources, RecentAggregates, how
moments and deadlines are written) in bridge.translation.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.utils import resolve_topic

from bridge.allow_list_bookings import BOOKING_ALLOW_LIST
from bridge.allow_list_calendar import CALENDAR_ALLOW_LIST
from bridge.sanitise import mask
from bridge.translation import PublicEvent, RecentAggregates, Sources, at, known, noting_pending
from domain.filing import CHECKLISTS, Filing, FilingKind
from domain.quarantine import QuarantinedSubmission
from domain.services.filings import REVIEW_WORKING_DAYS

__all__ = [
    "AGGREGATE_TOPICS",
    "ALLOW_LIST",
    "DECODED_TOPICS",
    "TOPICS",
    "PublicEvent",
    "RecentAggregates",
    "Sources",
    "UnlistedVersion",
    "at",
    "translate",
]


def deadline(sources: Sources, moment: datetime) -> str | None:
    """The review deadline, or None while the calendar of its year is not configured: the
    bridge must never stop because a deadline cannot be computed yet."""
    return known(
        lambda: sources.calendar.deadline_after(moment, REVIEW_WORKING_DAYS), "review_deadline"
    )


def item_name(kind: str, item: str) -> str:
    return CHECKLISTS[FilingKind(kind)][item][0]


def received(event: Filing.Submitted, sources: Sources) -> list[PublicEvent]:
    agency = sources.agencies.get(event.agency)
    return [
        (
            "filing.received.v1",
            {
                "receipt_number": event.receipt_number,
                "kind": event.kind,
                "organisation_name": mask(event.organisation_name),
                "credit_code": mask(event.credit_code),  # an ID number typed here is masked
                "project_name": mask(event.project_name),
                "district": event.district,
                "agency": agency.code,
                "agency_name": agency.name,
                "channel": event.channel,
                "received_at": at(event.timestamp),
                "review_deadline": deadline(sources, event.timestamp),
                "query_code_hash": event.query_code_hash,
            },
        )
    ]


def supplement_requested(
    event: Filing.SupplementNoticeIssued, sources: Sources
) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    kind = str(filing.kind)
    items = [
        {
            "item": entry["item"],
            "name": item_name(kind, entry["item"]),
            "problem": entry["problem"],
            "reason": mask(entry["reason"]),
        }
        for entry in event.items
    ]
    return [
        (
            "filing.supplement_requested.v1",
            {
                "receipt_number": filing.receipt_number,
                "issued_at": at(event.timestamp),
                "items": items,
            },
        )
    ]


def resubmitted(event: Filing.Resubmitted, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    return [
        (
            "filing.resubmitted.v1",
            {
                "receipt_number": filing.receipt_number,
                "received_at": at(event.timestamp),
                "review_deadline": deadline(sources, event.timestamp),
                "changed_items": [item_name(str(filing.kind), i) for i in event.changed_items],
            },
        )
    ]


def _case(filing: Filing, sources: Sources) -> dict[str, Any]:
    agency = sources.agencies.get(filing.agency)
    return {
        "receipt_number": filing.receipt_number,
        "kind": str(filing.kind),
        "organisation_name": mask(filing.organisation_name),
        "credit_code": mask(filing.credit_code),
        "project_name": mask(filing.project_name),
        "district": filing.district,
        "agency": agency.code,
        "agency_name": agency.name,
    }


def certificate_issued(event: Filing.CertificateIssued, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    return [
        (
            "filing.certificate_issued.v1",
            {
                **_case(filing, sources),
                "certificate_number": event.certificate_number,
                "issued_at": at(event.timestamp),
            },
        )
    ]


def certificate_revoked(event: Filing.CertificateRevoked, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    return [
        (
            "filing.certificate_revoked.v1",
            {
                "receipt_number": filing.receipt_number,
                "certificate_number": filing.certificate_number or "",
                "revoked_at": at(event.timestamp),
                "reason": mask(event.reason),
            },
        )
    ]


def withdrawn(event: Filing.Withdrawn, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    payload = {"receipt_number": filing.receipt_number, "withdrawn_at": at(event.timestamp)}
    return [("filing.withdrawn.v1", payload)]


def referred(event: Filing.ReferredForLackOfJurisdiction, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    competent = sources.agencies.get(event.competent_agency)
    return [
        (
            "filing.referred.v1",
            {
                "receipt_number": filing.receipt_number,
                "referred_at": at(event.timestamp),
                "competent_agency": competent.code,
                "competent_agency_name": competent.name,
            },
        )
    ]


def selected(event: Filing.SelectedForInspection, sources: Sources) -> list[PublicEvent]:
    filing = sources.filing_at(event.originator_id, event.originator_version)
    return [
        (
            "filing.selected_for_inspection.v1",
            {
                "receipt_number": filing.receipt_number,
                "selected_at": at(event.timestamp),
                "draw_reference": mask(event.draw_reference),
            },
        )
    ]


def result_published(
    event: Filing.ResultApprovedForPublication, sources: Sources
) -> list[PublicEvent]:
    """Only an approved result is published; what was approved is the recorded result."""
    recorded = sources.filing_at(event.originator_id, event.originator_version)
    if recorded.result is None:  # the aggregate refuses approval without a result
        raise ValueError(f"{recorded.receipt_number}: approval without a recorded result")
    passed, findings = recorded.result
    return [
        (
            "filing.inspection_result_published.v1",
            {
                **_case(recorded, sources),
                "certificate_number": recorded.certificate_number or "",
                "published_at": at(event.timestamp),
                "passed": passed,
                "findings": [mask(f) for f in findings],
            },
        )
    ]


def quarantined(event: QuarantinedSubmission.Quarantined, sources: Sources) -> list[PublicEvent]:
    """The applicant learns why their submission was not taken in (the system's own words,
    masked all the same: a field name or value typed by the applicant may be quoted)."""
    return [
        (
            "intake.quarantined.v1",
            {
                "receipt_number": event.receipt_number,
                "quarantined_at": at(event.timestamp),
                "code": event.code,
                "field": event.field,
                "reason_zh": mask(event.reason_zh),
                "reason_en": mask(event.reason_en),
            },
        )
    ]


Translation = Callable[[Any, Sources], list[PublicEvent]]
ALLOW_LIST: dict[tuple[str, int], Translation] = {
    ("firegov:Filing.Submitted", 1): received,
    ("firegov:Filing.SupplementNoticeIssued", 1): supplement_requested,
    ("firegov:Filing.Resubmitted", 1): resubmitted,
    ("firegov:Filing.CertificateIssued", 1): certificate_issued,
    ("firegov:Filing.Withdrawn", 1): withdrawn,
    ("firegov:Filing.ReferredForLackOfJurisdiction", 1): referred,
    ("firegov:Filing.SelectedForInspection", 1): selected,
    ("firegov:Filing.ResultApprovedForPublication", 1): result_published,
    ("firegov:Filing.CertificateRevoked", 1): certificate_revoked,
    ("firegov:QuarantinedSubmission.Quarantined", 1): quarantined,
    **BOOKING_ALLOW_LIST,
    **CALENDAR_ALLOW_LIST,
}
TOPICS = frozenset(topic for topic, _ in ALLOW_LIST)
# The aggregates whose events the outbound decodes at all (every event of them, listed or
# not, so that RecentAggregates can roll them forward): "firegov:Filing." and so on.
AGGREGATE_TOPICS = tuple(sorted({topic.rsplit(".", 1)[0] + "." for topic in TOPICS}))


def _event_topics(prefix: str) -> set[str]:
    """The topics of the event classes of one aggregate (``prefix``: "firegov:Filing.")."""
    aggregate = resolve_topic(prefix.removesuffix("."))
    topics = (
        str(getattr(member, "TOPIC", ""))
        for _, member in inspect.getmembers(aggregate, inspect.isclass)
    )
    return {topic for topic in topics if topic.startswith(prefix)}


# The same events spelled out, so that the outbound can ask the log for them alone (a
# prefix cannot be asked for) and never reads the rest of the log at all.
DECODED_TOPICS = tuple(sorted(TOPICS.union(*map(_event_topics, AGGREGATE_TOPICS))))


class UnlistedVersion(RuntimeError):
    """A listed event type in a class version the allow-list does not know: the bridge stops
    rather than skip it, since a skipped event could never cross later (seq is dense)."""


def translate(event: Any, sources: Sources) -> list[PublicEvent]:
    """The public events for one internal event: none unless its type is on the allow-list."""
    topic, version = type(event).TOPIC, getattr(type(event), "class_version", 1)
    translation = ALLOW_LIST.get((topic, version))
    if translation is None:
        if topic in TOPICS:
            raise UnlistedVersion(f"{topic} version {version}: decide what of it may cross")
        return []
    return noting_pending(lambda: translation(event, sources))

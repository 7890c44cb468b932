"""A citizen's submission that the internal side refused on import (issue 4, intake): kept as a
fact, with the reason the applicant sees on tracking, so that nothing half-exists and the
refusal is part of the audit trail like any other decision."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class QuarantinedSubmission(Aggregate):
    TOPIC = "firegov:QuarantinedSubmission"

    class Event(StaffEvent):
        TOPIC = "firegov:QuarantinedSubmission.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:QuarantinedSubmission.Created"

    class Quarantined(StaffCreated):
        TOPIC = "firegov:QuarantinedSubmission.Quarantined"
        receipt_number: str
        code: str
        field: str  # "" when the whole record is at fault
        reason_zh: str
        reason_en: str

    def __init__(
        self,
        receipt_number: str,
        code: str,
        field: str,
        reason_zh: str,
        reason_en: str,
        actor_id: str,
        actor_role: str,
        actor_agency: str,
    ) -> None:
        self.receipt_number = receipt_number
        self.code = code
        self.field = field
        self.reason_zh = reason_zh
        self.reason_en = reason_en

    @staticmethod
    def create_id(receipt_number: str) -> UUID:
        return natural_id("quarantine", receipt_number)

"""Erasure of a person's sealed data (DESIGN.md decision 8, crypto-shredding), itself recorded.

The record names only the pseudonymous subject id, who ordered the erasure and why; the
erased values are gone from every event and view at once because their key is gone.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class PersonalDataErasure(Aggregate):
    TOPIC = "firegov:PersonalDataErasure"

    class Event(StaffEvent):
        TOPIC = "firegov:PersonalDataErasure.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:PersonalDataErasure.Created"

    class Erased(StaffCreated):
        TOPIC = "firegov:PersonalDataErasure.Erased"
        subject_id: str
        reason: str

    def __init__(
        self, subject_id: str, reason: str, actor_id: str, actor_role: str, actor_agency: str
    ) -> None:
        self.subject_id = subject_id
        self.reason = reason

    @staticmethod
    def create_id(subject_id: str) -> UUID:
        return natural_id("erasure", subject_id)

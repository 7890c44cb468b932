"""Numbers of cases and certificates.

Receipt numbers (受理编号) of filings (``BA``) and bookings (``YY``): a prefix, the day of receipt
and six random letters. Certificate numbers (备案凭证编号): one dense sequence per agency, kind
and year. The sequence is an aggregate with a deterministic id, saved in the same transaction as
the certificate it numbers, so two windows issuing at once cannot take the same number: the
second save conflicts and is retried with the next number.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.events import StaffCreated, StaffEvent

NAMESPACE = uuid5(NAMESPACE_URL, "https://firegov.example/ids")
# Letters only after the date: no 0/O or 1/I to misread over the phone, and no digit run that
# could look like a bank card or a phone number to the sanitiser.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_receipt_number(prefix: str, day: date) -> str:
    """``prefix`` + yyyymmdd + 6 random letters; a clash shows as a conflict when saved."""
    return f"{prefix}{day:%Y%m%d}" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(6))


def natural_id(kind: str, key: str) -> UUID:
    """Deterministic aggregate id of a natural key, so the store itself refuses duplicates."""
    return uuid5(NAMESPACE, f"{kind}:{key}")


class NumberSequence(Aggregate):
    TOPIC = "firegov:NumberSequence"

    class Event(StaffEvent):
        TOPIC = "firegov:NumberSequence.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:NumberSequence.Created"

    class Started(StaffCreated):
        TOPIC = "firegov:NumberSequence.Started"
        scope: str

    def __init__(self, scope: str, actor_id: str, actor_role: str, actor_agency: str) -> None:
        self.scope = scope
        self.last = 0

    @staticmethod
    def create_id(scope: str) -> UUID:
        return natural_id("sequence", scope)

    def take_next(self, **by: Any) -> int:
        self.trigger_event(self.NumberTaken, number=self.last + 1, **by)
        return self.last

    class NumberTaken(StaffEvent):
        TOPIC = "firegov:NumberSequence.NumberTaken"
        number: int

        def apply(self, aggregate: NumberSequence) -> None:
            aggregate.last = self.number

"""The register of filing certificates issued on this platform (备案凭证登记), by number.

A booking may rest on a completion filing certificate issued here (Art. 13-14); the booking
service finds the filing through this register. Each entry is an aggregate whose id is the
certificate number's natural id, created in the same transaction as the certificate itself, so
the register never lags behind the filings and the store refuses a number issued twice.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class CertificateIndex(Aggregate):
    """Certificate number → the filing that holds it."""

    TOPIC = "firegov:CertificateIndex"

    class Event(StaffEvent):
        TOPIC = "firegov:CertificateIndex.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:CertificateIndex.Created"

    class CertificateRegistered(StaffCreated):
        TOPIC = "firegov:CertificateIndex.CertificateRegistered"
        certificate_number: str
        filing_receipt_number: str

    def __init__(
        self,
        certificate_number: str,
        filing_receipt_number: str,
        actor_id: str,
        actor_role: str,
        actor_agency: str,
    ) -> None:
        self.certificate_number = certificate_number
        self.filing_receipt_number = filing_receipt_number

    @staticmethod
    def create_id(certificate_number: str) -> UUID:
        return natural_id("certificate", certificate_number.strip())

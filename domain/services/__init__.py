"""Application services: take primitives and an ``Actor``, check permission and jurisdiction,
call one aggregate method, save the new events, return ids or plain results."""

from __future__ import annotations

from domain.application import Context
from domain.services.audit import AuditService
from domain.services.bookings import BookingService
from domain.services.filings import FilingService
from domain.services.intake import IntakeService
from domain.services.personal_data import PersonalDataService
from domain.services.staff import StaffService


class Services:
    """All application services over one context; built by the composition root."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.filings = FilingService(context)
        self.bookings = BookingService(context)
        self.staff = StaffService(context)
        self.audit = AuditService(context)
        self.personal_data = PersonalDataService(context)
        self.intake = IntakeService(context)


__all__ = ["Services"]

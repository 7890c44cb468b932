"""Intake decisions the internal side records (issue 4): a submission refused on import."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.application import Context
from domain.permissions import Command, authorize
from domain.quarantine import QuarantinedSubmission


class IntakeService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    def quarantine(
        self,
        actor: Actor,
        receipt_number: str,
        code: str,
        field: str | None,
        reason_zh: str,
        reason_en: str,
    ) -> bool:
        """Record the refusal once; False if it was recorded before (a repeated import)."""
        authorize(actor, Command.QUARANTINE_SUBMISSION, self.ctx.agencies)
        record = QuarantinedSubmission._create(
            QuarantinedSubmission.Quarantined,
            id=QuarantinedSubmission.create_id(receipt_number),
            receipt_number=receipt_number,
            code=code,
            field=field or "",
            reason_zh=reason_zh[:500],
            reason_en=reason_en[:500],
            **self.ctx.stamp(actor),
        )
        try:
            self.ctx.app.save(record)
        except IntegrityError:
            return False
        return True

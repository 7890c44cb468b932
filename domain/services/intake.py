"""Intake decisions the internal side records (issue 4): a submission refused on import; and
whether an applicant's step already took effect on its case (issue 16: a step delivered again
after a crash is the same step, not a second one)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.application import Context
from domain.permissions import Command, authorize
from domain.quarantine import QuarantinedSubmission


class IntakeService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    @staticmethod
    def step_actor(agency: str, step_receipt: str) -> Actor:
        """The system actor an applicant's step acts as: the step's own receipt number in the
        actor id travels with the event the step causes (who did it: intake, for that step)."""
        return Actor.system(agency, f"intake:{step_receipt}")

    def took_effect(self, case_id: UUID, step_actor: Actor) -> bool:
        """Whether the case already holds an event of the step ``step_actor`` acts for."""
        return any(
            getattr(event, "actor_id", None) == step_actor.actor_id
            for event in self.ctx.app.events.get(case_id)
        )

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

"""Erasure of a person's data by destroying their key (DESIGN.md decision 8), recorded as an
event that names only the pseudonymous subject."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.application import Context
from domain.erasure import PersonalDataErasure
from domain.errors import NotFound
from domain.permissions import Command, authorize
from domain.text import required_text


class PersonalDataService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    def erase(self, actor: Actor, subject_id: str, reason: str) -> bool:
        """Erase the subject's key; returns False if it was already erased.

        A subject the key store never had is refused: recording its "erasure" would put a
        fact into the audit trail about a person who was never there (a mistyped id)."""
        authorize(actor, Command.ERASE_PERSONAL_DATA, self.ctx.agencies)
        reason = required_text(reason, "reason", "删除理由", 500)
        if not self.ctx.sealer.knows(subject_id):
            raise NotFound(
                "没有该人员的个人信息（主体标识不存在）",
                "no personal data is held for this subject id",
                code="unknown_subject",
            )
        stamp = self.ctx.stamp(actor)
        erased = self.ctx.sealer.erase(subject_id, stamp["timestamp"])
        record = PersonalDataErasure._create(
            PersonalDataErasure.Erased,
            id=PersonalDataErasure.create_id(subject_id),
            subject_id=subject_id,
            reason=reason,
            **stamp,
        )
        try:
            self.ctx.app.save(record)
        except IntegrityError:
            return False  # recorded before: the key is gone either way
        return erased

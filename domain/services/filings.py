"""Filing commands (RULES.md Art. 7-10): submit, notice, resubmit, certify, withdraw, refer,
select for inspection, record and approve the inspection result."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.application import Context, retrying
from domain.calendar import to_shanghai_date
from domain.certificate_index import CertificateIndex
from domain.errors import InvalidInput, NotFound, StaleVersion
from domain.filing import Filing, FilingKind, Material, NoticeItem, check_materials
from domain.identifiers import validate_credit_code, validate_mobile
from domain.numbering import NumberSequence, natural_id, new_receipt_number
from domain.permissions import Command, authorize
from domain.text import required_text

REVIEW_WORKING_DAYS = 5  # Art. 9 / Administrative Licensing Law Art. 32


def filing_id(receipt_number: str) -> UUID:
    return natural_id("filing", receipt_number)


class FilingService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    def load(self, receipt_number: str) -> Filing:
        return self.ctx.load(Filing, filing_id(receipt_number), "备案", "filing")

    def submit(
        self,
        actor: Actor,
        *,
        kind: str,
        organisation_name: str,
        credit_code: str,
        project_name: str,
        project_address: str,
        district: str,
        contact_name: str,
        contact_phone: str,
        materials: list[Material],
        agency: str | None = None,
        channel: str = "window",
        query_code_hash: str = "",
        receipt_number: str | None = None,
        contact_subject: str | None = None,
    ) -> str:
        """Record a filing; returns its receipt number. The agency defaults to the competent one.

        Intake passes the ``receipt_number`` the public side issued: the filing's id derives
        from it, so submitting the same receipt twice conflicts (ConcurrentChange) instead of
        making a second case; and the submission's ``contact_subject``, under whose key it
        already sealed the uploaded documents (domain.documents)."""
        try:
            filing_kind = FilingKind(kind)
        except ValueError:
            raise InvalidInput(
                "备案类型须为 design（消防设计备案）或 completion（竣工验收消防备案）",
                "kind must be design or completion",
                code="invalid_kind",
                field="kind",
            ) from None
        competent = self.ctx.agencies.competent_for(district)
        asked = self.ctx.agencies.get(agency).code if agency else competent.code
        authorize(actor, Command.SUBMIT_FILING, self.ctx.agencies, asked)
        check_materials(filing_kind, materials)
        phone = validate_mobile(contact_phone, "contact_phone")
        name = required_text(contact_name, "contact_name", "联系人姓名", 50)
        fields = {
            "kind": str(filing_kind),
            "agency": asked,
            "organisation_name": required_text(organisation_name, "organisation_name", "单位全称"),
            "credit_code": validate_credit_code(credit_code, "credit_code"),
            "project_name": required_text(project_name, "project_name", "工程名称"),
            "project_address": required_text(project_address, "project_address", "工程地址"),
            "district": district,
            "materials": [dict(m) for m in materials],
            "channel": channel if channel in {"online", "window"} else "window",
            "query_code_hash": query_code_hash,
        }
        # Each filing's contact is a subject of their own, never one derived from the phone
        # number: numbers are reissued and shared, so erasing one person must not refuse every
        # later filing that gives the same number. Sealed last, so a refused filing makes no key.
        subject = contact_subject or self.ctx.sealer.new_subject()
        sealed_name, sealed_phone = self.ctx.sealer.seal_many(subject, name, phone)
        fields |= {
            "contact_subject": subject,
            "contact_name": sealed_name,
            "contact_phone": sealed_phone,
        }

        def attempt() -> str:
            stamp = self.ctx.stamp(actor)
            receipt = receipt_number or new_receipt_number(
                "BA", to_shanghai_date(stamp["timestamp"])
            )
            filing = Filing._create(
                Filing.Submitted, id=filing_id(receipt), receipt_number=receipt, **fields, **stamp
            )
            self.ctx.save(filing)
            return receipt

        result: str = attempt() if receipt_number else retrying(3, attempt)
        return result

    def review_deadline(self, filing: Filing) -> Any:
        return self.ctx.calendar.deadline_after(filing.received_at, REVIEW_WORKING_DAYS)

    def _act(
        self, actor: Actor, command: Command, receipt_number: str, expected_version: int | None
    ) -> Filing:
        """The filing, once the actor may act on it and it is still at ``expected_version``.

        Authorised first, so a stale version tells nobody outside the case anything about it;
        the version is compared on the copy the command then changes and saves, so a change in
        between is caught by the store's own optimistic concurrency, not by a separate read.
        """
        filing = self.load(receipt_number)
        authorize(actor, command, self.ctx.agencies, filing.agency)
        if expected_version is not None and filing.version != expected_version:
            raise StaleVersion(
                "该案件已被他人修改，请刷新后重试",
                "the case changed since you read it; reload and retry",
                retry=True,
            )
        return filing

    def issue_supplement_notice(
        self,
        actor: Actor,
        receipt_number: str,
        items: list[NoticeItem],
        expected_version: int | None = None,
    ) -> None:
        filing = self._act(actor, Command.ISSUE_SUPPLEMENT_NOTICE, receipt_number, expected_version)
        clean = [
            NoticeItem(item=i["item"], problem=i["problem"], reason=i["reason"].strip())
            for i in items
        ]
        filing.issue_supplement_notice(clean, self.review_deadline(filing), **self.ctx.stamp(actor))
        self.ctx.save(filing)

    def resubmit(
        self,
        actor: Actor,
        receipt_number: str,
        materials: list[Material],
        expected_version: int | None = None,
    ) -> None:
        filing = self._act(actor, Command.RESUBMIT_FILING, receipt_number, expected_version)
        filing.resubmit([Material(**m) for m in materials], **self.ctx.stamp(actor))
        self.ctx.save(filing)

    def issue_certificate(
        self, actor: Actor, receipt_number: str, expected_version: int | None = None
    ) -> str:
        """Issue the filing certificate; returns its number (dense per agency, kind, year)."""

        def attempt() -> str:
            filing = self._act(actor, Command.ISSUE_CERTIFICATE, receipt_number, expected_version)
            stamp = self.ctx.stamp(actor)
            year = to_shanghai_date(stamp["timestamp"]).year
            agency = self.ctx.agencies.get(filing.agency)
            scope = f"certificate:{agency.code}:{filing.kind}:{year}"
            sequence = self._sequence(scope, actor)
            seq = sequence.take_next(**stamp)
            number = self.ctx.certificate_number_format.format(
                prefix=agency.certificate_prefixes[str(filing.kind)], year=year, seq=seq
            )
            # Only incomplete materials need the review deadline (and so the calendar).
            deadline = self.review_deadline(filing) if filing.missing_required_items() else None
            filing.issue_certificate(number, deadline, **stamp)
            # Registered with the certificate, so a booking resting on it finds the filing.
            index = CertificateIndex._create(
                CertificateIndex.CertificateRegistered,
                id=CertificateIndex.create_id(number),
                certificate_number=number,
                filing_receipt_number=filing.receipt_number,
                **stamp,
            )
            self.ctx.save(sequence, filing, index)
            return number

        result: str = retrying(5, attempt)
        return result

    def _sequence(self, scope: str, actor: Actor) -> NumberSequence:
        sequence_id = NumberSequence.create_id(scope)
        try:
            return self.ctx.load(NumberSequence, sequence_id, "编号序列", "sequence")
        except NotFound:
            pass  # the first certificate of this agency, kind and year starts the sequence
        return NumberSequence._create(
            NumberSequence.Started, id=sequence_id, scope=scope, **self.ctx.stamp(actor)
        )

    def withdraw(
        self,
        actor: Actor,
        receipt_number: str,
        reason: str,
        expected_version: int | None = None,
    ) -> None:
        filing = self._act(actor, Command.WITHDRAW_FILING, receipt_number, expected_version)
        filing.withdraw(required_text(reason, "reason", "撤回理由", 500), **self.ctx.stamp(actor))
        self.ctx.save(filing)

    def refer(self, actor: Actor, receipt_number: str, expected_version: int | None = None) -> str:
        """Refuse for lack of jurisdiction; returns the competent agency's code."""
        filing = self._act(actor, Command.REFER_FILING, receipt_number, expected_version)
        competent = self.ctx.agencies.competent_for(filing.district).code
        filing.refer(competent, **self.ctx.stamp(actor))
        self.ctx.save(filing)
        return competent

    def select_for_inspection(
        self,
        actor: Actor,
        receipt_number: str,
        draw_reference: str,
        expected_version: int | None = None,
    ) -> None:
        filing = self._act(actor, Command.SELECT_FOR_INSPECTION, receipt_number, expected_version)
        filing.select_for_inspection(draw_reference, **self.ctx.stamp(actor))
        self.ctx.save(filing)

    def record_inspection_result(
        self,
        actor: Actor,
        receipt_number: str,
        passed: bool,
        findings: list[str],
        expected_version: int | None = None,
    ) -> None:
        filing = self._act(
            actor, Command.RECORD_INSPECTION_RESULT, receipt_number, expected_version
        )
        filing.record_inspection_result(passed, findings, **self.ctx.stamp(actor))
        self.ctx.save(filing)

    def approve_result_for_publication(
        self, actor: Actor, receipt_number: str, expected_version: int | None = None
    ) -> None:
        filing = self._act(
            actor, Command.APPROVE_RESULT_PUBLICATION, receipt_number, expected_version
        )
        filing.approve_result_for_publication(**self.ctx.stamp(actor))
        self.ctx.save(filing)

    def revoke_certificate(
        self, actor: Actor, receipt_number: str, reason: str, expected_version: int | None = None
    ) -> None:
        filing = self._act(actor, Command.REVOKE_CERTIFICATE, receipt_number, expected_version)
        filing.revoke_certificate(reason, **self.ctx.stamp(actor))
        self.ctx.save(filing)

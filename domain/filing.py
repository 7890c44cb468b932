"""Construction fire filings (RULES.md Art. 7-10): 消防设计备案 and 竣工验收消防备案.

The window either issues the filing certificate (备案凭证) or ONE supplement notice (补正通知,
一次告知) that lists every missing or defective item with its reason, within 5 working days of
receipt (Administrative Licensing Law Art. 32); a later notice may only name items the applicant
changed since the last notice, or items the last notice named (still to be put right): anything
else could have been named before.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from eventsourcing.domain import Aggregate

from domain.errors import IllegalTransition, InvalidInput
from domain.events import StaffCreated, StaffEvent
from domain.text import required_text


class FilingKind(StrEnum):
    DESIGN = "design"  # 消防设计备案
    COMPLETION = "completion"  # 竣工验收消防备案


KIND_NAMES_ZH = {FilingKind.DESIGN: "消防设计备案", FilingKind.COMPLETION: "竣工验收消防备案"}


class FilingStatus(StrEnum):
    RECEIVED = "received"  # 已接收，待审查
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # 待补正
    CERTIFIED = "certified"  # 已备案
    WITHDRAWN = "withdrawn"  # 已撤回
    REFERRED = "referred"  # 不予受理，告知向有管辖权机关申请
    SELECTED = "selected_for_inspection"  # 被抽中检查
    INSPECTED = "inspected"  # 已检查，结果待审批公布
    RESULT_PUBLISHED = "result_published"  # 检查结果已批准公布
    CERTIFICATE_REVOKED = "certificate_revoked"  # 备案凭证已撤销


STATUS_NAMES_ZH = {
    FilingStatus.RECEIVED: "已接收，待审查",
    FilingStatus.AWAITING_SUPPLEMENT: "待补正",
    FilingStatus.CERTIFIED: "已备案",
    FilingStatus.WITHDRAWN: "已撤回",
    FilingStatus.REFERRED: "不予受理（已告知有管辖权机关）",
    FilingStatus.SELECTED: "被抽中检查",
    FilingStatus.INSPECTED: "已检查，待审批公布",
    FilingStatus.RESULT_PUBLISHED: "检查结果已公布",
    FilingStatus.CERTIFICATE_REVOKED: "备案凭证已撤销",
}

# The checklists the window reviews (RULES.md "Materials"); code -> (name, always required).
CHECKLISTS: dict[FilingKind, dict[str, tuple[str, bool]]] = {
    FilingKind.DESIGN: {
        "application_form": ("消防设计备案申报表", True),
        "owner_identity": ("建设单位合法身份证明文件（营业执照）", True),
        "planning_permit": ("建设工程规划许可证（新建、扩建工程）", False),
        "designer_qualification": ("设计单位资质证书", True),
        "fire_design_documents": ("消防设计文件（图纸及设计说明）", True),
        "construction_permit": ("施工许可证复印件", True),
    },
    FilingKind.COMPLETION: {
        "application_form": ("竣工验收消防备案申报表", True),
        "acceptance_report": ("工程竣工验收报告", True),
        "product_certificates": ("消防产品质量合格证明文件", True),
        "material_certificates": (
            "具有防火性能要求的建筑构件、建筑材料、室内装修装饰材料符合国家标准或者行业标准的证明文件",
            True,
        ),
        "system_test_reports": ("消防设施、电气防火技术检测合格证明文件", True),
        "firm_qualifications": ("施工、工程监理、检测单位的合法身份证明和资质等级证明文件", True),
    },
}


class Material(TypedDict):
    """One checklist item and the uploaded document it references (by content hash)."""

    item: str
    document: str  # "sha256:<hex>"
    file_name: str
    size: int
    media_type: str


class NoticeItem(TypedDict):
    item: str
    problem: str  # "missing" | "defective"
    reason: str


PROBLEMS = {"missing": "缺少", "defective": "不符合法定形式"}


def check_materials(kind: FilingKind, materials: list[Material]) -> None:
    """Each item named at most once and known to the kind's checklist."""
    seen: set[str] = set()
    for material in materials:
        item = material["item"]
        if item not in CHECKLISTS[kind]:
            raise InvalidInput(
                f"材料项 {item} 不属于{KIND_NAMES_ZH[kind]}的材料清单",
                f"material item {item!r} is not on the {kind} filing checklist",
                code="unknown_material_item",
                field="materials",
            )
        if item in seen:
            raise InvalidInput(
                f"材料项 {item} 重复提交",
                f"material item {item!r} appears twice",
                code="duplicate_material_item",
                field="materials",
            )
        required_text(material["file_name"], "materials", "文件名", 200)
        if not material["document"].startswith("sha256:"):
            raise InvalidInput(
                f"材料项 {item} 未引用已上传的文件",
                f"material item {item!r} does not reference an uploaded document",
                code="invalid_document_reference",
                field="materials",
            )
        seen.add(item)


def _document(materials: dict[str, Material], item: str) -> str | None:
    material = materials.get(item)
    return material["document"] if material else None


class Filing(Aggregate):
    """One filing case, identified by its receipt number."""

    TOPIC = "firegov:Filing"

    class Event(StaffEvent):
        TOPIC = "firegov:Filing.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:Filing.Created"

    class Submitted(StaffCreated):
        TOPIC = "firegov:Filing.Submitted"
        receipt_number: str
        kind: str
        agency: str
        organisation_name: str
        credit_code: str
        project_name: str
        project_address: str
        district: str
        contact_subject: str
        contact_name: str  # sealed
        contact_phone: str  # sealed
        materials: list[Material]
        channel: str  # "online" (through intake) or "window" (at the counter)
        query_code_hash: str  # the applicant's query code, hashed; "" if none was issued

    def __init__(
        self,
        receipt_number: str,
        kind: str,
        agency: str,
        organisation_name: str,
        credit_code: str,
        project_name: str,
        project_address: str,
        district: str,
        contact_subject: str,
        contact_name: str,
        contact_phone: str,
        materials: list[Material],
        channel: str,
        query_code_hash: str,
        actor_id: str,
        actor_role: str,
        actor_agency: str,
    ) -> None:
        self.receipt_number = receipt_number
        self.kind = FilingKind(kind)
        self.agency = agency
        self.organisation_name = organisation_name
        self.credit_code = credit_code
        self.project_name = project_name
        self.district = district
        self.contact_subject = contact_subject
        self.query_code_hash = query_code_hash  # checks an applicant's own steps online
        self.materials = {m["item"]: m for m in materials}
        self.status = FilingStatus.RECEIVED
        self.received_at: datetime = self.created_on
        self.changed_since_notice: set[str] = set()
        self.last_notice_items: set[str] = set()
        self.notices = 0
        self.certificate_number: str | None = None
        self.result_recorded_by: str | None = None
        self.result: tuple[bool, tuple[str, ...]] | None = None  # passed, findings

    # -- guards ------------------------------------------------------------------------------

    def check_status(self, *allowed: FilingStatus, action_zh: str, action: str) -> None:
        if self.status not in allowed:
            raise IllegalTransition(
                f"备案 {self.receipt_number} 当前状态为“{STATUS_NAMES_ZH[self.status]}”，"
                f"不能{action_zh}",
                f"filing {self.receipt_number} is {self.status}; cannot {action}",
                status=str(self.status),
            )

    def missing_required_items(self) -> list[str]:
        return [
            item
            for item, (_, required) in CHECKLISTS[self.kind].items()
            if required and item not in self.materials
        ]

    # -- commands ----------------------------------------------------------------------------

    def issue_supplement_notice(
        self, items: list[NoticeItem], deadline: datetime, **by: Any
    ) -> None:
        self.check_status(FilingStatus.RECEIVED, action_zh="出具补正通知", action="issue a notice")
        if by["timestamp"] > deadline:
            raise IllegalTransition(
                "已超过收到材料后 5 个工作日的补正告知期限，依法视为受理完整，应出具备案凭证",
                "the 5-working-day period for a supplement notice has passed; the materials "
                "count as complete (Administrative Licensing Law Art. 32)",
                code="supplement_notice_too_late",
            )
        if not items:
            raise InvalidInput(
                "补正通知须列出至少一项材料",
                "a supplement notice lists at least one item",
                code="empty_notice",
                field="items",
            )
        seen: set[str] = set()
        for entry in items:
            item = entry["item"]
            if item not in CHECKLISTS[self.kind] or item in seen:
                raise InvalidInput(
                    f"补正项 {item} 不在材料清单中或重复",
                    f"notice item {item!r} is unknown or repeated",
                    code="invalid_notice_item",
                    field="items",
                )
            if entry["problem"] not in PROBLEMS or not entry["reason"].strip():
                raise InvalidInput(
                    f"补正项 {item} 须写明问题（缺少/不符合法定形式）及理由",
                    f"notice item {item!r} needs a problem (missing/defective) and a reason",
                    code="invalid_notice_item",
                    field="items",
                )
            required_text(entry["reason"], "items", "补正理由", 500)
            seen.add(item)
        if self.notices:
            # 一次告知: after the first notice, only what changed since the last notice, or what
            # the last notice named, may be named. An item an earlier notice named, fixed since,
            # and untouched after the last notice could have been named in the last one.
            allowed = self.changed_since_notice | self.last_notice_items
            new = sorted(seen - allowed)
            if new:
                raise IllegalTransition(
                    f"一次性告知：补正项 {'、'.join(new)} 在上次通知后未作修改，"
                    "应在上次通知中一并告知",
                    f"one complete notice: {', '.join(new)} did not change since the last "
                    "notice and should have been named in it",
                    code="notice_names_unchanged_items",
                    items=new,
                )
        self.trigger_event(self.SupplementNoticeIssued, items=items, **by)

    class SupplementNoticeIssued(StaffEvent):
        TOPIC = "firegov:Filing.SupplementNoticeIssued"
        items: list[NoticeItem]

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.AWAITING_SUPPLEMENT
            aggregate.notices += 1
            aggregate.last_notice_items = {entry["item"] for entry in self.items}
            aggregate.changed_since_notice = set()

    def resubmit(self, materials: list[Material], **by: Any) -> None:
        self.check_status(FilingStatus.AWAITING_SUPPLEMENT, action_zh="补正", action="resubmit")
        check_materials(self.kind, materials)
        new = {m["item"]: m for m in materials}
        changed = sorted(
            item
            for item in set(new) | set(self.materials)
            if _document(new, item) != _document(self.materials, item)
        )
        if not changed:
            raise InvalidInput(
                "补正材料与原材料相同，没有任何修改",
                "the resubmitted materials are the same as before",
                code="nothing_changed",
                field="materials",
            )
        self.trigger_event(self.Resubmitted, materials=materials, changed_items=changed, **by)

    class Resubmitted(StaffEvent):
        TOPIC = "firegov:Filing.Resubmitted"
        materials: list[Material]
        changed_items: list[str]

        def apply(self, aggregate: Filing) -> None:
            aggregate.materials = {m["item"]: m for m in self.materials}
            aggregate.changed_since_notice = set(self.changed_items)
            aggregate.status = FilingStatus.RECEIVED
            aggregate.received_at = self.timestamp

    def issue_certificate(
        self, certificate_number: str, review_deadline: datetime | None, **by: Any
    ) -> None:
        """Certify complete materials; after the review period without a notice, the materials
        count as complete whatever is missing (Administrative Licensing Law Art. 32)."""
        self.check_status(FilingStatus.RECEIVED, action_zh="出具备案凭证", action="certify")
        missing = self.missing_required_items()
        deemed_complete = (
            bool(missing) and review_deadline is not None and by["timestamp"] > review_deadline
        )
        if missing and not deemed_complete:
            names = "、".join(CHECKLISTS[self.kind][item][0] for item in missing)
            raise IllegalTransition(
                f"材料不齐全（缺少{names}），应出具补正通知",
                f"materials incomplete ({', '.join(missing)}): issue a supplement notice",
                code="materials_incomplete",
                items=missing,
            )
        self.trigger_event(
            self.CertificateIssued,
            certificate_number=certificate_number,
            deemed_complete=deemed_complete,
            **by,
        )

    class CertificateIssued(StaffEvent):
        TOPIC = "firegov:Filing.CertificateIssued"
        certificate_number: str
        deemed_complete: bool  # issued after the review period passed without a notice

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.CERTIFIED
            aggregate.certificate_number = self.certificate_number

    def withdraw(self, reason: str, **by: Any) -> None:
        self.check_status(
            FilingStatus.RECEIVED,
            FilingStatus.AWAITING_SUPPLEMENT,
            action_zh="撤回",
            action="withdraw",
        )
        self.trigger_event(self.Withdrawn, reason=reason.strip(), **by)

    class Withdrawn(StaffEvent):
        TOPIC = "firegov:Filing.Withdrawn"
        reason: str

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.WITHDRAWN

    def refer(self, competent_agency: str, **by: Any) -> None:
        self.check_status(FilingStatus.RECEIVED, action_zh="不予受理", action="refer")
        if competent_agency == self.agency:
            raise IllegalTransition(
                "本机构对该项目所在地有管辖权，不能以无管辖权为由不予受理",
                "this agency is competent for the project's district; it cannot refer",
                code="agency_is_competent",
            )
        self.trigger_event(
            self.ReferredForLackOfJurisdiction, competent_agency=competent_agency, **by
        )

    class ReferredForLackOfJurisdiction(StaffEvent):
        TOPIC = "firegov:Filing.ReferredForLackOfJurisdiction"
        competent_agency: str

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.REFERRED

    def select_for_inspection(self, draw_reference: str, **by: Any) -> None:
        self.check_status(FilingStatus.CERTIFIED, action_zh="抽中检查", action="select")
        if not draw_reference.strip():
            raise InvalidInput(
                "须注明抽取记录编号",
                "a draw reference is required",
                code="missing_draw_reference",
                field="draw_reference",
            )
        reference = required_text(draw_reference, "draw_reference", "抽取记录编号", 100)
        self.trigger_event(self.SelectedForInspection, draw_reference=reference, **by)

    class SelectedForInspection(StaffEvent):
        TOPIC = "firegov:Filing.SelectedForInspection"
        draw_reference: str

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.SELECTED

    def record_inspection_result(self, passed: bool, findings: list[str], **by: Any) -> None:
        self.check_status(FilingStatus.SELECTED, action_zh="记录检查结果", action="record a result")
        findings = [
            required_text(f, "findings", "检查发现的问题", 500) for f in findings if f.strip()
        ]
        if not passed and not findings:
            raise InvalidInput(
                "检查不合格时须列明发现的问题",
                "a failed inspection lists its findings",
                code="missing_findings",
                field="findings",
            )
        self.trigger_event(self.InspectionResultRecorded, passed=passed, findings=findings, **by)

    class InspectionResultRecorded(StaffEvent):
        TOPIC = "firegov:Filing.InspectionResultRecorded"
        passed: bool
        findings: list[str]

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.INSPECTED
            aggregate.result_recorded_by = self.actor_id
            aggregate.result = (self.passed, tuple(self.findings))

    def approve_result_for_publication(self, **by: Any) -> None:
        self.check_status(FilingStatus.INSPECTED, action_zh="批准公布", action="approve")
        if by["actor_id"] == self.result_recorded_by:
            raise IllegalTransition(
                "记录检查结果的人员不能批准公布自己的结果",
                "the person who recorded the result cannot approve its publication",
                code="approver_is_drafter",
            )
        self.trigger_event(self.ResultApprovedForPublication, **by)

    class ResultApprovedForPublication(StaffEvent):
        TOPIC = "firegov:Filing.ResultApprovedForPublication"

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.RESULT_PUBLISHED

    def revoke_certificate(self, reason: str, **by: Any) -> None:
        """Withdraw the certificate (撤销备案凭证), e.g. for false materials; the reason is
        published with the withdrawal."""
        self.check_status(
            FilingStatus.CERTIFIED,
            FilingStatus.SELECTED,
            FilingStatus.INSPECTED,
            FilingStatus.RESULT_PUBLISHED,
            action_zh="撤销备案凭证",
            action="revoke the certificate",
        )
        reason = required_text(reason, "reason", "撤销理由", 500)
        self.trigger_event(self.CertificateRevoked, reason=reason, **by)

    class CertificateRevoked(StaffEvent):
        TOPIC = "firegov:Filing.CertificateRevoked"
        reason: str

        def apply(self, aggregate: Filing) -> None:
            aggregate.status = FilingStatus.CERTIFICATE_REVOKED

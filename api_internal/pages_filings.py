"""Filing review (RULES.md Art. 7-9): the materials checklist item by item, each submitted
document one click away (and those a resubmission replaced), then the filing certificate or ONE
supplement notice (一次告知) built from the items marked missing or defective, each with its
reason. The window also refers a filing outside its jurisdiction to the competent agency
(Art. 8: 不予受理，告知向有管辖权机关申请; the agency pre-filled from the project's district),
and withdraws one at the applicant's written request, with the reason. The commands are the
JSON routes' own (domain.services.filings); the page's version goes in as If-Match does, so a
page someone else has acted on since says so instead of overwriting their work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from api_internal.common import caught_up, expected_version
from api_internal.deps import Backend, BackendDep
from api_internal.pages_web import (
    ConsoleUser,
    FormDep,
    PageRoute,
    UserDep,
    field_errors,
    render,
    see_other,
    text,
)
from api_internal.pages_web import (
    receipt_of as web_receipt_of,
)
from api_internal.problems import status_of
from domain.errors import ConcurrentChange, DomainError, NotFound, NotPermitted
from domain.filing import CHECKLISTS, KIND_NAMES_ZH, PROBLEMS, FilingKind, FilingStatus, NoticeItem
from domain.permissions import Command, authorize, in_jurisdiction, may
from projections.internal.document_references import DocumentReferences

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DECISIONS = {"ok": "符合", **PROBLEMS}
DECIDE = ("decision", "reason")  # the review form's fields of each checklist item
DONE = {
    "notice": "已出具补正通知（一次告知），申请人可在互联网端逐项查看。",
    "certificate": "已出具备案凭证。",
    "refer": "已不予受理，并告知申请人向有管辖权的机构申请。",
    "withdraw": "已按申请人的书面申请撤回备案。",
}
Typed = dict[str, tuple[str, str]]  # item -> (decision, reason) as the person left them
# The error places of the referral and withdrawal forms, shown only when their form is.
PLACES = {"refer": ("form-refer",), "withdraw": ("form-withdraw", "withdrawal_reason")}


def receipt_of(value: str) -> str:
    return web_receipt_of(value, "备案", "filing")


def readable_filing(backend: Backend, user: ConsoleUser, receipt: str) -> dict[str, Any]:
    """The filing's row with its contact opened, once the person may read it (as the JSON
    detail route does)."""
    row = caught_up(backend).queries.filing(receipt, backend.clock())
    if row is None:
        raise NotFound("备案不存在", "filing not found")
    authorize(user.actor, Command.VIEW_FILINGS, backend.agencies, row["agency"])
    row["contact_name"] = backend.sealer.open(row["contact_name"])
    row["contact_phone"] = backend.sealer.open(row["contact_phone"])
    return row


def checklist(row: dict[str, Any], typed: Typed | None) -> list[dict[str, Any]]:
    """Each item of the kind's checklist with its document and the decision shown: what the
    person chose, else "missing" for a required item not handed in, else "meets the form"."""
    materials = {m["item"]: m for m in row["materials"] or []}
    rows = []
    for item, (name, required) in CHECKLISTS[FilingKind(row["kind"])].items():
        material = materials.get(item)
        absent = required and material is None
        decision, reason = ("missing", f"未提交{name}") if absent else ("ok", "")
        if typed is not None:
            decision, reason = typed.get(item, (decision, reason))
        rows.append(
            {
                "item": item,
                "name": name,
                "required": required,
                "material": material,
                "document": material["document"].removeprefix("sha256:") if material else None,
                "decision": decision,
                "reason": reason,
            }
        )
    return rows


def earlier_materials(backend: Backend, row: dict[str, Any]) -> list[dict[str, str]]:
    """The documents of earlier rounds that a resubmission replaced, oldest first."""
    current = {m["document"] for m in row["materials"] or []}
    names = {i: n for i, (n, _) in CHECKLISTS[FilingKind(row["kind"])].items()}
    return [
        {
            "name": names.get(ref.part, ref.part),
            "file_name": ref.file_name,
            "document": ref.document.removeprefix("sha256:"),
        }
        for ref in DocumentReferences(backend.queries.store).of_case(row["receipt_number"])
        if ref.document not in current
    ]


def filing_page(
    backend: Backend,
    user: ConsoleUser,
    receipt: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: Typed | None = None,
    message: str | None = None,
    kept: dict[str, str] | None = None,
) -> Response:
    """The filing as it is now; ``typed`` the checklist and ``kept`` the other forms' text as
    the person left them, next to ``errors``."""
    row = readable_filing(backend, user, receipt)
    actor, agencies = user.actor, backend.agencies
    here = in_jurisdiction(actor, agencies, row["agency"])
    state = FilingStatus(row["status"])
    competent = agencies.competent_for(row["district"])
    may_decide = (
        state is FilingStatus.RECEIVED and may(actor, Command.ISSUE_SUPPLEMENT_NOTICE) and here
    )
    can = {
        # Only a filing lodged with an agency other than the district's competent one.
        "refer": state is FilingStatus.RECEIVED
        and here
        and may(actor, Command.REFER_FILING)
        and competent.code != row["agency"],
        "withdraw": state in {FilingStatus.RECEIVED, FilingStatus.AWAITING_SUPPLEMENT}
        and here
        and may(actor, Command.WITHDRAW_FILING),
    }
    errors = errors or {}
    # An error whose form is gone (the case moved on meanwhile) is shown under the status.
    shown = {place for part, places in PLACES.items() if can[part] for place in places}
    if may_decide:
        shown |= {"form-review"} | {
            f"{kind}-{item}" for item in CHECKLISTS[FilingKind(row["kind"])] for kind in DECIDE
        }
    result = row["result"] or {}
    return render(
        "filing.html",
        status,
        user=user,
        filing=row,
        kind_zh=KIND_NAMES_ZH[FilingKind(row["kind"])],
        agency_name=backend.agencies.get(row["agency"]).name,
        checklist=checklist(row, typed),
        item_names={i: n for i, (n, _) in CHECKLISTS[FilingKind(row["kind"])].items()},
        decisions=DECISIONS,
        problems=PROBLEMS,
        may_decide=may_decide,
        can=can,
        competent=competent,
        referred_to=agencies.get(result["competent_agency"]).name
        if result.get("competent_agency")
        else "",
        earlier=earlier_materials(backend, row),
        errors=errors,
        orphans={key: text for key, text in errors.items() if key not in shown},
        kept=kept or {},
        message=message,
    )


@router.get("/console/filings/{receipt}")
def filing_review(
    receipt: str, user: UserDep, backend: BackendDep, done: str | None = None
) -> Response:
    return filing_page(backend, user, receipt_of(receipt), message=DONE.get(done or ""))


def _typed(kind: str, form: Any) -> Typed:
    return {
        item: (text(form, f"decision-{item}"), text(form, f"reason-{item}").strip())
        for item in CHECKLISTS[FilingKind(kind)]
    }


def _check(typed: Typed, action: str) -> tuple[list[NoticeItem], dict[str, str]]:
    """The notice items marked, and what the form lacks before the domain is asked (as the
    JSON schema checks a body): a choice for every item, a reason for every marked one."""
    errors: dict[str, str] = {}
    marked: list[NoticeItem] = []
    for item, (decision, reason) in typed.items():
        if decision not in DECISIONS:
            errors[f"decision-{item}"] = "请选择审查结论"
        elif decision != "ok":
            marked.append(NoticeItem(item=item, problem=decision, reason=reason))
            if not reason and action == "notice":
                errors[f"reason-{item}"] = "请写明需补正的理由"
    if action == "certificate" and marked:
        errors["form-review"] = (
            f"已有 {len(marked)} 项标记为缺少或不符合法定形式：请出具补正通知，"
            "或将其改为“符合”后再出具备案凭证。"
        )
    if action not in {"notice", "certificate"}:
        errors["form-review"] = "请选择“出具补正通知”或“出具备案凭证”"
    return marked, errors


@router.post("/console/filings/{receipt}/review")
def review(receipt: str, user: UserDep, form: FormDep, backend: BackendDep) -> Response:
    receipt = receipt_of(receipt)
    row = readable_filing(backend, user, receipt)
    action = text(form, "action")
    typed = _typed(row["kind"], form)
    marked, errors = _check(typed, action)
    shown: Typed | None = typed
    if errors:
        return filing_page(backend, user, receipt, 422, errors, typed)
    try:
        version = expected_version(text(form, "version") or None)
        if action == "certificate":
            backend.services.filings.issue_certificate(user.actor, receipt, version)
        else:
            backend.services.filings.issue_supplement_notice(user.actor, receipt, marked, version)
    except (NotFound, NotPermitted):
        raise
    except DomainError as error:
        errors = field_errors(error, {"items": "form-review"}, "form-review")
        for item in error.details.get("items") or []:
            errors[f"reason-{item}"] = _item_error(error.code)
        if isinstance(error, ConcurrentChange):
            errors["form-review"] += "（下方已显示最新内容）"
            shown = None  # the case changed: show it as it is now
        return filing_page(backend, user, receipt, status_of(error), errors, shown)
    return see_other(f"/console/filings/{receipt}?done={action}")


def _item_error(code: str) -> str:
    if code == "materials_incomplete":
        return "缺少此项必备材料"
    if code == "notice_names_unchanged_items":
        return "此项在上次通知后未作修改，本次不能再列出"
    return "此项有误"


def _refer(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.filings.refer(u.actor, r, v)


def _withdraw(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.filings.withdraw(u.actor, r, text(f, "withdrawal_reason"), v)


Step = Callable[[Backend, ConsoleUser, str, FormData, int | None], None]
# action -> (command, the domain's field names -> the page's)
ACTIONS: dict[str, tuple[Step, dict[str, str]]] = {
    "refer": (_refer, {}),
    "withdraw": (_withdraw, {"reason": "withdrawal_reason"}),
}


@router.post("/console/filings/{receipt}/{action}")
def act(receipt: str, action: str, user: UserDep, form: FormDep, backend: BackendDep) -> Response:
    """Referral and withdrawal; the review has its own route above."""
    receipt = receipt_of(receipt)
    if action not in ACTIONS:
        raise NotFound("没有该操作", "no such action")
    command, fields = ACTIONS[action]
    kept = {"withdrawal_reason": text(form, "withdrawal_reason")}
    try:
        version = expected_version(text(form, "version") or None)
        command(backend, user, receipt, form, version)
    except (NotFound, NotPermitted):
        raise
    except DomainError as error:
        form_key = f"form-{action}"
        errors = field_errors(error, fields, form_key)
        if isinstance(error, ConcurrentChange):
            errors = {form_key: f"{error.message_zh}（下方已显示最新内容）"}
            kept = {}
        return filing_page(backend, user, receipt, status_of(error), errors, kept=kept)
    return see_other(f"/console/filings/{receipt}?done={action}")

"""The applicant's own steps on the tracking page (RULES.md Art. 9, 16): the answer to an
offered inspection half day (accept it, ask for another, or cancel with a reason) and the
documents a supplement notice asked for. Each form posts, is checked field by field (errors
next to the field, nothing stored), and is handed over exactly as the JSON API's
``POST /api/v1/bookings/{receipt}/answer`` and ``/filings/{receipt}/resubmission`` do it
(routes_intake.own_case and hand_over, the ANSWER and RESUBMISSION formats), then redirects
back to the tracking page with a notice shown once.

The query code stays where the tracking page already keeps it: in the server-side grant made
when it was checked (pages_tracking; sealed, 15 minutes, behind an HttpOnly SameSite=Lax
cookie scoped to /track). It is never put in the page, a hidden field or a URL, and the
applicant is not asked to type it again for a step taken within those 15 minutes. The
internal side checks the code again against its own hash before it acts. A form posted from
another site arrives without the cookie (SameSite=Lax) and is also refused by its
Sec-Fetch-Site header, so no CSRF token is needed; without the grant the form goes to /track."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from api_public.pages_drafts import Handle
from api_public.pages_forms import Form, file_message, status_for, text_fields, uploads_of
from api_public.pages_limits import from_another_site
from api_public.pages_render import backend_of, redirect
from api_public.pages_steps import too_large
from api_public.pages_tracking import (
    COUNTED,
    case_page,
    grant_of,
    keep_grant,
    summary_of,
)
from api_public.problems import PublicProblem
from api_public.routes import rate_limited
from api_public.routes_intake import hand_over, intake_of, own_case
from bridge.contract.intake import (
    ANSWER_FIELDS,
    ANSWER_FORMAT,
    RESUBMISSION_FORMAT,
    IntakeInvalid,
    check_document,
)
from bridge.intake.public import Upload

router = APIRouter(dependencies=[Depends(rate_limited)], include_in_schema=False)
ANSWERS = {"accept": "接受该时段", "another": "另选时段", "cancel": "取消预约"}
# Problems of the step as a whole (not of one field) are shown in the page's error summary.
WHOLE = "form"
# The words for a refusal of the step as a whole; anything else keeps the API's own words.
MESSAGES = {
    "not_waiting_for_this_step": "该事项当前不在等待此项操作的阶段，请查看下面的最新办理进度",
    "idempotency_key_reused": "这一步正在提交中，请稍候片刻后刷新本页查看",
    "submission_in_progress": "这一步正在提交中，请稍候片刻后刷新本页查看",
    "too_many_requests": "提交过于频繁，请一分钟后再提交",
    "intake_unavailable": "暂时无法接收，未保存任何内容，请稍后再提交",
    "not_found": "本站暂不接收网上办理，请到受理窗口办理",
}


@dataclass(frozen=True)
class Step:
    """One kind of step: its intake format, the case status it waits for, the name its
    follow-up is listed under, what is said while one is still waiting, and the notice shown
    after it was handed over (with its receipt number)."""

    record_format: str
    status: str
    kind: str
    waiting: str
    done: str


ANSWER = Step(
    ANSWER_FORMAT,
    "slot_offered",
    "answer",
    "您的答复已提交，正在等待内网处理，请勿重复提交",
    "您的答复已提交（编号 {}），内网处理后此处更新",
)
RESUBMISSION = Step(
    RESUBMISSION_FORMAT,
    "awaiting_supplement",
    "resubmission",
    "补正材料已提交，正在等待内网处理，请勿重复提交",
    "补正材料已提交（编号 {}），内网处理后此处更新",
)


@dataclass
class Posted:
    """What the form gave after its own checks: the fields and files to hand over, what was
    typed (shown again on an error), and an error per field with the status that goes with it."""

    fields: dict[str, str]
    uploads: list[Upload]
    values: dict[str, str]
    errors: dict[str, str]
    status: int = 422


def step_key(handle: Handle, step: Step, seen: int, earlier: int) -> str:
    """The idempotency key of one step: the same for a double click (handed over once), a new
    one once the case moved on or an earlier step was refused on import. It is derived from
    the grant's random id, which only this browser holds."""
    material = f"firegov-portal-step:{handle.id}:{step.record_format}:{seen}:{earlier}"
    return hashlib.sha256(material.encode()).hexdigest()


def refusal(case: dict[str, Any], step: Step) -> tuple[str, str, int] | None:
    """Why the case cannot take the step now, before anything is read or handed over."""
    if case["status"] != step.status:
        return WHOLE, MESSAGES["not_waiting_for_this_step"], 409
    waiting = [f for f in case.get("follow_ups", []) if f["kind"] == step.kind]
    if any(f["status"] == "submitted" for f in waiting):
        return WHOLE, step.waiting, 409
    return None


Reader = Callable[[Request, dict[str, Any]], Awaitable[Posted]]


async def take(request: Request, receipt: str, step: Step, read: Reader) -> Response:
    """The shared path of both steps: the grant, the case's stage, the form's own checks
    (``read``), the hand-over as the JSON API does it, the notice and the redirect."""
    handle, grant = grant_of(request, receipt)
    if handle is None or grant is None or from_another_site(request):
        return redirect(request, "/track")
    try:
        case = summary_of(request, receipt, grant)
    except PublicProblem:  # the case is gone from tracking, or the code no longer fits
        return redirect(request, "/track")
    refused = refusal(case, step)
    if refused is not None:
        field, message, status = refused
        return case_page(request, case, {"errors": {field: message}}, status)
    posted: Posted = await read(request, case)
    if posted.errors:
        context = {"errors": posted.errors, "values": posted.values}
        return case_page(request, case, context, posted.status)
    backend = replace(backend_of(request), code_attempts=COUNTED)
    code = grant["query_code"]
    try:
        intake = intake_of(request, backend)
        _, seen = own_case(request, backend, receipt, code, step.status)
        key = step_key(handle, step, seen, len(case.get("follow_ups", [])))
        submission = orjson.dumps({"case": receipt, "query_code": code, **posted.fields})
        answer = await hand_over(intake, step.record_format, submission, posted.uploads, key, seen)
    except PublicProblem as problem:
        given = problem.extra.get("field")
        field = given if isinstance(given, str) and given in posted.values else WHOLE
        message = MESSAGES.get(problem.code, problem.message_zh)
        context = {"errors": {field: message}, "values": posted.values}
        response = case_page(request, case, context, problem.status)
        if "retry_after" in problem.extra:
            response.headers["Retry-After"] = str(problem.extra["retry_after"])
        return response
    grant["notice"] = step.done.format(answer["receipt_number"])
    keep_grant(request, handle, grant)
    return redirect(request, f"/track/{quote(receipt)}")


async def read_answer(request: Request, case: dict[str, Any]) -> Posted:
    """The answer chosen, and the reason when it is a cancellation (ignored otherwise)."""
    form = Form(await text_fields(request))
    choice = form.choice("answer", "您的答复", ANSWERS)
    reason = form.text("reason", "取消原因", ANSWER_FIELDS["reason"].longest, required=False)
    fields = {"answer": choice}
    if choice == "cancel" and reason:
        fields["reason"] = reason
    return Posted(fields, [], form.values, form.errors)


async def read_documents(request: Request, case: dict[str, Any]) -> Posted:
    """One file per item the notice names, each checked as the intake contract checks it;
    items not chosen stay as they were (as in the JSON API), but at least one is needed.
    Nothing is kept when any file is refused: the applicant chooses the files again."""
    items = {i["item"]: i["name"] for i in (case.get("last_notice") or {}).get("items", [])}
    values = dict.fromkeys(items, "")
    first = next(iter(items), WHOLE)
    large = too_large(request)
    if large:
        return Posted({}, [], values, {first: large}, 413)
    intake = backend_of(request).intake
    limit = intake.max_file_bytes if intake else 0
    uploads: list[Upload] = []
    errors: dict[str, str] = {}
    status = 422
    async with request.form(max_files=len(items) + 1, max_fields=len(items) + 5) as posted:
        chosen: dict[str, UploadFile] = uploads_of(posted)
        for item in items:
            if item not in chosen:
                continue
            data = await chosen[item].read(limit + 1)
            file_name = os.path.basename(chosen[item].filename or "")[:200] or item
            try:
                check_document(item, file_name, data, limit)
            except IntakeInvalid as error:
                errors[item] = file_message(error, limit)  # its label names the item
                status = status_for(error) if status == 422 else status
                continue
            uploads.append(Upload(item, file_name, data))
    if not uploads and not errors:
        errors[first] = "请选择要补正的材料文件（至少一项）"
    return Posted({}, uploads, values, errors, status)


@router.post("/track/{receipt_number}/answer")
async def answer(receipt_number: str, request: Request) -> Response:
    """Art. 16: accept the half day offered, ask for another, or cancel (with a reason)."""
    return await take(request, receipt_number.strip().upper()[:32], ANSWER, read_answer)


@router.post("/track/{receipt_number}/resubmission")
async def resubmission(receipt_number: str, request: Request) -> Response:
    """Art. 9: the documents the supplement notice asked for, uploaded online."""
    return await take(request, receipt_number.strip().upper()[:32], RESUBMISSION, read_documents)

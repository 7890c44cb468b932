"""What the two step-by-step forms (filing and booking) share: the draft kept between steps
(pages_drafts, behind an HttpOnly cookie), reading an uploaded file and checking it as the
intake contract does, keeping it within the drafts' limits (pages_limits), the submission
through the same PublicIntake.submit as the JSON API, and the confirmation page that shows the
receipt number and the query code exactly once (handed over by a one-time server-side record,
never by the URL) as a printable receipt."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api_public.pages_budgets import DraftsFull, Overflow
from api_public.pages_drafts import Handle
from api_public.pages_forms import file_message, megabytes
from api_public.pages_limits import UPLOADED_TOO_OFTEN, busy, too_often
from api_public.pages_render import (
    SHANGHAI,
    backend_of,
    clear_handle,
    drafts_of,
    handle_of,
    redirect,
    render,
    set_handle,
)
from api_public.routes import rate_limited
from bridge.contract.intake import IntakeInvalid, check_document
from bridge.intake.public import IdempotencyConflict, IntakeUnavailable, Upload
from projections.client_address import client_key_of

router = APIRouter(dependencies=[Depends(rate_limited)], include_in_schema=False)
DRAFT_TTL = 2 * 3600  # a form left for two hours starts again
RECEIPT_TTL = 30 * 60
RECEIPT_COOKIE, RECEIPT_PATH, RECEIPT_PURPOSE = "fg_receipt", "/submitted", "receipt"
MULTIPART_OVERHEAD = 1024 * 1024
ACCEPT = ".pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png"


@dataclass(frozen=True)
class Steps:
    """One step-by-step form: its cookie (scoped to its path) and its kind of draft."""

    cookie: str
    path: str
    purpose: str

    def load(self, request: Request) -> tuple[Handle | None, dict[str, Any] | None]:
        handle = handle_of(request, self.cookie)
        return handle, drafts_of(request).load(handle, self.purpose)

    def start(self, request: Request) -> tuple[Handle, dict[str, Any]]:
        """The draft in progress, or a new one (with the idempotency key of its submission:
        a double click on "submit" files once)."""
        handle, draft = self.load(request)
        if handle is None or draft is None:
            draft = {"fields": {}, "documents": {}, "key": secrets.token_urlsafe(24)}
            handle = drafts_of(request).new(self.purpose, draft, DRAFT_TTL)
        return handle, draft

    def keep(self, request: Request, handle: Handle, draft: dict[str, Any], to: str) -> Response:
        """Save the draft and go on to ``to`` (303)."""
        drafts_of(request).save(handle, self.purpose, draft, DRAFT_TTL)
        response = redirect(request, to)
        set_handle(request, response, self.cookie, handle, self.path, DRAFT_TTL)
        return response

    def forget(self, request: Request, handle: Handle | None, to: str) -> Response:
        drafts_of(request).delete(handle)
        response = redirect(request, to)
        clear_handle(request, response, self.cookie, self.path)
        return response


def too_large(request: Request) -> str | None:
    """Refuse a body larger than every file allowed together before reading it."""
    intake = backend_of(request).intake
    length = request.headers.get("content-length", "")
    if (
        intake
        and length.isascii()
        and length.isdigit()
        and int(length) > intake.max_submission_bytes + MULTIPART_OVERHEAD
    ):
        return f"所选文件合计超过 {megabytes(intake.max_submission_bytes)}，请压缩后重新选择"
    return None


@dataclass(frozen=True)
class Refused:
    """Why a file or the submission was not taken: the field, its message and the status."""

    field: str
    message: str
    status: int


@dataclass(frozen=True)
class Chosen:
    """A file chosen for one item that passed the intake contract's checks, not yet kept."""

    item: str
    file_name: str
    content: bytes
    media_type: str

    @property
    def described(self) -> dict[str, Any]:
        """What the draft says of it (the file itself is kept apart, sealed)."""
        return {
            "file_name": self.file_name,
            "size": len(self.content),
            "media_type": self.media_type,
        }


async def read_upload(request: Request, item: str, upload: UploadFile) -> Chosen | Refused:
    """Read one chosen file and check it as the contract does: the file, or the error to
    show next to its field and the status that goes with it."""
    intake = backend_of(request).intake
    assert intake is not None  # noqa: S101 - the caller refuses when intake is off
    data = await upload.read(intake.max_file_bytes + 1)
    name = os.path.basename(upload.filename or "")[:200] or item
    try:
        media_type = check_document(item, name, data, intake.max_file_bytes)
    except IntakeInvalid as error:
        status = 413 if error.code == "file_too_large" else 422
        return Refused(item, file_message(error, intake.max_file_bytes), status)
    return Chosen(item, name, data, media_type)


async def keep_uploads(
    request: Request, handle: Handle, chosen: list[Chosen], back: str
) -> dict[str, Refused]:
    """Keep the chosen files with the draft, each only within the budgets (pages_drafts): the
    ones refused, with the words for their field and the status; the 系统繁忙 page (PageStop)
    with nothing kept when all drafts together are full."""
    backend = backend_of(request)
    assert backend.intake is not None  # noqa: S101 - the caller refuses when intake is off
    per_draft = backend.intake.max_submission_bytes
    try:
        over = await run_in_threadpool(
            drafts_of(request).put_files,
            handle,
            client_key_of(request),
            {c.item: c.content for c in chosen},
            per_draft,
            backend.drafts,
        )
    except DraftsFull:
        raise busy(back) from None
    words = {
        Overflow.DRAFT: (
            f"与已上传的材料合计将超过 {megabytes(per_draft)} 的上限，此文件未保存；"
            "请压缩后重新选择",
            413,
        ),
        Overflow.CLIENT: (
            "您所在的网络暂存的未提交材料已达上限，此文件未保存；请先提交或清除其他未完成的"
            "申报，或稍后再上传",
            429,
        ),
    }
    return {item: Refused(item, *words[budget]) for item, budget in over.items()}


async def keep_chosen(
    request: Request, handle: Handle, draft: dict[str, Any], chosen: list[Chosen], back: str
) -> dict[str, Refused]:
    """An upload step: counted per client address (too often: every file refused, none
    kept), then each file kept within the budgets and described in the draft. The refused
    ones; the 系统繁忙 page (PageStop) when all drafts together are full."""
    if not chosen:
        return {}
    wait = too_often(request)
    if wait:
        return {c.item: Refused(c.item, UPLOADED_TOO_OFTEN.format(wait), 429) for c in chosen}
    refused = await keep_uploads(request, handle, chosen, back)
    for found in chosen:
        if found.item not in refused:
            draft["documents"][found.item] = found.described
    return refused


def status_of(refused: dict[str, Refused]) -> int:
    """The page's status: the first that says more than 422 (413 too large, 429 too many)."""
    return next((r.status for r in refused.values() if r.status != 422), 422)


def uploads_of_draft(request: Request, handle: Handle, draft: dict[str, Any]) -> list[Upload]:
    """The files kept with the draft, as the intake takes them (missing ones left out)."""
    found = []
    for item, meta in draft["documents"].items():
        content = drafts_of(request).file(handle, item)
        if content is not None:
            found.append(Upload(item, meta["file_name"], content))
    return found


async def submit(
    request: Request, record_format: str, fields: dict[str, Any], uploads: list[Upload], key: str
) -> dict[str, Any] | Refused:
    """The same PublicIntake.submit as ``POST /api/v1/filings`` and ``/bookings``."""
    backend = backend_of(request)
    intake = backend.intake
    if intake is None:
        return Refused("form", "本站暂不接收网上申报，请到受理窗口办理", 404)
    if backend.submissions is not None and backend.submissions.take(client_key_of(request)):
        return Refused("form", "提交过于频繁，请一分钟后再提交（已填写的内容仍保留）", 429)
    try:
        return await run_in_threadpool(
            intake.submit, record_format, orjson.dumps(fields), uploads, key
        )
    except IntakeInvalid as error:
        status = 413 if error.code in {"file_too_large", "submission_too_large"} else 422
        return Refused(error.field, file_message(error, intake.max_file_bytes), status)
    except IdempotencyConflict:
        return Refused("form", "这份申报正在提交中，请稍候片刻后再点“确认提交”", 409)
    except IntakeUnavailable:
        return Refused(
            "form",
            "暂时无法接收申报，未保存任何内容；已填写的内容仍保留，请稍后再点“确认提交”",
            503,
        )


def hand_over(
    request: Request, steps: Steps, handle: Handle, answer: dict[str, Any], shown: dict[str, Any]
) -> Response:
    """Drop the draft, keep the receipt number and query code for one showing, and go to the
    confirmation page. The query code exists in the clear nowhere else."""
    drafts = drafts_of(request)
    drafts.delete(handle)
    now = backend_of(request).clock().astimezone(SHANGHAI)
    receipt = answer["receipt_number"]
    record = {**shown, "receipt_number": receipt, "query_code": answer["query_code"]}
    record["submitted_at"] = now.isoformat(timespec="minutes")
    once = drafts.new(RECEIPT_PURPOSE, record, RECEIPT_TTL)
    response = redirect(request, f"/submitted/{receipt}")
    clear_handle(request, response, steps.cookie, steps.path)
    set_handle(request, response, RECEIPT_COOKIE, once, RECEIPT_PATH, RECEIPT_TTL)
    return response


@router.get("/submitted/{receipt_number}")
def submitted(receipt_number: str, request: Request) -> Response:
    """The receipt, shown once: reloading it shows the receipt number but no longer the code."""
    drafts = drafts_of(request)
    handle = handle_of(request, RECEIPT_COOKIE)
    record = drafts.load(handle, RECEIPT_PURPOSE)
    shown = None
    if record is not None and record["receipt_number"] == receipt_number:
        shown = drafts.take(handle, RECEIPT_PURPOSE)
    response = render(
        request, "submitted.html", {"receipt": shown, "receipt_number": receipt_number[:32]}
    )
    if shown is not None:
        clear_handle(request, response, RECEIPT_COOKIE, RECEIPT_PATH)
    return response

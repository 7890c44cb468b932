"""Submissions from the public (issue 4): ``POST /api/v1/filings`` and ``POST /api/v1/bookings``,
multipart with a JSON field ``submission`` and one file per document (the field name is the
checklist item code; a booking's certificate scan is ``basis_document``). Everything is checked
here as far as the public side can without the domain, handed to the intake transport as one
inert bundle, and answered with a receipt number and a query code shown once. The internal side
imports the bundle and checks everything again; nothing here can make a command run."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api_public.problems import PublicProblem
from api_public.routes import BackendDep, PublicBackend, limited, rate_limited
from bridge.contract.intake import (
    ANSWER_FORMAT,
    BASIS_DOCUMENT,
    BOOKING_FIELDS,
    BOOKING_FORMAT,
    FILING_FIELDS,
    FILING_FORMAT,
    RESUBMISSION_FORMAT,
    IntakeInvalid,
)
from bridge.contract.intake import Field as ContractField
from bridge.contract.query_code import verify_query_code
from bridge.intake.public import IdempotencyConflict, IntakeUnavailable, PublicIntake, Upload
from projections.api_docs import multipart_body, problems
from projections.client_address import client_key_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limited)])
MULTIPART_OVERHEAD = 1024 * 1024


def submission_part(fields: dict[str, ContractField]) -> dict[str, Any]:
    """The ``submission`` part as JSON Schema, from the intake contract's own field table."""
    return {
        "type": "object",
        "properties": {
            name: {"type": "boolean"}
            if field.kind is bool
            else {"type": "string", "maxLength": field.longest}
            for name, field in fields.items()
        },
        "required": [name for name, field in fields.items() if field.required],
        "additionalProperties": False,
    }


FILES = "文件（PDF、JPEG、PNG、OFD，按内容判定）/ a file"
FILING_BODY = multipart_body(
    {"submission": submission_part(FILING_FIELDS)}, ["submission"], "材料项代码 → " + FILES
)
BOOKING_BODY = multipart_body(
    {
        "submission": submission_part(BOOKING_FIELDS),
        BASIS_DOCUMENT: {"type": "string", "format": "binary", "description": FILES},
    },
    ["submission"],
    "不接收其他文件 / no other file",
)
RESUBMISSION_BODY = multipart_body({}, [], "材料项代码 → " + FILES)
# What the intake routes answer beyond every API route (api_public.app adds 411, 413, 429).
SUBMISSION_REFUSED = problems(
    400, 404, 409, 413, 415, 503,
    s400="multipart 无法解析，或字段、文件超过 40 个 / the form cannot be read",
    s404="本站不接收网上申报 / this site takes no submissions",
    s409="同一 Idempotency-Key 已用于不同的提交 / the key was used for another submission",
    s413="文件或材料合计过大 / a file or the files together are too large",
    s415="文件类型不被接受，或扩展名与内容不符 / a file's type is not accepted",
    s503="暂时无法接收，未保存任何内容（带 Retry-After）/ nothing was kept, retry later",
)  # fmt: skip
STEP_REFUSED = {
    **SUBMISSION_REFUSED,
    **problems(
        403, 404, 409,
        s403="查询码不正确 / wrong query code",
        s404="没有该受理编号的记录，或本站不接收网上申报 / no such case",
        s409="事项不在等待此项操作的阶段，或 Idempotency-Key 已用于不同的提交 / not now",
    ),
}  # fmt: skip


def refused(error: IntakeInvalid) -> PublicProblem:
    status = 413 if error.code in {"file_too_large", "submission_too_large"} else 422
    if error.code in {"unsupported_file_type", "extension_mismatch"}:
        status = 415
    return PublicProblem(status, error.code, error.message_zh, error.message_en, field=error.field)


async def read_uploads(
    request: Request, intake: PublicIntake, need_submission: bool = True
) -> tuple[bytes, list[Upload]]:
    length = request.headers.get("content-length")
    if (
        length
        and length.isascii()
        and length.isdigit()
        and int(length) > intake.max_submission_bytes + MULTIPART_OVERHEAD
    ):
        raise refused(
            IntakeInvalid(
                "submission_too_large",
                "files",
                f"材料合计超过 {intake.max_submission_bytes} 字节的上限",
                f"the files together are larger than {intake.max_submission_bytes} bytes",
            )
        )
    async with request.form(max_files=40, max_fields=40) as form:
        submission: bytes | None = None
        uploads: list[Upload] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read(intake.max_file_bytes + 1)
                uploads.append(Upload(name, value.filename or "", data))
            elif name == "submission":
                submission = value.encode()
    if submission is None and need_submission:
        raise refused(
            IntakeInvalid(
                "missing_field", "submission", "缺少 submission 字段", "no submission field"
            )
        )
    return submission or b"", uploads


IdempotencyKey = Annotated[str | None, Header(min_length=16, max_length=128)]


def intake_of(request: Request, backend: PublicBackend) -> PublicIntake:
    if backend.intake is None:
        raise PublicProblem(
            404, "not_found", "本站不接收网上申报", "this site takes no submissions"
        )
    if backend.submissions is not None:
        limited(backend.submissions, client_key_of(request))
    return backend.intake


async def submit(
    record_format: str, request: Request, backend: BackendDep, idempotency_key: str | None
) -> dict[str, Any]:
    intake = intake_of(request, backend)
    submission, uploads = await read_uploads(request, intake)
    return await hand_over(intake, record_format, submission, uploads, idempotency_key)


async def hand_over(
    intake: PublicIntake,
    record_format: str,
    submission: bytes,
    uploads: list[Upload],
    idempotency_key: str | None,
    steps_seen: int = 0,
) -> dict[str, Any]:
    try:
        return await run_in_threadpool(
            intake.submit, record_format, submission, uploads, idempotency_key, steps_seen
        )
    except IntakeInvalid as error:
        raise refused(error) from None
    except IdempotencyConflict as error:
        raise PublicProblem(
            409, error.code, error.message_zh, error.message_en, field="Idempotency-Key"
        ) from None
    except IntakeUnavailable:
        raise PublicProblem(
            503,
            "intake_unavailable",
            "暂时无法接收申报，未保存任何内容，请稍后重新提交",
            "submissions cannot be taken just now; nothing was kept, please submit again later",
            retry_after=30,
        ) from None


@router.post(
    "/filings",
    tags=["网上申报 intake"],
    summary="网上提交消防备案申请",
    status_code=201,
    description="multipart：`submission`（JSON：kind, organisation_name, credit_code, project_name,"
    " project_address, district, contact_name, contact_phone）与每个材料项一个文件（字段名为材料项"
    "代码）。文件类型按内容判定（PDF、JPEG、PNG、OFD），扩展名须与内容一致，压缩包不予接收。"
    "返回受理编号和查询码（只显示这一次）。同一 `Idempotency-Key` 重复提交返回第一次的答复。",
    responses=SUBMISSION_REFUSED,
    openapi_extra=FILING_BODY,
)
async def submit_filing(
    request: Request, backend: BackendDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return await submit(FILING_FORMAT, request, backend, idempotency_key)


@router.post(
    "/bookings",
    tags=["网上申报 intake"],
    summary="网上预约消防检查",
    status_code=201,
    description="multipart：`submission`（JSON：kind（pre_opening 公众聚集场所投入使用、营业前消防"
    "安全检查 / fire_acceptance 消防验收现场检查 / completion_spot_check 竣工验收消防备案抽查），"
    "basis_kind（依次为 inspection_receipt 消防安全检查申请受理凭证 / acceptance_receipt 建设工程"
    "消防验收申请受理凭证 / completion_certificate 竣工验收消防备案凭证），route（ordinary 或 "
    "notice_commitment 告知承诺，可省略），district, agency（可省略，默认为有管辖权的机构）, "
    "organisation_name, credit_code, project_name, wished_time（ISO 8601，如 2027-03-02T09:00，"
    "北京时间）, contact_name, contact_phone, basis_number, basis_on_platform（凭证是否"
    "由本平台出具：true/false））。凭证不是本平台出具的，须以 `basis_document` 字段上传其扫描件"
    "（PDF、JPEG、PNG、OFD）。返回受理编号（YY 开头）和查询码（只显示这一次）；同一 "
    "`Idempotency-Key` 重复提交返回第一次的答复。",
    responses=SUBMISSION_REFUSED,
    openapi_extra=BOOKING_BODY,
)
async def submit_booking(
    request: Request, backend: BackendDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return await submit(BOOKING_FORMAT, request, backend, idempotency_key)


QueryCode = Annotated[str, Header(min_length=4, max_length=64)]


def own_case(
    request: Request, backend: PublicBackend, receipt_number: str, code: str, status: str
) -> tuple[str, int]:
    """The case's receipt number and how many steps its tracking shows, once the query code
    matches it (counted against the query-code limit) and the case waits for this step; the
    internal side checks both again."""
    limited(backend.code_attempts, client_key_of(request))
    receipt = receipt_number.strip().upper()[:32]
    case = backend.queries.case(receipt)
    if case is None:
        raise PublicProblem(
            404, "case_not_found", "没有该受理编号的记录", "no case with this receipt number"
        )
    if not case["query_code_hash"] or not verify_query_code(code, case["query_code_hash"]):
        raise PublicProblem(
            403,
            "wrong_query_code",
            "查询码不正确，请核对受理回执上的查询码",
            "the query code does not match this receipt number",
            field="X-Query-Code",
        )
    if case["status"] != status:
        raise PublicProblem(
            409,
            "not_waiting_for_this_step",
            "该事项当前不在等待此项操作的阶段，请刷新办理进度",
            "the case is not waiting for this step; reload its tracking",
        )
    return receipt, len(case["timeline"])


@router.post(
    "/filings/{receipt_number}/resubmission",
    tags=["网上申报 intake"],
    summary="网上提交补正材料",
    status_code=202,
    description="补正通知之后，申请人上传通知所列材料（multipart，每个材料项一个文件，字段名为材料项"
    "代码），在 `X-Query-Code` 头中提交查询码。未上传的材料项保持原样。"
    "返回本次提交的编号（BZ 开头）；内网核对查询码和材料后受理，进度在原受理编号下查询。",
    responses=STEP_REFUSED,
    openapi_extra=RESUBMISSION_BODY,
)
async def resubmit_filing(
    receipt_number: str,
    request: Request,
    backend: BackendDep,
    x_query_code: QueryCode,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    intake = intake_of(request, backend)
    case, seen = own_case(request, backend, receipt_number, x_query_code, "awaiting_supplement")
    _, uploads = await read_uploads(request, intake, need_submission=False)
    submission = orjson.dumps({"case": case, "query_code": x_query_code})
    return await hand_over(intake, RESUBMISSION_FORMAT, submission, uploads, idempotency_key, seen)


class AnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: Literal["accept", "another", "cancel"] = Field(
        description="accept 接受该时段 / another 另选时段 / cancel 取消预约"
    )
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="取消的理由（可省略；仅随 cancel 记录）。只在内网保存，公开端仅以查询码派生的"
        "密钥加密保存，凭查询码查询进度时显示给申请人本人，从不公开",
    )


@router.post(
    "/bookings/{receipt_number}/answer",
    tags=["网上申报 intake"],
    summary="答复所安排的检查时间",
    status_code=202,
    description="承办人回复检查时间后，申请人接受（accept）、另选时段（another，开始新的 2 个工作日"
    "答复期限）或取消预约（cancel）；在 `X-Query-Code` 头中提交查询码。"
    "返回本次答复的编号（DF 开头）；内网核对查询码后办理，进度在原受理编号下查询。",
    responses={status: STEP_REFUSED[status] for status in (403, 404, 409, 503)},
)
async def answer_booking(
    receipt_number: str,
    body: AnswerCreate,
    request: Request,
    backend: BackendDep,
    x_query_code: QueryCode,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    intake = intake_of(request, backend)
    case, seen = own_case(request, backend, receipt_number, x_query_code, "slot_offered")
    fields: dict[str, str] = {"case": case, "answer": body.answer, "query_code": x_query_code}
    if body.reason and body.answer == "cancel":  # as the portal's form: a reason to cancel
        fields["reason"] = body.reason
    return await hand_over(intake, ANSWER_FORMAT, orjson.dumps(fields), [], idempotency_key, seen)

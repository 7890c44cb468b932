"""Submissions from the public (issue 4): ``POST /api/v1/filings`` and ``POST /api/v1/bookings``,
multipart with a JSON field ``submission`` and one file per document (the field name is the
checklist item code; a booking's certificate scan is ``basis_document``). Everything is checked
here as far as the public side can without the domain, handed to the intake transport as one
inert bundle, and answered with a receipt number and a query code shown once. The internal side
imports the bundle and checks everything again; nothing here can make a command run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api_public.problems import PublicProblem
from api_public.routes import BackendDep, client, limited, rate_limited
from bridge.contract.intake import BOOKING_FORMAT, FILING_FORMAT, IntakeInvalid
from bridge.intake.public import IdempotencyConflict, IntakeUnavailable, PublicIntake, Upload

router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limited)])
MULTIPART_OVERHEAD = 1024 * 1024


def refused(error: IntakeInvalid) -> PublicProblem:
    status = 413 if error.code in {"file_too_large", "submission_too_large"} else 422
    if error.code in {"unsupported_file_type", "extension_mismatch"}:
        status = 415
    return PublicProblem(status, error.code, error.message_zh, error.message_en, field=error.field)


async def read_uploads(request: Request, intake: PublicIntake) -> tuple[bytes, list[Upload]]:
    length = request.headers.get("content-length")
    if (
        length
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
    if submission is None:
        raise refused(
            IntakeInvalid(
                "missing_field", "submission", "缺少 submission 字段", "no submission field"
            )
        )
    return submission, uploads


IdempotencyKey = Annotated[str | None, Header(min_length=16, max_length=128)]


async def submit(
    record_format: str, request: Request, backend: BackendDep, idempotency_key: str | None
) -> dict[str, Any]:
    intake = backend.intake
    if intake is None:
        raise PublicProblem(
            404, "not_found", "本站不接收网上申报", "this site takes no submissions"
        )
    if backend.submissions is not None:
        limited(backend.submissions, client(request))
    submission, uploads = await read_uploads(request, intake)
    try:
        return await run_in_threadpool(
            intake.submit, record_format, submission, uploads, idempotency_key
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
)
async def submit_booking(
    request: Request, backend: BackendDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return await submit(BOOKING_FORMAT, request, backend, idempotency_key)

"""Submissions from the public (issue 4): ``POST /api/v1/filings``, multipart with a JSON field
``submission`` and one file per checklist item (the field name is the item code). Everything
is checked here as far as the public side can without the domain, stored as one inert record,
and answered with a receipt number and a query code shown once. The internal side imports the
record and checks everything again; nothing here can make a command run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api_public.problems import PublicProblem
from api_public.routes import BackendDep, client, limited, rate_limited
from bridge.contract.intake import IntakeInvalid
from bridge.intake.public import IdempotencyConflict, PublicIntake, Upload

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
    request: Request,
    backend: BackendDep,
    idempotency_key: Annotated[str | None, Header(min_length=16, max_length=128)] = None,
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
        return await run_in_threadpool(intake.submit_filing, submission, uploads, idempotency_key)
    except IntakeInvalid as error:
        raise refused(error) from None
    except IdempotencyConflict as error:
        raise PublicProblem(
            409, error.code, error.message_zh, error.message_en, field="Idempotency-Key"
        ) from None

"""The public API (RULES.md Art. 10, 20, 29): case tracking with the applicant's query code
(filings and bookings), certificate verification, published inspection results, each
agency's days with room for inspections, the bridge's status and the ledger checkpoints.
Read-only: nothing here can cause anything on the internal side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api_public.booking_tracking import booking_summary, pending_notes
from api_public.pages_budgets import DraftLimits
from api_public.pages_catalogue import Catalogue, Operator
from api_public.problems import PublicProblem
from api_public.ratelimit import RateLimiter
from bridge.contract.query_code import verify_query_code
from bridge.intake.public import PublicIntake
from projections.api_docs import problems
from projections.client_address import TrustedProxies, client_key_of
from projections.public.queries import PublicQueries
from projections.public.views import STATUS_NAMES_ZH, STEP_NAMES_ZH

router = APIRouter(prefix="/api/v1")
LIST_CACHE = "public, max-age=60"


@dataclass
class PublicBackend:
    queries: PublicQueries
    # The limits count client keys (projections.client_address: IPv4 address, IPv6 /64).
    requests: RateLimiter  # every request, per client
    code_attempts: RateLimiter  # query-code checks, per client
    intake: PublicIntake | None = None  # None: this installation takes no submissions
    submissions: RateLimiter | None = None  # submissions, per client
    # What time it is: which days with room are already past.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Where the portal is reached from the internet: certificates' QR codes point there.
    public_base_url: str = "http://127.0.0.1:8000"
    # The portal pages' service guides and footer (api_public/pages*.py), built from the
    # domain by the composition root; empty: the pages show no guides.
    catalogue: Catalogue = field(default_factory=Catalogue)
    operator: Operator = field(default_factory=Operator)
    # What the portal's unfinished drafts may hold at once, and how often one address may
    # start one or upload into one (api_public/pages_limits.py).
    drafts: DraftLimits = field(default_factory=DraftLimits)
    # Who may say, in X-Forwarded-For, for whom a request comes (FIREGOV_PUBLIC_TRUSTED_PROXIES).
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)


def backend(request: Request) -> PublicBackend:
    found: PublicBackend = request.app.state.backend
    return found


BackendDep = Annotated[PublicBackend, Depends(backend)]


def limited(limiter: RateLimiter, who: str) -> None:
    wait = limiter.take(who)
    if wait:
        raise PublicProblem(
            429,
            "too_many_requests",
            "请求过于频繁，请稍后再试",
            "too many requests; slow down",
            retry_after=max(1, round(wait)),
        )


def rate_limited(request: Request, backend: BackendDep) -> None:
    limited(backend.requests, client_key_of(request))


router.dependencies.append(Depends(rate_limited))


@router.get(
    "/cases/{receipt_number}",
    tags=["办理进度 tracking"],
    summary="查询办理进度",
    description="备案（BA…）或预约（YY…）的受理编号查询状态、时间线和期限；在 `X-Query-Code` "
    "头中提交查询码后，另显示单位、工程、补正事项、检查时间（上午/下午）、不予安排或不予受理的"
    "理由、检查结果等详情。查询码错误返回 403；每个地址每分钟最多尝试 10 次查询码。",
    responses=problems(403, 404),
)
def track_case(
    receipt_number: str,
    request: Request,
    backend: BackendDep,
    response: Response,
    x_query_code: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    case = backend.queries.case(receipt_number.strip().upper()[:32])
    if x_query_code is not None:
        limited(backend.code_attempts, client_key_of(request))
    if case is None:
        pending = (
            backend.intake.pending(receipt_number.strip().upper()[:32]) if backend.intake else None
        )
        if pending is not None:
            refused = backend.queries.quarantine(pending["receipt_number"])
            return pending_summary(pending, x_query_code, refused)
        raise PublicProblem(
            404,
            "case_not_found",
            "没有该受理编号的记录，请核对编号；刚提交的事项请稍候再查",
            "no case with this receipt number; a case just filed may take a moment",
        )
    detailed = False
    if x_query_code is not None:
        if not case["query_code_hash"] or not verify_query_code(
            x_query_code, case["query_code_hash"]
        ):
            raise PublicProblem(
                403,
                "wrong_query_code",
                "查询码不正确，请核对受理回执上的查询码",
                "the query code does not match this receipt number",
                field="X-Query-Code",
            )
        detailed = True
    if case["booking"] is not None:
        code = x_query_code if detailed else None
        return with_follow_ups(backend, booking_summary(case, detailed), code)
    summary = {
        "receipt_number": case["receipt_number"],
        "case_type": "filing",
        "status": case["status"],
        "status_zh": STATUS_NAMES_ZH.get(case["status"], case["status"]),
        "received_at": case["received_at"],
        "review_deadline": case["review_deadline"],
        "deadlines_pending": pending_notes(case),
        "agency_name": case["agency_name"],
        "details_shown": detailed,
        "timeline": [
            {
                "step": t["type"],
                "step_zh": STEP_NAMES_ZH.get(t["type"], t["type"]),
                "at": t["at"],
                **({"details": t["details"]} if detailed else {}),
            }
            for t in case["timeline"]
        ],
    }
    if detailed:
        summary |= {
            key: case[key]
            for key in (
                "kind",
                "organisation_name",
                "credit_code",
                "project_name",
                "district",
                "certificate_number",
                "certificate_issued_at",
                "last_notice",
                "referral",
            )
        }
    return with_follow_ups(backend, summary, x_query_code if detailed else None)


FOLLOW_UP_NAMES_ZH = {"resubmission": "网上补正材料", "answer": "网上答复检查时间"}


def with_follow_ups(
    backend: PublicBackend, summary: dict[str, Any], code: str | None
) -> dict[str, Any]:
    """With the query code (checked): the applicant's own steps on the case submitted online —
    refused on import (with the reason), or waiting, or taken in (the case moved on after it) —
    each with what they typed for themselves, opened with their code (docs/personal-data.md)."""
    if code is None or backend.intake is None:
        return summary
    own = backend.intake.own_texts(summary["receipt_number"], code)
    steps = []
    for step in backend.intake.follow_ups(summary["receipt_number"]):
        refused = backend.queries.quarantine(step["receipt_number"])
        moved_on = len(summary["timeline"]) > step["steps_seen"]
        status = "processed" if moved_on else "submitted"
        entry: dict[str, Any] = {
            "receipt_number": step["receipt_number"],
            "kind": step["kind"],
            "kind_zh": FOLLOW_UP_NAMES_ZH.get(step["kind"], step["kind"]),
            "submitted_at": step["submitted_at"],
            "status": "quarantined" if refused else status,
        }
        if refused is not None:
            entry["reason"] = {
                "code": refused["code"],
                "field": refused["field"] or None,
                "message_zh": refused["reason_zh"],
                "message_en": refused["reason_en"],
            }
        typed = own.get(step["receipt_number"], {})
        if typed.get("answer"):
            entry["answer"] = typed["answer"]
        if typed.get("reason"):
            entry["applicant_reason"] = typed["reason"]
        steps.append(entry)
    return {**summary, **own_cancel_reason(summary, steps), "follow_ups": steps}


def own_cancel_reason(summary: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A booking cancelled online: the reason the applicant gave, from their own step (the
    reason never crosses the bridge: it is theirs, kept inside sealed)."""
    if summary.get("case_type") != "booking" or summary.get("status") != "cancelled":
        return {}
    given = [s for s in steps if s.get("answer") == "cancel" and s["status"] == "processed"]
    return {"cancel_reason": given[-1].get("applicant_reason") if given else None}


def pending_summary(
    pending: dict[str, Any], code: str | None, refused: dict[str, Any] | None
) -> dict[str, Any]:
    """A submission the public side holds until the bridge brings the real case, or the
    reason the internal side did not take it in (shown in full with the query code)."""
    if code is not None and not verify_query_code(code, pending["query_code_hash"]):
        raise PublicProblem(
            403,
            "wrong_query_code",
            "查询码不正确，请核对受理回执上的查询码",
            "the query code does not match this receipt number",
            field="X-Query-Code",
        )
    summary: dict[str, Any] = {
        "receipt_number": pending["receipt_number"],
        "case_type": "booking" if pending["receipt_number"].startswith("YY") else "filing",
        "status": "submitted",
        "status_zh": "已提交，等待内网接收",
        "status_en": "received, waiting for the internal side",
        "submitted_at": pending["submitted_at"],
        "details_shown": code is not None,
        "timeline": [],
    }
    if refused is not None:
        summary |= {
            "status": "quarantined",
            "status_zh": "未通过接收检查，请按原因修改后重新提交",
            "status_en": "not taken in: correct what the reason names and submit again",
            "quarantined_at": refused["quarantined_at"],
        }
        if code is not None:
            summary["reason"] = {
                "code": refused["code"],
                "field": refused["field"] or None,
                "message_zh": refused["reason_zh"],
                "message_en": refused["reason_en"],
            }
    return summary


@router.get(
    "/certificates/{certificate_number}",
    tags=["凭证核验 verification"],
    summary="核验备案凭证",
    description="凭证编号（备案凭证上的二维码即指向此处）→ valid 有效 / withdrawn 已撤销 / unknown "
    "未找到，并给出单位、工程、机构和日期。",
)
def verify_certificate(
    certificate_number: str, backend: BackendDep, response: Response
) -> dict[str, Any]:
    # Not cached by shared caches: a certificate issued a moment ago must not read "unknown".
    response.headers["Cache-Control"] = "no-cache"
    found = backend.queries.certificate(certificate_number.strip()[:64])
    if found is None:
        return {
            "certificate_number": certificate_number,
            "status": "unknown",
            "status_zh": "未找到",
        }
    names = {"valid": "有效", "withdrawn": "已撤销"}
    return {**found, "status_zh": names.get(found["status"], found["status"])}


@router.get(
    "/inspection-results",
    tags=["结果公示 results"],
    summary="已公布的抽查结果",
    description="按机构代码、区县、公布日期（含 from，不含 to）筛选，分页（每页最多 100 条）。",
)
def inspection_results(
    backend: BackendDep,
    response: Response,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    published_from: Annotated[date | None, Query(alias="from")] = None,
    published_to: Annotated[date | None, Query(alias="to")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = LIST_CACHE
    found = backend.queries.inspection_results(
        agency,
        district,
        published_from.isoformat() if published_from else None,
        published_to.isoformat() if published_to else None,
        page,
        size,
    )
    return asdict(found)


@router.get("/bridge/status", tags=["运行 operations"], summary="内外网数据交换状态")
def bridge_status(backend: BackendDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    status = backend.queries.receiver_status() or {}
    return {
        "healthy": status.get("problem") is None,
        "last_seq": status.get("last_seq", 0),
        "high_water": status.get("high_water"),
        "applied_at": status.get("applied_at"),
        "problem": status.get("problem"),
        "problem_detail": status.get("problem_detail"),
        "problem_at": status.get("problem_at"),
        "refused_batches": status.get("refused", 0),
    }


@router.get(
    "/ledger/checkpoints",
    tags=["运行 operations"],
    summary="内网事件账本检查点",
    description="内网全部事件哈希链的定期检查点（位置、链头哈希、算法）；公众与审计可据此核对内网历史未被改写。",
)
def ledger_checkpoints(
    backend: BackendDep,
    response: Response,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = LIST_CACHE
    return {"checkpoints": backend.queries.checkpoints(after, limit)}

"""Book an on-site inspection on the portal (RULES.md Art. 11-16, 29), in four steps that
each post and redirect: 1 the kind (and route) and the project's district, 2 the agency (the
competent one suggested from the district) and a half day that still has room (the public
days-with-room projection, as ``GET /api/v1/agencies/{code}/availability``), 3 the project,
organisation, contact and the document the booking rests on (Art. 13: its scan, unless this
platform issued it), 4 review and submit through PublicIntake.submit like
``POST /api/v1/bookings``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api_public.pages_booking_parts import (
    HALVES,
    check_platform_certificate,
    days_with_room,
    shown,
    submission,
)
from api_public.pages_catalogue import Guide
from api_public.pages_forms import Form, megabytes, text_fields, uploads_of
from api_public.pages_limits import STARTED_TOO_OFTEN, same_site_forms, slowed, too_often
from api_public.pages_render import SHANGHAI, backend_of, drafts_of, redirect, render
from api_public.pages_steps import (
    ACCEPT,
    DRAFT_TTL,
    Chosen,
    Refused,
    Steps,
    hand_over,
    keep_chosen,
    read_upload,
    status_of,
    submit,
    too_large,
    uploads_of_draft,
)
from api_public.routes import rate_limited
from api_public.routes_availability import calendar_note
from bridge.contract.intake import BASIS_DOCUMENT, BOOKING_FIELDS, BOOKING_FORMAT

router = APIRouter(
    dependencies=[Depends(rate_limited), Depends(same_site_forms)], include_in_schema=False
)
STEPS = Steps("fg_book", "/book", "booking")
URLS = {1: "/book", 2: "/book/2", 3: "/book/3", 4: "/book/4"}
FIELDS = {
    1: ("kind", "route", "district"),
    2: ("agency", "wished_day", "wished_half"),
    3: ("organisation_name", "credit_code", "project_name", "contact_name", "contact_phone",
        "basis_number", "basis_on_platform", BASIS_DOCUMENT),
}  # fmt: skip
TITLES = {
    1: "检查类型和所在区县",
    2: "受理机构和检查时间",
    3: "单位、联系人和依据",
    4: "核对并提交",
}
LABELS = {
    "kind": "检查类型",
    "route": "办理方式",
    "district": "工程所在区县",
    "agency": "受理机构",
    "slot": "检查时间",
    "wished_day": "期望检查日期",
    "wished_half": "上午或下午",
    "organisation_name": "单位全称",
    "credit_code": "统一社会信用代码",
    "project_name": "项目名称",
    "contact_name": "联系人姓名",
    "contact_phone": "联系人手机号码",
    "basis_number": "凭证编号",
    BASIS_DOCUMENT: "凭证扫描件",
}


def kinds(request: Request) -> dict[str, Guide]:
    return {g.kind: g for g in backend_of(request).catalogue.of("booking")}


def next_step(request: Request, draft: dict[str, Any] | None) -> int:
    if draft is None or any(f not in draft["fields"] for f in FIELDS[1]):
        return 1
    if any(f not in draft["fields"] for f in FIELDS[2]):
        return 2
    fields = draft["fields"]
    if "basis_number" not in fields or (
        not fields.get("basis_on_platform") and BASIS_DOCUMENT not in draft["documents"]
    ):
        return 3
    return 4


def page(
    request: Request,
    step: int,
    draft: dict[str, Any] | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    backend = backend_of(request)
    if backend.intake is None:
        return render(request, "closed.html", status=404)
    fields = dict(draft["fields"]) if draft else {}
    district = fields.get("district", "")
    context = {
        "labels": LABELS,
        "max_file": megabytes(backend.intake.max_file_bytes),
        "step": step,
        "steps": TITLES,
        "urls": URLS,
        "values": {**{k: shown(v) for k, v in fields.items()}, **(values or {})},
        "errors": errors or {},
        "kinds": kinds(request),
        "guide": kinds(request).get(fields.get("kind", "")),
        "fields": fields,
        "documents": draft["documents"] if draft else {},
        "suggested": backend.catalogue.competent_for(district) if district else None,
        "chosen": backend.catalogue.agency(fields.get("agency", "")),
        "halves": HALVES,
        "accept": ACCEPT,
        "today": backend.clock().astimezone(SHANGHAI).date().isoformat(),
        "reached": next_step(request, draft),
    }
    if step == 2:
        context["days"] = days_with_room(request, fields.get("agency", ""))
        context["calendar_note"] = calendar_note(backend)
    return render(request, f"book_step{step}.html", context, status)


@router.get("/book")
def step_one(request: Request, kind: str = "") -> Response:
    _, draft = STEPS.load(request)
    chosen = {"kind": kind} if kind in kinds(request) and not draft else {}
    return page(request, 1, draft, chosen)


@router.get("/book/{step:int}")
def step_page(step: int, request: Request) -> Response:
    if step not in URLS or step == 1:
        return redirect(request, URLS[1])
    _, draft = STEPS.load(request)
    reached = next_step(request, draft)
    if step > reached:
        return redirect(request, URLS[reached])
    return page(request, step, draft)


@router.post("/book/1")
async def post_one(request: Request) -> Response:
    form = Form(await text_fields(request))
    catalogue = backend_of(request).catalogue
    kind = form.choice("kind", "检查类型", {k: g.title for k, g in kinds(request).items()})
    guide = kinds(request).get(kind)
    routes = dict(guide.routes) if guide else {}
    if len(routes) > 1:
        form.choice("route", "办理方式", routes)
    else:
        form.clean["route"] = next(iter(routes), "ordinary")
    form.choice("district", "工程所在区县", {d: a.name for d, a in catalogue.districts()})
    _, draft = STEPS.load(request)
    if form.errors:
        return page(request, 1, draft, form.values, form.errors, 422)
    if draft is None and (wait := too_often(request)):  # a new draft is counted
        errors = {"form": STARTED_TOO_OFTEN.format(wait)}
        return slowed(page(request, 1, draft, form.values, errors, 429), wait)
    handle, draft = STEPS.start(request)
    fields = draft["fields"]
    if fields.get("district") != form.clean["district"] or "agency" not in fields:
        agency = catalogue.competent_for(form.clean["district"])
        fields["agency"] = agency.code if agency else ""
        for stale in ("wished_day", "wished_half"):
            fields.pop(stale, None)
    if guide is not None and not guide.basis_on_platform:
        fields["basis_on_platform"] = False
    fields.update(form.clean)
    return STEPS.keep(request, handle, draft, URLS[2])


@router.post("/book/agency")
async def post_agency(request: Request) -> Response:
    """Another agency than the one suggested: its own days with room are shown next."""
    handle, draft = STEPS.load(request)
    if handle is None or draft is None:
        return redirect(request, URLS[1])
    form = Form(await text_fields(request))
    agencies = {a.code: a.name for a in backend_of(request).catalogue.agencies}
    form.choice("agency", "受理机构", agencies)
    if form.errors:
        return page(request, 2, draft, form.values, form.errors, 422)
    if draft["fields"].get("agency") != form.clean["agency"]:
        for stale in ("wished_day", "wished_half"):
            draft["fields"].pop(stale, None)
    draft["fields"]["agency"] = form.clean["agency"]
    return STEPS.keep(request, handle, draft, URLS[2])


@router.post("/book/2")
async def post_two(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None or next_step(request, draft) < 2:
        return redirect(request, URLS[1])
    form = Form(await text_fields(request))
    days = days_with_room(request, draft["fields"].get("agency", ""))
    if days:
        offered = {f"{d['day']}_{d['half']}" for d in days}
        slot = form.raw("slot").strip()
        if not slot:
            form.errors["slot"] = "请选择检查时间（一个仍有名额的上午或下午）"
        elif slot not in offered:
            form.errors["slot"] = "该半天已约满或已开始，请另选一个仍有名额的半天"
        else:
            day, half = slot.split("_")
            form.clean |= {"wished_day": day, "wished_half": half}
    else:  # the agency has published no days: the applicant names the day wished
        today = backend_of(request).clock().astimezone(SHANGHAI).date()
        form.day_not_before("wished_day", "期望检查日期", today)
        form.choice("wished_half", "上午或下午", HALVES)
    if form.errors:
        return page(request, 2, draft, form.values, form.errors, 422)
    draft["fields"].update({k: form.clean[k] for k in ("wished_day", "wished_half")})
    return STEPS.keep(request, handle, draft, URLS[3])


@router.post("/book/3")
async def post_three(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None or next_step(request, draft) < 3:
        return redirect(request, URLS[1])
    guide = kinds(request)[draft["fields"]["kind"]]
    large = too_large(request)
    if large:
        return page(request, 3, draft, errors={BASIS_DOCUMENT: large}, status=413)
    found: Chosen | Refused | None = None
    async with request.form(max_files=2, max_fields=20) as posted:
        form = Form(posted)
        form.text("organisation_name", "单位全称", BOOKING_FIELDS["organisation_name"].longest)
        form.credit_code()
        form.text("project_name", "项目名称", BOOKING_FIELDS["project_name"].longest)
        form.text("contact_name", "联系人姓名", BOOKING_FIELDS["contact_name"].longest)
        form.mobile("contact_phone", "联系人手机号码")
        form.text("basis_number", f"{guide.basis_name}编号", BOOKING_FIELDS["basis_number"].longest)
        on_platform = guide.basis_on_platform and form.raw("basis_on_platform") == "1"
        upload = uploads_of(posted).get(BASIS_DOCUMENT)
        if upload is not None and not on_platform:  # a certificate issued here needs no scan
            found = await read_upload(request, BASIS_DOCUMENT, upload)
    if isinstance(found, Refused):
        refused = {BASIS_DOCUMENT: found}
    else:
        chosen = [found] if found is not None else []
        refused = await keep_chosen(request, handle, draft, chosen, URLS[3])
    if BASIS_DOCUMENT in refused:
        form.errors[BASIS_DOCUMENT] = refused[BASIS_DOCUMENT].message
    if on_platform:
        if not {"credit_code", "project_name"} & set(form.errors):
            check_platform_certificate(request, form)
        draft["documents"].pop(BASIS_DOCUMENT, None)
        drafts_of(request).drop_file(handle, BASIS_DOCUMENT)
    elif BASIS_DOCUMENT not in draft["documents"] and BASIS_DOCUMENT not in form.errors:
        form.errors[BASIS_DOCUMENT] = f"请上传{guide.basis_name}的扫描件"
    drafts_of(request).save(handle, STEPS.purpose, draft, DRAFT_TTL)  # a good scan stays
    if form.errors:
        return page(request, 3, draft, form.values, form.errors, status_of(refused))
    draft["fields"].update(form.clean)
    draft["fields"]["basis_on_platform"] = on_platform
    return STEPS.keep(request, handle, draft, URLS[4])


@router.post("/book/4")
async def post_four(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None:
        return redirect(request, URLS[1])
    if next_step(request, draft) < 4:
        return redirect(request, URLS[next_step(request, draft)])
    guide = kinds(request)[draft["fields"]["kind"]]
    fields = submission(draft, guide)
    uploads = uploads_of_draft(request, handle, draft)
    answer = await submit(request, BOOKING_FORMAT, fields, uploads, draft["key"])
    if isinstance(answer, Refused):
        field = "slot" if answer.field == "wished_time" else answer.field
        step = next((s for s, names in FIELDS.items() if answer.field in names), 4)
        return page(request, step, draft, errors={field: answer.message}, status=answer.status)
    agency = backend_of(request).catalogue.agency(fields["agency"])
    shown = {
        "service": guide.title,
        "project_name": fields["project_name"],
        "organisation_name": fields["organisation_name"],
        "agency_name": agency.name if agency else "",
        "agency_address": agency.address if agency else "",
        "agency_phone": agency.phone if agency else "",
        "wished_day": draft["fields"]["wished_day"],
        "wished_half": HALVES[draft["fields"]["wished_half"]],
        "documents": [[f"{guide.basis_name}扫描件", d["file_name"]]
                      for d in draft["documents"].values()],
    }  # fmt: skip
    return hand_over(request, STEPS, handle, answer, shown)


@router.post("/book/reset")
def reset(request: Request) -> Response:
    handle, _ = STEPS.load(request)
    return STEPS.forget(request, handle, URLS[1])

"""File a construction fire filing on the portal (RULES.md Art. 7-9), in four steps that each
post and redirect: 1 the kind and the project, 2 the organisation and the contact, 3 one
document per checklist item of the kind chosen, 4 review and submit. What was typed is kept in
the draft between steps (never in the URL); each error is shown next to its field with what was
typed kept. The submission goes through PublicIntake.submit like ``POST /api/v1/filings``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api_public.pages_catalogue import Guide
from api_public.pages_forms import Form, megabytes, text_fields, uploads_of
from api_public.pages_limits import STARTED_TOO_OFTEN, same_site_forms, slowed, too_often
from api_public.pages_render import backend_of, drafts_of, redirect, render
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
from bridge.contract.intake import FILING_FIELDS, FILING_FORMAT

router = APIRouter(
    dependencies=[Depends(rate_limited), Depends(same_site_forms)], include_in_schema=False
)
STEPS = Steps("fg_file", "/file", "filing")
URLS = {1: "/file", 2: "/file/2", 3: "/file/3", 4: "/file/4"}
FIELDS = {
    1: ("kind", "project_name", "project_address", "district"),
    2: ("organisation_name", "credit_code", "contact_name", "contact_phone"),
}
TITLES = {1: "备案类型和工程", 2: "建设单位和联系人", 3: "上传材料", 4: "核对并提交"}
LABELS = {
    "kind": "备案类型",
    "project_name": "工程名称",
    "project_address": "工程地址",
    "district": "工程所在区县",
    "organisation_name": "建设单位全称",
    "credit_code": "统一社会信用代码",
    "contact_name": "联系人姓名",
    "contact_phone": "联系人手机号码",
}


def kinds(request: Request) -> dict[str, Guide]:
    return {g.kind: g for g in backend_of(request).catalogue.of("filing")}


def checklist(request: Request, draft: dict[str, Any]) -> Guide | None:
    return kinds(request).get(draft["fields"].get("kind", ""))


def next_step(request: Request, draft: dict[str, Any] | None) -> int:
    """The first step still to do: a later step cannot be opened before it."""
    if draft is None or any(f not in draft["fields"] for f in FIELDS[1]):
        return 1
    if any(f not in draft["fields"] for f in FIELDS[2]):
        return 2
    guide = checklist(request, draft)
    if guide is None or any(m.required and m.code not in draft["documents"] for m in guide.bring):
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
    intake = backend_of(request).intake
    if intake is None:
        return render(request, "closed.html", status=404)
    fields = dict(draft["fields"]) if draft else {}
    context = {
        "labels": LABELS,
        "max_file": megabytes(intake.max_file_bytes),
        "step": step,
        "steps": TITLES,
        "urls": URLS,
        "values": {**fields, **(values or {})},
        "errors": errors or {},
        "kinds": kinds(request),
        "guide": checklist(request, draft) if draft else None,
        "documents": draft["documents"] if draft else {},
        "fields": fields,
        "accept": ACCEPT,
        "longest": {name: f.longest for name, f in FILING_FIELDS.items()},
        "reached": next_step(request, draft),
    }
    if fields.get("district"):
        context["agency"] = backend_of(request).catalogue.competent_for(fields["district"])
    return render(request, f"file_step{step}.html", context, status)


def opened(request: Request, step: int) -> Response:
    _, draft = STEPS.load(request)
    reached = next_step(request, draft)
    if step > reached:
        return redirect(request, URLS[reached])
    return page(request, step, draft)


@router.get("/file")
def step_one(request: Request, kind: str = "") -> Response:
    _, draft = STEPS.load(request)
    chosen = {"kind": kind} if kind in kinds(request) and not draft else {}
    return page(request, 1, draft, chosen)


@router.get("/file/{step:int}")
def step_page(step: int, request: Request) -> Response:
    if step not in URLS or step == 1:
        return redirect(request, URLS[1])
    return opened(request, step)


@router.post("/file/1")
async def post_one(request: Request) -> Response:
    form = Form(await text_fields(request))
    catalogue = backend_of(request).catalogue
    form.choice("kind", "备案类型", {k: g.title for k, g in kinds(request).items()})
    form.text("project_name", "工程名称", FILING_FIELDS["project_name"].longest)
    form.text("project_address", "工程地址", FILING_FIELDS["project_address"].longest)
    form.choice("district", "工程所在区县", {d: a.name for d, a in catalogue.districts()})
    _, draft = STEPS.load(request)
    if form.errors:
        return page(request, 1, draft, form.values, form.errors, 422)
    if draft is None and (wait := too_often(request)):  # a new draft is counted
        errors = {"form": STARTED_TOO_OFTEN.format(wait)}
        return slowed(page(request, 1, draft, form.values, errors, 429), wait)
    handle, draft = STEPS.start(request)
    if draft["fields"].get("kind") != form.clean["kind"]:  # another checklist: other documents
        guide = kinds(request)[form.clean["kind"]]
        for item in [i for i in draft["documents"] if i not in {m.code for m in guide.bring}]:
            draft["documents"].pop(item)
            drafts_of(request).drop_file(handle, item)
    draft["fields"].update(form.clean)
    return STEPS.keep(request, handle, draft, URLS[2])


@router.post("/file/2")
async def post_two(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None:
        return redirect(request, URLS[1])
    form = Form(await text_fields(request))
    form.text("organisation_name", "建设单位全称", FILING_FIELDS["organisation_name"].longest)
    form.credit_code()
    form.text("contact_name", "联系人姓名", FILING_FIELDS["contact_name"].longest)
    form.mobile("contact_phone", "联系人手机号码")
    if form.errors:
        return page(request, 2, draft, form.values, form.errors, 422)
    draft["fields"].update(form.clean)
    return STEPS.keep(request, handle, draft, URLS[3])


async def read_files(
    request: Request, guide: Guide
) -> tuple[list[Chosen], dict[str, Refused], list[str]]:
    """Step 3's form: the files chosen that pass the contract's checks, the ones that do not,
    and the optional items to drop (their "不再提交此项" ticked)."""
    chosen: list[Chosen] = []
    unreadable: dict[str, Refused] = {}
    async with request.form(max_files=40, max_fields=40) as posted:
        uploads = uploads_of(posted)
        for item in guide.bring:
            if item.code in uploads:
                found = await read_upload(request, item.code, uploads[item.code])
                if isinstance(found, Refused):
                    unreadable[item.code] = found
                else:
                    chosen.append(found)
        removed = [
            m.code
            for m in guide.bring
            if m.code not in uploads and posted.get(f"remove_{m.code}") == "1" and not m.required
        ]
    return chosen, unreadable, removed


@router.post("/file/3")
async def post_three(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None or next_step(request, draft) < 3:
        return redirect(request, URLS[1])
    guide = checklist(request, draft)
    assert guide is not None  # noqa: S101 - next_step() found the kind
    large = too_large(request)
    if large:
        return page(request, 3, draft, errors={"files": large}, status=413)
    chosen, unreadable, removed = await read_files(request, guide)
    refused = {**unreadable, **await keep_chosen(request, handle, draft, chosen, URLS[3])}
    for code in removed:
        draft["documents"].pop(code, None)
        drafts_of(request).drop_file(handle, code)
    names = {m.code: m.name for m in guide.bring}
    errors = {item: f"{names[item]}：{r.message}" for item, r in refused.items()}
    for item in guide.bring:
        if item.required and item.code not in draft["documents"] and item.code not in errors:
            errors[item.code] = f"请上传：{item.name}"
    drafts_of(request).save(handle, STEPS.purpose, draft, DRAFT_TTL)  # good files stay
    if errors:
        return page(request, 3, draft, errors=errors, status=status_of(refused))
    return redirect(request, URLS[4])


@router.post("/file/4")
async def post_four(request: Request) -> Response:
    handle, draft = STEPS.load(request)
    if handle is None or draft is None:
        return redirect(request, URLS[1])
    if next_step(request, draft) < 4:
        return redirect(request, URLS[next_step(request, draft)])
    fields = {name: draft["fields"][name] for name in FILING_FIELDS}
    guide = checklist(request, draft)
    answer = await submit(
        request, FILING_FORMAT, fields, uploads_of_draft(request, handle, draft), draft["key"]
    )
    if isinstance(answer, Refused):
        step = next((s for s, names in FIELDS.items() if answer.field in names), 4)
        if guide is not None and answer.field in {m.code for m in guide.bring}:
            step = 3
        return page(
            request, step, draft, errors={answer.field: answer.message}, status=answer.status
        )
    agency = backend_of(request).catalogue.competent_for(fields["district"])
    names = {m.code: m.name for m in guide.bring} if guide else {}
    shown = {
        "service": guide.title if guide else "",
        "project_name": fields["project_name"],
        "organisation_name": fields["organisation_name"],
        "agency_name": agency.name if agency else "",
        "agency_address": agency.address if agency else "",
        "agency_phone": agency.phone if agency else "",
        "documents": [[names.get(i, i), d["file_name"]] for i, d in draft["documents"].items()],
    }
    return hand_over(request, STEPS, handle, answer, shown)


@router.post("/file/reset")
def reset(request: Request) -> Response:
    """重新填写: the draft and its files are deleted at once."""
    handle, _ = STEPS.load(request)
    return STEPS.forget(request, handle, URLS[1])

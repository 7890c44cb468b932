"""Cases put into a live installation without the browser, for the tests that look at pages
rather than drive them (accessibility, screenshots): submitted over the public JSON API as a
citizen's program would, then moved on by staff through the application services, exactly as
the console's forms do. The loops carry each step across the bridge; every helper waits for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from domain.actor import Actor, Role
from domain.filing import NoticeItem
from tests.e2e.live import JINSHUI, LiveSite
from tests.support import credit_code

LEAVE_OUT = ("designer_qualification", "construction_permit")
DESIGN_ITEMS = (
    "application_form",
    "owner_identity",
    "planning_permit",
    "designer_qualification",
    "fire_design_documents",
    "construction_permit",
)


def pdf(label: str, size: int = 4096) -> bytes:
    """A small PDF of its own content (two uploads never share a content hash)."""
    head = f"%PDF-1.7\n% {label}\n".encode()
    filler = hashlib.sha256(label.encode()).hexdigest().encode()
    return (head + filler * (size // len(filler) + 1))[:size]


@dataclass(frozen=True)
class Case:
    """What the applicant holds after submitting: the receipt number and the query code."""

    receipt: str
    code: str


def tracking(site: LiveSite, case: Case) -> dict[str, Any]:
    """The public tracking record, as the query code opens it ({} while nothing is known)."""
    answer = httpx.get(
        f"{site.portal}/api/v1/cases/{case.receipt}", headers={"X-Query-Code": case.code}
    )
    found: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
    return found


def wait_for_status(site: LiveSite, case: Case, *statuses: str) -> dict[str, Any]:
    """The tracking record once it shows one of ``statuses`` (the bridge has carried it)."""
    site.until(
        lambda: tracking(site, case).get("status") in statuses,
        what=f"{case.receipt} to show {statuses}",
    )
    return tracking(site, case)


def filing_submission(project: str = "金水科创中心") -> dict[str, Any]:
    return {
        "kind": "design",
        "organisation_name": "郑州市示范置业有限公司",
        "credit_code": credit_code(project),
        "project_name": project,
        "project_address": "金水区花园路 66 号",
        "district": "金水区",
        "contact_name": "张伟",
        "contact_phone": "13812345678",
    }


def file_online(
    site: LiveSite, project: str = "金水科创中心", leave_out: tuple[str, ...] = LEAVE_OUT
) -> Case:
    """A design filing submitted on the public API with every document but ``leave_out``,
    once the internal side has received it."""
    files = {
        item: (f"{item}.pdf", pdf(f"{project}:{item}"), "application/pdf")
        for item in DESIGN_ITEMS
        if item not in leave_out
    }
    answer = httpx.post(
        f"{site.portal}/api/v1/filings",
        data={"submission": orjson.dumps(filing_submission(project)).decode()},
        files=files,
    )
    assert answer.status_code == 201, answer.text
    case = Case(answer.json()["receipt_number"], answer.json()["query_code"])
    wait_for_status(site, case, "received")
    return case


def staff(site: LiveSite, username: str, role: Role) -> Actor:
    return Actor(site.account(username, role).actor_id, role, JINSHUI)


def issue_notice(site: LiveSite, case: Case, items: tuple[str, ...] = LEAVE_OUT) -> None:
    """The window's one complete supplement notice, naming ``items`` as missing."""
    clerk = staff(site, "clerk", Role.WINDOW_CLERK)
    notice = [NoticeItem(item=item, problem="missing", reason="未提交该材料") for item in items]
    site.platform.services.filings.issue_supplement_notice(clerk, case.receipt, notice)
    wait_for_status(site, case, "awaiting_supplement")


def certify(site: LiveSite, case: Case) -> str:
    """The certificate issued by the window; its number once tracking shows it."""
    clerk = staff(site, "clerk", Role.WINDOW_CLERK)
    number = site.platform.services.filings.issue_certificate(clerk, case.receipt)
    wait_for_status(site, case, "certified")
    return number


def days_with_room(site: LiveSite) -> list[dict[str, Any]]:
    """The brigade's published half days with room, waiting until they are published."""

    def published() -> list[dict[str, Any]]:
        answer = httpx.get(f"{site.portal}/api/v1/agencies/{JINSHUI}/availability")
        days: list[dict[str, Any]] = answer.json()["days"] if answer.status_code == 200 else []
        return [d for d in days if d["free"] > 0]

    site.until(lambda: bool(published()), what="days with room to be published")
    return published()


def booking_submission(wished_day: str, project: str = "金水购物中心") -> dict[str, Any]:
    return {
        "kind": "pre_opening",
        "district": "金水区",
        "organisation_name": "郑州市示范商业管理有限公司",
        "credit_code": credit_code(project),
        "project_name": project,
        "wished_time": f"{wished_day}T09:00",
        "contact_name": "王芳",
        "contact_phone": "13912345678",
        "basis_kind": "inspection_receipt",
        "basis_number": "郑金消检受字〔2026〕第0042号",
        "basis_on_platform": False,
    }


def book_online(site: LiveSite, project: str = "金水购物中心") -> tuple[Case, dict[str, Any]]:
    """A pre-opening inspection booked on the public API with a scan, for the first morning
    with room; the case and that half day, once the internal side has received it."""
    slot = next(d for d in days_with_room(site) if d["half"] == "am")
    answer = httpx.post(
        f"{site.portal}/api/v1/bookings",
        data={"submission": orjson.dumps(booking_submission(slot["day"], project)).decode()},
        files={"basis_document": ("受理凭证.pdf", pdf(f"scan:{project}"), "application/pdf")},
    )
    assert answer.status_code == 201, answer.text
    case = Case(answer.json()["receipt_number"], answer.json()["query_code"])
    wait_for_status(site, case, "received")
    return case, slot


def reply_with_slot(site: LiveSite, case: Case, slot: dict[str, Any]) -> None:
    """Forwarded by the window, assigned by the head, answered by the handler with ``slot``."""
    bookings = site.platform.services.bookings
    bookings.forward(staff(site, "clerk", Role.WINDOW_CLERK), case.receipt, "防火监督科")
    handler = staff(site, "handler", Role.HANDLER)
    bookings.assign(staff(site, "head", Role.DEPT_HEAD), case.receipt, handler.actor_id)
    bookings.reply_with_slot(handler, case.receipt, slot["day"], slot["half"])
    site.until(lambda: tracking(site, case).get("slot") is not None, what="the slot on tracking")


def publish_result(site: LiveSite, case: Case) -> None:
    """A certified filing drawn for inspection, inspected with findings, and its result
    approved for publication: it appears among the published results."""
    filings = site.platform.services.filings
    filings.select_for_inspection(
        staff(site, "head", Role.DEPT_HEAD), case.receipt, "双随机-2026-11"
    )
    filings.record_inspection_result(
        staff(site, "handler", Role.HANDLER), case.receipt, False, ["疏散指示标志设置不足"]
    )
    filings.approve_result_for_publication(staff(site, "approver", Role.APPROVER), case.receipt)
    wait_for_status(site, case, "result_published")

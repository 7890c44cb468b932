"""My work (我的待办): the queues of the logged-in person's role and agency, as the JSON queues
give them (Art. 9 the window's filing review within 5 working days; Art. 15-16 each role's
booking tasks), with each item's deadline and working days left; overdue items say "已超期" in
words, not only in colour. Sorted by deadline, receipt or receipt number (a link, no script).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.responses import Response

from api_internal.common import caught_up, visible_agencies
from api_internal.deps import Backend, BackendDep
from api_internal.pages_web import RECEIPT, PageRoute, UserDep, render, see_other
from api_internal.routes_bookings import my_queue
from domain.actor import Actor, Role
from domain.booking_rules import BOOKING_KIND_NAMES_ZH, BOOKING_STATUS_NAMES_ZH
from domain.filing import KIND_NAMES_ZH
from domain.permissions import Command, may
from projections.internal.booking_queries import BookingQueueItem
from projections.internal.queries import QueueItem

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SORTS = {"deadline": "按期限", "received": "按收到时间", "receipt": "按受理编号"}
TASK_NAMES_ZH = {
    "review": "待审查（转交或不予受理）",
    "assign": "待指派承办人",
    "reply": "待回复检查时间",
    "inspect": "待现场检查",
    "assist": "协办检查",
}
# The window reviews filings (Art. 9); those who answer for the agencies' handling see the
# overdue ones (Art. 31, 33). Other roles have no filing queue of their own.
FILING_REVIEWERS = frozenset({Role.WINDOW_CLERK})
FILING_OVERSEERS = frozenset({Role.DEPT_HEAD, Role.APPROVER, Role.SUPERVISOR})


T = TypeVar("T", QueueItem, BookingQueueItem)


def sorted_items(items: Sequence[T], sort: str) -> list[T]:
    if sort == "received":
        return sorted(items, key=lambda i: (i.received_at, i.receipt_number))
    if sort == "receipt":
        return sorted(items, key=lambda i: i.receipt_number)
    return sorted(items, key=lambda i: (i.deadline is None, i.deadline or "", i.receipt_number))


def filing_queue(backend: Backend, actor: Actor) -> tuple[str | None, list[QueueItem]]:
    """The heading of the actor's filing queue (None: the role has none) and its items."""
    if actor.role in FILING_REVIEWERS:
        heading, overdue_only = "待审查的备案", False
    elif actor.role in FILING_OVERSEERS and may(actor, Command.VIEW_FILINGS):
        heading, overdue_only = "超期未审查的备案", True
    else:
        return None, []
    items = caught_up(backend).queries.review_queue(
        visible_agencies(backend, actor), backend.clock(), overdue_only
    )
    return heading, items


def booking_queue(backend: Backend, actor: Actor) -> tuple[str | None, list[BookingQueueItem]]:
    if not may(actor, Command.VIEW_BOOKINGS):
        return None, []
    tasks, items = my_queue(backend, actor)
    return ("预约待办" if tasks is not None else "超期的预约"), items


def work_page(
    backend: Backend,
    user: UserDep,
    sort: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: str = "",
) -> Response:
    filings_heading, filings = filing_queue(backend, user.actor)
    bookings_heading, bookings = booking_queue(backend, user.actor)
    return render(
        "work.html",
        status,
        user=user,
        sort=sort,
        sorts=SORTS,
        filings_heading=filings_heading,
        filings=sorted_items(filings, sort),
        bookings_heading=bookings_heading,
        bookings=sorted_items(bookings, sort),
        filing_kinds=KIND_NAMES_ZH,
        booking_kinds=BOOKING_KIND_NAMES_ZH,
        booking_statuses=BOOKING_STATUS_NAMES_ZH,
        tasks=TASK_NAMES_ZH,
        agency_names={a.code: a.name for a in backend.agencies.all()},
        errors=errors or {},
        typed_receipt=typed,
    )


@router.get("/")
def home() -> Response:
    return see_other("/console")


@router.get("/console")
def my_work(request: Request, user: UserDep, backend: BackendDep) -> Response:
    sort = request.query_params.get("sort", "deadline")
    return work_page(backend, user, sort if sort in SORTS else "deadline")


@router.get("/console/find")
def find_case(request: Request, user: UserDep, backend: BackendDep) -> Response:
    """Open a case by its receipt number: the case page, or its history for the auditors."""
    typed = request.query_params.get("receipt", "").strip()
    if not RECEIPT.fullmatch(typed):
        error = "请输入受理编号（字母、数字和“-”，如 BA20261124…、YY20261124…）"
        return work_page(backend, user, "deadline", 422, {"receipt": error}, typed)
    receipt = typed.upper()
    booking = receipt.startswith("YY")
    reads = Command.VIEW_BOOKINGS if booking else Command.VIEW_FILINGS
    if not may(user.actor, reads) and may(user.actor, Command.VIEW_HISTORY):
        return see_other(f"/console/cases/{receipt}/history")
    return see_other(f"/console/{'bookings' if booking else 'filings'}/{receipt}")

"""A booking of an on-site inspection from start to end in the browser (RULES.md Art. 11-16;
issue 5's second "done when"): the citizen books on the portal, choosing a half day that still
has room and uploading the scan of the inspection application receipt; the window forwards
the booking in the console, the head names the main handler, the handler replies with that
half day; the citizen sees the slot on tracking, with every step before it.
"""

from __future__ import annotations

from datetime import date

from domain.actor import Role
from tests.e2e.browsing import People
from tests.e2e.drive import (
    SCAN,
    book_on_the_portal,
    console_login,
    fill,
    open_from_queue,
    received,
    reload_until,
    track,
)
from tests.e2e.live import LiveSite
from tests.e2e.scenarios import days_with_room


def test_art11_to_16_a_booking_from_the_portal_to_the_slot_on_tracking(
    site: LiveSite, people: People
) -> None:
    clerk_login = site.account("clerk", Role.WINDOW_CLERK)
    head_login = site.account("head", Role.DEPT_HEAD)
    handler_login = site.account("handler", Role.HANDLER)
    days_with_room(site)  # the brigade's days with room have crossed to the portal

    citizen = people()
    day, half = book_on_the_portal(citizen, site)
    case = received(citizen)
    assert case.receipt.startswith("YY")

    # The window sees the booking (with the scan) and forwards it to the department.
    clerk = people()
    console_login(clerk, site, clerk_login)
    open_from_queue(clerk, site, "booking-queue", case.receipt)
    scan = clerk.locator("#basis-document").get_attribute("href")
    assert clerk.context.request.get(f"{site.console}{scan}").body() == SCAN
    fill(clerk, {"department": "防火监督科"})
    with clerk.expect_navigation():
        clerk.locator("#forward").click()
    assert clerk.locator("#department-shown").inner_text().startswith("防火监督科")

    # The head names the main handler.
    head = people()
    console_login(head, site, head_login)
    open_from_queue(head, site, "booking-queue", case.receipt)
    head.locator("#main_handler").select_option(handler_login.actor_id)
    with head.expect_navigation():
        head.locator("#assign").click()
    assert "测试handler" in head.locator("#main-handler-shown").inner_text()

    # The handler replies with the half day the citizen chose.
    handler = people()
    console_login(handler, site, handler_login)
    open_from_queue(handler, site, "booking-queue", case.receipt)
    handler.locator(f"#slot-{day}-{half}").check()
    with handler.expect_navigation():
        handler.locator("#reply-slot").click()
    assert handler.locator("#slot-shown").inner_text().startswith(day)

    # The citizen sees the slot, and every step that led to it.
    track(citizen, site, case)
    slot = citizen.locator("p.slot")
    reload_until(citizen, lambda: slot.count() == 1, what="the slot")
    wished = date.fromisoformat(day)
    assert f"{wished.year}年{wished.month}月{wished.day}日" in slot.inner_text()
    assert ("上午" if half == "am" else "下午") in slot.inner_text()
    steps = citizen.locator(".timeline-step").all_inner_texts()
    assert len(steps) == 4, steps
    assert "防火监督科" in citizen.locator(".timeline").inner_text()

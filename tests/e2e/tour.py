"""A tour of every page of the portal and the console, each reached as a person reaches it
(pages behind a form are opened by filling the form), over cases that show what the pages
are for: a filing waiting for its supplement, a certified filing whose inspection result is
published, bookings at each step. The accessibility tests check every stop; the screenshot
test photographs the main ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from domain.actor import Role
from tests.e2e.drive import (
    attach,
    console_login,
    file_on_the_portal,
    fill,
    go_on,
    track,
)
from tests.e2e.live import LiveSite
from tests.e2e.scenarios import (
    DESIGN_ITEMS,
    Case,
    book_online,
    certify,
    file_online,
    issue_notice,
    pdf,
    publish_result,
    reply_with_slot,
    staff,
)
from tests.support import credit_code

if TYPE_CHECKING:
    from playwright.sync_api import Page


@dataclass(frozen=True)
class Cases:
    received: Case  # a filing the window has still to review
    awaiting: Case  # a filing with a supplement notice
    certified: Case  # certified, then inspected, its result published
    certificate: str
    booking_new: Case  # a booking the window has still to forward
    booking_forwarded: Case  # forwarded: the head has to name the handlers
    booking_assigned: Case  # forwarded and assigned: the handler's reply is due
    booking: Case  # replied with a slot


def prepare(site: LiveSite) -> Cases:
    """The cases the tour looks at, each taken to its step as staff would."""
    received = file_online(site, "金水河畔商业综合体")
    awaiting = file_online(site, "金水科创中心")
    issue_notice(site, awaiting)
    certified = file_online(site, "北龙湖金融岛配套楼", leave_out=())
    number = certify(site, certified)
    publish_result(site, certified)
    booking_new, _ = book_online(site, "花园路购物广场")
    booking_forwarded, _ = book_online(site, "农业路美食城")
    booking_assigned, _ = book_online(site, "经三路影城")
    bookings = site.platform.services.bookings
    clerk = staff(site, "clerk", Role.WINDOW_CLERK)
    for forwarded in (booking_forwarded, booking_assigned):
        bookings.forward(clerk, forwarded.receipt, "防火监督科")
    handler = staff(site, "handler", Role.HANDLER)
    bookings.assign(staff(site, "head", Role.DEPT_HEAD), booking_assigned.receipt, handler.actor_id)
    booking, slot = book_online(site, "金水购物中心")
    reply_with_slot(site, booking, slot)
    site.platform.projector.catch_up()
    return Cases(
        received,
        awaiting,
        certified,
        number,
        booking_new,
        booking_forwarded,
        booking_assigned,
        booking,
    )


Stop = Callable[["Page", LiveSite, Cases], object]
PROJECT = {
    "kind": "design",
    "project_name": "金水科创中心",
    "project_address": "金水区花园路 66 号",
    "district": "金水区",
}
ORGANISATION = {
    "organisation_name": "郑州市示范置业有限公司",
    "credit_code": credit_code("金水科创中心"),
    "contact_name": "张伟",
    "contact_phone": "13812345678",
}


def portal(path: str, status: int = 200) -> Stop:
    """A portal page opened by its address, answering ``status``."""

    def stop(page: Page, site: LiveSite, cases: Cases) -> None:
        answer = page.goto(site.portal + path.format(certificate=quote(cases.certificate, safe="")))
        assert answer is not None
        assert answer.status == status, f"{path}: {answer.status}"

    return stop


def filing_step(step: int) -> Stop:
    """The filing form at ``step``, the steps before it filled in."""

    def stop(page: Page, site: LiveSite, cases: Cases) -> None:
        page.goto(f"{site.portal}/file")
        if step > 1:
            fill(page, PROJECT)
            go_on(page)
        if step > 2:
            fill(page, ORGANISATION)
            go_on(page)
        if step > 3:
            attach(page, {item: (f"{item}.pdf", pdf(item)) for item in DESIGN_ITEMS})
            go_on(page)

    return stop


def filing_with_mistakes(page: Page, site: LiveSite, cases: Cases) -> None:
    """Step 2 sent with a mistyped credit code and no mobile number."""
    filing_step(2)(page, site, cases)
    fill(page, {**ORGANISATION, "credit_code": "91410105MA44XXXXX0", "contact_phone": ""})
    go_on(page)


def submitted(page: Page, site: LiveSite, cases: Cases) -> None:
    file_on_the_portal(page, site, {item: pdf(f"tour:{item}") for item in DESIGN_ITEMS})


def booking_step(step: int) -> Stop:
    def stop(page: Page, site: LiveSite, cases: Cases) -> None:
        page.goto(f"{site.portal}/book")
        if step > 1:
            fill(page, {"kind": "pre_opening", "district": "金水区"})
            go_on(page)
        if step > 2:
            page.locator("input[name=slot]").first.check()
            go_on(page)
        if step > 3:
            fill(
                page,
                {
                    "organisation_name": "郑州市示范商业管理有限公司",
                    "credit_code": credit_code("金水购物中心"),
                    "project_name": "金水购物中心",
                    "contact_name": "王芳",
                    "contact_phone": "13912345678",
                    "basis_number": "郑金消检受字〔2026〕第0042号",
                },
            )
            attach(page, {"basis_document": ("受理凭证.pdf", pdf("scan"))})
            go_on(page)

    return stop


def tracking(which: str) -> Stop:
    def stop(page: Page, site: LiveSite, cases: Cases) -> None:
        track(page, site, getattr(cases, which))

    return stop


def console(path: str, username: str = "clerk", role: Role = Role.WINDOW_CLERK) -> Stop:
    """A console page as ``username`` sees it, logged in (once per installation)."""

    def stop(page: Page, site: LiveSite, cases: Cases) -> None:
        if username in site.console_cookies:  # logged in once: the same session, another tab
            page.context.add_cookies(site.console_cookies[username])
        else:
            console_login(page, site, site.account(username, role))
            site.console_cookies[username] = page.context.cookies(site.console)
        receipts = {
            name: value.receipt for name, value in vars(cases).items() if isinstance(value, Case)
        }
        answer = page.goto(site.console + path.format(**receipts))
        assert answer is not None
        assert answer.status == 200, f"{path}: {answer.status}"

    return stop


def totp_step(page: Page, site: LiveSite, cases: Cases) -> None:
    """An approver's login after the password: the one-time code is asked for."""
    login = site.account("approver", Role.APPROVER)
    page.goto(f"{site.console}/console/login")
    fill(page, {"username": login.username, "password": login.password})
    with page.expect_navigation():
        page.locator("#login").click()
    assert "/console/login/totp" in page.url, page.url


def large_text(stop: Stop) -> Stop:
    """``stop`` in 大字版, switched on from the home page as a person does (it stays on)."""

    def large(page: Page, site: LiveSite, cases: Cases) -> None:
        page.goto(f"{site.portal}/")
        with page.expect_navigation():
            page.locator("#large-text-toggle").click()
        stop(page, site, cases)
        assert page.locator("html.large-text").count() == 1, "large text did not stay on"

    return large


GUIDES = (
    "filing-design",
    "filing-completion",
    "booking-pre_opening",
    "booking-fire_acceptance",
    "booking-completion_spot_check",
)
PORTAL: dict[str, Stop] = {
    "portal-home": portal("/"),
    **{f"portal-guide-{slug}": portal(f"/guide/{slug}") for slug in GUIDES},
    "portal-file": filing_step(1),
    "portal-file-organisation": filing_step(2),
    "portal-file-mistakes": filing_with_mistakes,
    "portal-file-documents": filing_step(3),
    "portal-file-review": filing_step(4),
    "portal-submitted": submitted,
    "portal-book": booking_step(1),
    "portal-book-slot": booking_step(2),
    "portal-book-details": booking_step(3),
    "portal-book-review": booking_step(4),
    "portal-track": portal("/track"),
    "portal-track-notice": tracking("awaiting"),
    "portal-track-certificate": tracking("certified"),
    "portal-track-slot": tracking("booking"),
    "portal-verify": portal("/verify"),
    "portal-verify-valid": portal("/verify/{certificate}"),
    "portal-verify-unknown": portal("/verify/NOT-A-CERTIFICATE", 404),
    "portal-results": portal("/results"),
    "portal-search": portal("/search?q=%E9%87%91%E6%B0%B4"),
    "portal-not-found": portal("/guide/no-such-service", 404),
    "portal-home-large": large_text(portal("/")),
    "portal-file-large": large_text(filing_step(1)),
    "portal-track-notice-large": large_text(tracking("awaiting")),
}
CONSOLE: dict[str, Stop] = {
    "console-login": lambda page, site, cases: page.goto(f"{site.console}/console/login"),
    "console-login-totp": totp_step,
    "console-work": console("/console"),
    "console-filing": console("/console/filings/{received}"),
    "console-filing-notice": console("/console/filings/{awaiting}"),
    "console-filing-certified": console("/console/filings/{certified}"),
    "console-booking": console("/console/bookings/{booking_new}"),
    "console-booking-assign": console(
        "/console/bookings/{booking_forwarded}", "head", Role.DEPT_HEAD
    ),
    "console-booking-reply": console(
        "/console/bookings/{booking_assigned}", "handler", Role.HANDLER
    ),
    "console-booking-replied": console("/console/bookings/{booking}", "handler", Role.HANDLER),
    "console-work-handler": console("/console", "handler", Role.HANDLER),
    "console-history": console("/console/cases/{certified}/history"),
    "console-calendar": console("/console/calendar", "sysadmin", Role.SYSTEM_ADMIN),
}
EVERY_PAGE: dict[str, Stop] = {**PORTAL, **CONSOLE}

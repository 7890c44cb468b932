"""Helpers for booking tests: the form of a booking, and staff accounts opened straight in the
store (no argon2 hashing: these accounts never log in, they only have to exist with a role and
an agency for the head to assign them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.events import by
from domain.services import Services
from domain.staff import StaffAccount
from tests.support import credit_code, document

JINSHUI, ERQI, DETACHMENT = "zz-jinshui", "zz-erqi", "zz"
CONSOLE = Actor.system(DETACHMENT, "test")


def booking_input(**overrides: Any) -> dict[str, Any]:
    """A pre-opening booking of a 金水区 project, resting on a scanned inspection receipt."""
    values: dict[str, Any] = {
        "kind": "pre_opening",
        "district": "金水区",
        "organisation_name": "郑州测试商业管理有限公司",
        "credit_code": credit_code("org"),
        "project_name": "测试购物中心",
        "wished_time": datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI),
        "contact_name": "李娜",
        "contact_phone": "13912345678",
        "basis_kind": "inspection_receipt",
        "basis_number": "郑金消检受字〔2026〕第0042号",
        "basis_document": document("inspection receipt scan"),
    }
    values.update(overrides)
    return values


def staff(services: Services, username: str, agency: str, role: Role = Role.HANDLER) -> Actor:
    """An account holding ``role`` in ``agency``, and the actor it acts as."""
    account = StaffAccount._create(
        StaffAccount.Opened,
        id=StaffAccount.create_id(username),
        username=username,
        display_name=f"测试{username}",
        agency=agency,
        roles=[str(role)],
        password_hash="never-logs-in",
        **by(CONSOLE, services.context.clock()),
    )
    services.context.app.save(account)
    return Actor(str(account.id), role, agency)

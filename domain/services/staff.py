"""Staff accounts and login (RULES.md "Who acts", Art. 27-28, 39).

Opening accounts is the console's job until the approval flow of Art. 28 exists; login counts
failures on the account itself, per source address, so a lockout is part of the audit trail.
The login's two steps (password, then one-time code and role, through a short-lived ticket)
are domain.services.staff_login.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pyotp
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor, Role
from domain.application import Context
from domain.errors import ConcurrentChange, InvalidInput
from domain.permissions import Command, authorize
from domain.services.staff_login import StaffLogin
from domain.staff import (
    USERNAME,
    StaffAccount,
    check_password_policy,
    check_roles,
    hash_password,
)
from domain.text import required_text


@dataclass(frozen=True)
class OpenedAccount:
    account_id: UUID
    username: str
    totp_secret: str | None  # shown once, to be put into an authenticator app


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    username: str
    display_name: str
    agency: str
    roles: tuple[Role, ...]


HOLDERS_PAGE = 500  # opening events read per query of the notification log


class StaffService:
    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.login = StaffLogin(context)  # the login's steps, with lockout and second factor

    def open_account(
        self,
        actor: Actor,
        *,
        username: str,
        display_name: str,
        agency: str,
        roles: list[str],
        password: str,
    ) -> OpenedAccount:
        authorize(actor, Command.OPEN_STAFF_ACCOUNT, self.ctx.agencies)
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput(
                "用户名须以小写字母开头，3-32 位小写字母、数字或 . _ -",
                "username: 3-32 of a-z 0-9 . _ -, starting with a letter",
                code="invalid_username",
                field="username",
            )
        try:
            role_list = [Role(r) for r in roles]
        except ValueError:
            raise InvalidInput("未知角色", "unknown role", field="roles") from None
        check_roles(role_list)
        check_password_policy(password, username)
        agency_code = self.ctx.agencies.get(agency).code
        stamp = self.ctx.stamp(actor)
        account_id = StaffAccount.create_id(username)
        # Sealed, so that erasing the account's key also erases every hash it ever had: events
        # are kept for ever, and an old hash is an offline guessing target.
        sealed_hash = self.ctx.sealer.seal(self._subject(account_id), hash_password(password))
        account = StaffAccount._create(
            StaffAccount.Opened,
            id=account_id,
            username=username,
            display_name=required_text(display_name, "display_name", "姓名", 50),
            agency=agency_code,
            roles=[str(r) for r in role_list],
            password_hash=sealed_hash,
            **stamp,
        )
        secret = None
        if account.needs_second_factor:
            secret = pyotp.random_base32()
            sealed = self.ctx.sealer.seal(self._subject(account.id), secret)
            account.enrol_second_factor(sealed, **stamp)
        try:
            self.ctx.app.save(account)
        except IntegrityError:
            raise ConcurrentChange(
                f"用户名 {username} 已被使用",
                f"username {username} is taken",
                code="username_taken",
            ) from None
        return OpenedAccount(account.id, username, secret)

    @staticmethod
    def _subject(account_id: UUID) -> str:
        return f"staff-{account_id.hex}"

    def provisioning_uri(self, opened: OpenedAccount, issuer: str) -> str | None:
        if opened.totp_secret is None:
            return None
        return pyotp.TOTP(opened.totp_secret).provisioning_uri(
            name=opened.username, issuer_name=issuer
        )

    def account(self, account_id: str) -> AccountInfo:
        account = self.ctx.load(StaffAccount, UUID(account_id), "账号", "account")
        return AccountInfo(
            str(account.id),
            account.username,
            account.display_name,
            account.agency,
            tuple(account.roles),
        )

    def holders_of(self, role: Role, agency: str) -> list[AccountInfo]:
        """The accounts of ``agency`` holding ``role`` (e.g. the handlers a head may assign,
        Art. 16), by display name. Found through the accounts' opening events, which name
        agency and roles; each match is then loaded, so it reads as the account is now."""
        found: list[AccountInfo] = []
        start: int | None = None
        while True:
            page = self.ctx.app.recorder.select_notifications(
                start, HOLDERS_PAGE, topics=[StaffAccount.Opened.TOPIC]
            )
            for notification in page:
                opened: Any = self.ctx.app.mapper.to_domain_event(notification)
                if opened.agency == agency and str(role) in opened.roles:
                    account = self.account(str(opened.originator_id))
                    if account.agency == agency and role in account.roles:
                        found.append(account)
            if len(page) < HOLDERS_PAGE:
                return sorted(found, key=lambda a: (a.display_name, a.username))
            start = page[-1].id + 1

    def authenticate(
        self,
        username: str,
        password: str,
        one_time_code: str | None,
        role: str | None = None,
        *,
        source: str,
    ) -> Actor:
        """Password, code and role in one call, from ``source`` (domain.services.staff_login)."""
        return self.login.authenticate(username, password, one_time_code, role, source=source)

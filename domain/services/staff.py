"""Staff accounts and login (RULES.md "Who acts", Art. 27-28, 39).

Opening accounts is the console's job until the approval flow of Art. 28 exists; login counts
failures on the account itself, so a lockout is part of the audit trail.
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import pyotp
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor, Role
from domain.application import Context, retrying
from domain.errors import AuthenticationFailed, ConcurrentChange, InvalidInput
from domain.permissions import Command, authorize
from domain.sealing import ERASED
from domain.staff import (
    USERNAME,
    StaffAccount,
    check_password_policy,
    check_roles,
    hash_password,
    spend_verification_time,
    verify_password,
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


# Enough for a burst of parallel guesses at one account (retrying() spreads them out).
FAILURE_RECORDING_ATTEMPTS = 20
HOLDERS_PAGE = 500  # opening events read per query of the notification log


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (now, or one either side for clock drift) whose code ``code`` is."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _refused(code: str = "authentication_failed") -> AuthenticationFailed:
    return AuthenticationFailed(
        "用户名、密码或动态口令不正确", "wrong username, password or one-time code", code=code
    )


class StaffService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

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

    def _record_failure(self, account_id: UUID, reason: str) -> None:
        """Record a failed login on the account, reloading it as often as parallel failures
        get in the way: a guesser who sends wrong passwords in parallel must be counted (and
        locked out) like one who sends them in turn. The answer stays 401 whatever happens."""

        def attempt() -> None:
            account = self.ctx.load(StaffAccount, account_id, "账号", "account")
            system = Actor.system(account.agency, "login")
            account.record_failed_login(
                reason, self.ctx.login_max_failures, self.ctx.lockout, **self.ctx.stamp(system)
            )
            self.ctx.save(account)

        with contextlib.suppress(ConcurrentChange):
            retrying(FAILURE_RECORDING_ATTEMPTS, attempt)

    def authenticate(
        self, username: str, password: str, one_time_code: str | None, role: str | None = None
    ) -> Actor:
        """Check credentials; every failure is recorded, ``login_max_failures`` in a row lock."""
        username = username.strip().lower()
        account_id = StaffAccount.create_id(username)
        if account_id not in self.ctx.app.repository:
            spend_verification_time(password)
            raise _refused()
        account = self.ctx.load(StaffAccount, account_id, "账号", "account")
        now = self.ctx.clock()
        if account.is_locked(now):
            raise AuthenticationFailed(
                "连续登录失败次数过多，账号已临时锁定，请稍后再试",
                "too many failed logins: the account is locked for a while",
                code="account_locked",
                locked_until=account.locked_until.isoformat() if account.locked_until else None,
            )
        reason, step = None, None
        password_hash = self.ctx.sealer.open(account.password_hash)
        if password_hash == ERASED:  # the account's key was erased: nobody can log in
            reason = "credentials_erased"
        elif not verify_password(password_hash, password):
            reason = "wrong_password"
        elif account.needs_second_factor:
            if not one_time_code:
                raise AuthenticationFailed(
                    "该账号须输入动态口令（TOTP）",
                    "this account needs its one-time code (TOTP)",
                    code="second_factor_required",
                )
            secret = self.ctx.sealer.open_or_none(account.totp_secret)
            if secret is None or secret == ERASED:
                # The account's key was erased: no code can match, the login fails like one.
                reason = "second_factor_erased"
            elif (step := matching_step(secret, one_time_code.strip(), now)) is None:
                reason = "wrong_one_time_code"
            elif account.last_totp_step is not None and step <= account.last_totp_step:
                reason = "one_time_code_reused"  # a code seen once (e.g. over a shoulder)
        if reason is not None:
            self._record_failure(account_id, reason)
            raise _refused()
        try:
            acting: Role | None = Role(role) if role else account.roles[0]
        except ValueError:  # an unknown role name: refused like a role not held, not a 500
            acting = None
        if acting is None or acting not in account.roles:
            raise InvalidInput(
                "账号没有该角色", "the account does not hold that role", field="role"
            )
        account.record_login(step, **self.ctx.stamp(Actor(str(account.id), acting, account.agency)))
        self.ctx.save(account)
        return Actor(str(account.id), acting, account.agency)

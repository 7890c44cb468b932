"""Staff login in one or two steps (RULES.md "Who acts", Art. 39).

Step one checks the password. An account that needs a second factor (administrators,
approvers), or whose holder is to choose among several roles, then gets a *login ticket*: an
opaque random token that says "password verified, code pending" and nothing more. Step two
takes the ticket with the one-time code (and the role) and completes the login. So the
password is needed once and kept nowhere, not even for the five minutes of the second step.

A ticket is bound to one account, lives ``TICKET_LIFETIME``, completes one login, and takes
at most ``CODE_ATTEMPTS_PER_TICKET`` codes; every wrong code is a failed login of the account
like a wrong password, so ``login_max_failures`` wrong codes lock the account whichever way
they come. Every step names its *source*, the client key of the address it came from
(projections.client_address, handed over by the HTTP layer as a plain string): failures are
counted, and the account locked, per source (domain.staff), so a stranger elsewhere cannot
lock the holder out; a wrong code counts for the source that typed it, whoever got the
ticket. Where tickets are kept is the caller's (``LoginTickets``: the staff API keeps them
hashed beside its sessions); which events are recorded is as before: ``LoginFailed`` (and
``Locked``) for each wrong password or code, ``LoggedIn`` when the login completes, each
naming its source. Issuing a ticket records nothing: it is no login yet, and it does not start
the failure count again.
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import pyotp

from domain.actor import Actor, Role
from domain.application import Context, retrying
from domain.errors import AuthenticationFailed, ConcurrentChange, InvalidInput
from domain.sealing import ERASED
from domain.staff import StaffAccount, spend_verification_time, verify_password

TICKET_LIFETIME = timedelta(minutes=5)
CODE_ATTEMPTS_PER_TICKET = 5
# Enough for a burst of parallel guesses at one account (retrying() spreads them out).
FAILURE_RECORDING_ATTEMPTS = 20


@dataclass(frozen=True)
class HeldTicket:
    """What a ticket stands for, as its store gives it back (never the token itself)."""

    account_id: str
    role: str | None  # the role asked for in step one, if any
    expires_at: datetime
    attempts_left: int


class LoginTickets(Protocol):
    """Where tickets are kept. The token is random (256 bits) and only its hash is stored."""

    def issue(
        self, account_id: str, role: str | None, now: datetime, expires_at: datetime, attempts: int
    ) -> str:
        """A new ticket for ``account_id``: its token, to be given to the one logging in."""

    def find(self, ticket: str, now: datetime) -> HeldTicket | None:
        """The ticket if it is known, unexpired and has attempts left; counts nothing."""

    def take_attempt(self, ticket: str, now: datetime) -> HeldTicket | None:
        """Atomically take one attempt of the ticket (None if none is left, or it expired)."""

    def spend(self, ticket: str) -> bool:
        """Remove the ticket; True only for the one caller that removed it."""


@dataclass(frozen=True)
class PasswordChecked:
    """Step one passed: the password is right and the account is not locked."""

    account_id: str
    username: str
    roles: tuple[Role, ...]
    needs_second_factor: bool
    role: Role  # the role asked for, or the first
    source: str  # the client key the password came from


@dataclass(frozen=True)
class PendingLogin:
    """A login waiting for its second step, as the pages and the API show it."""

    ticket: str
    username: str
    needs_second_factor: bool
    roles: tuple[Role, ...]
    role: Role  # the role chosen so far (asked for in step one, or the first)
    expires_at: datetime


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (now, or one either side for clock drift) whose code ``code`` is."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    typed = code.encode()  # as bytes: compare_digest refuses str with non-ASCII (e.g. "１")
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed):
            return step
    return None


def refused() -> AuthenticationFailed:
    return AuthenticationFailed(
        "用户名、密码或动态口令不正确", "wrong username, password or one-time code"
    )


def locked(until: datetime) -> AuthenticationFailed:
    return AuthenticationFailed(
        "从您所在的地址连续登录失败次数过多，该账号在此地址已临时锁定，请稍后再试",
        "too many failed logins from this address: the account is locked for logins from here "
        "for a while",
        code="account_locked",
        locked_until=until.isoformat(),
    )


def ticket_ended() -> AuthenticationFailed:
    return AuthenticationFailed(
        "登录步骤已超时、已使用或动态口令错误次数过多，请重新输入用户名和密码",
        "the login ticket has expired, been used or taken too many codes; log in again",
        code="login_ticket_invalid",
    )


def second_factor_required(**details: Any) -> AuthenticationFailed:
    return AuthenticationFailed(
        "该账号须输入动态口令（TOTP）",
        "this account needs its one-time code (TOTP)",
        code="second_factor_required",
        **details,
    )


class StaffLogin:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    # -- step one ------------------------------------------------------------------------------

    def check_password(
        self, username: str, password: str, role: str | None = None, *, source: str
    ) -> PasswordChecked:
        """Step one: every wrong password is recorded, ``login_max_failures`` in a row from
        one source lock the account for that source. A right password records nothing yet:
        the login is recorded once complete."""
        account_id = StaffAccount.create_id(username.strip().lower())
        if account_id not in self.ctx.app.repository:
            spend_verification_time(password)
            raise refused()
        account = self.ctx.load(StaffAccount, account_id, "账号", "account")
        if (until := account.locked_until_for(source, self.ctx.clock())) is not None:
            raise locked(until)
        password_hash = self.ctx.sealer.open(account.password_hash)
        if password_hash == ERASED:  # the account's key was erased: nobody can log in
            self._record_failure(account_id, "credentials_erased", source)
            raise refused()
        if not verify_password(password_hash, password):
            self._record_failure(account_id, "wrong_password", source)
            raise refused()
        return PasswordChecked(
            str(account.id),
            account.username,
            tuple(account.roles),
            account.needs_second_factor,
            account.role_to_act_in(role),
            source,
        )

    def hold(self, checked: PasswordChecked, tickets: LoginTickets) -> PendingLogin:
        """A ticket for the second step of a login whose password was right."""
        now = self.ctx.clock()
        expires_at = now + TICKET_LIFETIME
        ticket = tickets.issue(
            checked.account_id, str(checked.role), now, expires_at, CODE_ATTEMPTS_PER_TICKET
        )
        return PendingLogin(
            ticket,
            checked.username,
            checked.needs_second_factor,
            checked.roles,
            checked.role,
            expires_at,
        )

    # -- step two ------------------------------------------------------------------------------

    def pending(self, ticket: str, tickets: LoginTickets) -> PendingLogin | None:
        """The login a ticket waits to complete, or None if the ticket has ended."""
        held = tickets.find(ticket, self.ctx.clock())
        if held is None:
            return None
        account = self.ctx.load(StaffAccount, UUID(held.account_id), "账号", "account")
        return PendingLogin(
            ticket,
            account.username,
            account.needs_second_factor,
            tuple(account.roles),
            account.role_to_act_in(held.role),
            held.expires_at,
        )

    def finish(
        self,
        ticket: str,
        one_time_code: str | None,
        role: str | None,
        tickets: LoginTickets,
        *,
        source: str,
    ) -> Actor:
        """Step two: the ticket, the one-time code if the account needs one, and the role.

        A role the account does not hold, or a missing code, is refused (422) before the
        ticket loses an attempt; every code tried takes one, and a wrong one is a failed login
        of the account. The ticket is spent before the login is recorded, so two requests
        with the same ticket never both log in."""
        now = self.ctx.clock()
        held = tickets.find(ticket, now)
        if held is None:
            raise ticket_ended()
        account = self.ctx.load(StaffAccount, UUID(held.account_id), "账号", "account")
        acting = account.role_to_act_in(role or held.role)
        code = (one_time_code or "").strip()
        if account.needs_second_factor and not code:
            raise InvalidInput(
                "请输入动态口令", "enter the one-time code",
                code="one_time_code_required", field="one_time_code",
            )  # fmt: skip
        taken = tickets.take_attempt(ticket, now)
        if taken is None:
            raise ticket_ended()
        try:
            step = self._second_factor(account, code, now, source)
        except AuthenticationFailed as failed:
            # A locked account, or a ticket out of attempts: this ticket is done with.
            if failed.code == "account_locked" or taken.attempts_left == 0:
                tickets.spend(ticket)
            raise
        if not tickets.spend(ticket):
            raise ticket_ended()
        return self._record_login(account, step, acting, source)

    # -- in one request (the JSON API's username, password and code together) -----------------

    def authenticate(
        self,
        username: str,
        password: str,
        one_time_code: str | None,
        role: str | None = None,
        *,
        source: str,
    ) -> Actor:
        """Both steps in one call, for clients that send everything at once."""
        checked = self.check_password(username, password, role, source=source)
        return self.complete(checked, one_time_code)

    def complete(self, checked: PasswordChecked, one_time_code: str | None = None) -> Actor:
        """The login of a password just checked, with its code: without one, an account that
        needs it is refused with ``second_factor_required`` (not counted as a failure)."""
        account = self.ctx.load(StaffAccount, UUID(checked.account_id), "账号", "account")
        if account.needs_second_factor and not one_time_code:
            raise second_factor_required()
        code, now = (one_time_code or "").strip(), self.ctx.clock()
        step = self._second_factor(account, code, now, checked.source)
        return self._record_login(account, step, checked.role, checked.source)

    # -- shared ----------------------------------------------------------------------------------

    def _second_factor(
        self, account: StaffAccount, code: str, now: datetime, source: str
    ) -> int | None:
        """The time step of a right code (None for an account without a second factor);
        an account locked for ``source``, a wrong code or one already used is refused, and
        all but the lock are recorded as failed logins from ``source``."""
        if (until := account.locked_until_for(source, now)) is not None:
            raise locked(until)
        if self.ctx.sealer.open(account.password_hash) == ERASED:
            reason = "credentials_erased"  # erased between the two steps
        elif not account.needs_second_factor:
            return None
        elif (secret := self.ctx.sealer.open_or_none(account.totp_secret)) in (None, ERASED):
            reason = "second_factor_erased"  # no code can match: it fails like a wrong one
        elif (step := matching_step(str(secret), code, now)) is None:
            reason = "wrong_one_time_code"
        elif account.last_totp_step is not None and step <= account.last_totp_step:
            reason = "one_time_code_reused"  # a code seen once (e.g. over a shoulder)
        else:
            return step
        self._record_failure(account.id, reason, source)
        raise refused()

    def _record_login(
        self, account: StaffAccount, step: int | None, acting: Role, source: str
    ) -> Actor:
        actor = Actor(str(account.id), acting, account.agency)
        account.record_login(step, source, **self.ctx.stamp(actor))
        self.ctx.save(account)
        return actor

    def _record_failure(self, account_id: UUID, reason: str, source: str) -> None:
        """Record a failed login on the account, reloading it as often as parallel failures
        get in the way: a guesser who sends wrong passwords or codes in parallel must be
        counted (and locked out) like one who sends them in turn. The answer stays 401."""

        def attempt() -> None:
            account = self.ctx.load(StaffAccount, account_id, "账号", "account")
            system = Actor.system(account.agency, "login")
            account.record_failed_login(
                reason,
                source,
                self.ctx.login_max_failures,
                self.ctx.lockout,
                **self.ctx.stamp(system),
            )
            self.ctx.save(account)

        with contextlib.suppress(ConcurrentChange):
            retrying(FAILURE_RECORDING_ATTEMPTS, attempt)

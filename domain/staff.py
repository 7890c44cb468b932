"""Staff accounts (RULES.md "Who acts", Art. 27-28, 39).

Each account belongs to one agency and holds one or more roles, never two of the three
administrator roles. Passwords are hashed with argon2id; five failed logins in a row lock the
account for 30 minutes (settings); administrators and approvers log in with a TOTP second
factor whose secret is sealed like personal data.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventsourcing.domain import Aggregate

from domain.actor import ADMIN_ROLES, SECOND_FACTOR_ROLES, Role
from domain.errors import InvalidInput
from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")


def check_password_policy(password: str, username: str) -> None:
    """At least 8 characters from 3 of 4 classes, not containing the username."""
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")
    )
    if len(password) < 8 or classes < 3 or username.lower() in password.lower():
        raise InvalidInput(
            "密码至少 8 位，包含大写字母、小写字母、数字、符号中的至少三类，且不得包含用户名",
            "the password needs at least 8 characters from 3 of: lower case, upper case, "
            "digits, symbols, and must not contain the username",
            code="weak_password",
            field="password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_UNKNOWN_USER_HASH = _hasher.hash("no such account, no such password")


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def spend_verification_time(password: str) -> None:
    """Verify against a fixed hash, so an unknown username answers as slowly as a known one."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_UNKNOWN_USER_HASH, password)


def check_roles(roles: list[Role]) -> None:
    if not roles:
        raise InvalidInput("账号至少需要一个角色", "an account needs a role", field="roles")
    if len(ADMIN_ROLES.intersection(roles)) > 1:
        raise InvalidInput(
            "系统管理员、安全管理员、审计管理员三种角色不得由同一人兼任",
            "one person never holds two of the administrator roles",
            code="admin_roles_combined",
            field="roles",
        )
    if Role.APPLICANT in roles or Role.SYSTEM in roles:
        raise InvalidInput(
            "申请人和系统角色不能分配给工作人员账号",
            "applicant and system are not staff roles",
            code="not_a_staff_role",
            field="roles",
        )


class StaffAccount(Aggregate):
    TOPIC = "firegov:StaffAccount"

    class Event(StaffEvent):
        TOPIC = "firegov:StaffAccount.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:StaffAccount.Created"

    class Opened(StaffCreated):
        TOPIC = "firegov:StaffAccount.Opened"
        username: str
        display_name: str
        agency: str
        roles: list[str]
        password_hash: str  # sealed with the account's own key, like the TOTP secret

    def __init__(
        self,
        username: str,
        display_name: str,
        agency: str,
        roles: list[str],
        password_hash: str,
        actor_id: str,
        actor_role: str,
        actor_agency: str,
    ) -> None:
        self.username = username
        self.display_name = display_name
        self.agency = agency
        self.roles = [Role(r) for r in roles]
        self.password_hash = password_hash
        self.totp_secret: str | None = None  # sealed
        self.failures = 0
        self.locked_until: datetime | None = None
        self.last_totp_step: int | None = None  # a one-time code is good for one login only

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("staff", username)

    @property
    def needs_second_factor(self) -> bool:
        return bool(SECOND_FACTOR_ROLES.intersection(self.roles))

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def role_to_act_in(self, role: str | None) -> Role:
        """The role a login acts in: the one asked for, which the account must hold, or its
        first role. A session acts in one role at a time, so whoever holds several chooses."""
        if not role:
            return self.roles[0]
        try:
            acting = Role(role)
        except ValueError:  # an unknown role name: refused like a role not held, not a 500
            acting = None
        if acting is None or acting not in self.roles:
            raise InvalidInput(
                "账号没有该角色，请从本账号的角色中选择",
                "the account does not hold that role; choose one of its roles",
                code="role_not_held",
                field="role",
            )
        return acting

    def enrol_second_factor(self, sealed_secret: str, **by: Any) -> None:
        self.trigger_event(self.SecondFactorEnrolled, totp_secret=sealed_secret, **by)

    class SecondFactorEnrolled(StaffEvent):
        TOPIC = "firegov:StaffAccount.SecondFactorEnrolled"
        totp_secret: str

        def apply(self, aggregate: StaffAccount) -> None:
            aggregate.totp_secret = self.totp_secret

    def record_login(self, totp_step: int | None, **by: Any) -> None:
        self.trigger_event(self.LoggedIn, totp_step=totp_step, **by)

    class LoggedIn(StaffEvent):
        TOPIC = "firegov:StaffAccount.LoggedIn"
        totp_step: int | None  # the time step of the one-time code used, if any

        def apply(self, aggregate: StaffAccount) -> None:
            aggregate.failures = 0
            aggregate.locked_until = None
            if self.totp_step is not None:
                aggregate.last_totp_step = self.totp_step

    def record_failed_login(
        self, reason: str, max_failures: int, lockout: timedelta, **by: Any
    ) -> None:
        self.trigger_event(self.LoginFailed, reason=reason, **by)
        if self.failures >= max_failures:
            self.trigger_event(self.Locked, until=by["timestamp"] + lockout, **by)

    class LoginFailed(StaffEvent):
        TOPIC = "firegov:StaffAccount.LoginFailed"
        reason: str

        def apply(self, aggregate: StaffAccount) -> None:
            aggregate.failures += 1

    class Locked(StaffEvent):
        TOPIC = "firegov:StaffAccount.Locked"
        until: datetime

        def apply(self, aggregate: StaffAccount) -> None:
            aggregate.locked_until = self.until
            aggregate.failures = 0

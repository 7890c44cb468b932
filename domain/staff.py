"""Staff accounts (RULES.md "Who acts", Art. 27-28, 39).

Each account belongs to one agency and holds one or more roles, never two of the three
administrator roles. Passwords are hashed with argon2id; administrators and approvers log in
with a TOTP second factor whose secret is sealed like personal data.

Lockout (MLPS, docs/security.md "Login lockout"): failed logins are counted per account *and
source* (the client key of the address they came from: an IPv4 address, an IPv6 /64). Five in
a row from one source lock the account for that source for 30 minutes (settings); the holder
logging in from their own address is not locked out by a stranger elsewhere. Each failure, lock
and login is an event on the account naming its source, so the audit trail shows who tried
from where. Events from before sources were counted (class version 1) name none: a lock among
them locked the whole account, and still does until it ends.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
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


# Failing sources an account remembers at once. Beyond it, the one that failed longest ago and
# is not locked is forgotten first: memory stays bounded whoever sends what from where.
MAX_SOURCES_KEPT = 64


@dataclass(frozen=True)
class FromSource:
    """What one source has done to an account since its last login or lock from there."""

    failures: int = 0
    locked_until: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


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
        # Per source, least recently failing first (dict order); bounded by MAX_SOURCES_KEPT.
        self.sources: dict[str, FromSource] = {}
        self.locked_until: datetime | None = None  # a whole-account lock of class version 1
        self.last_totp_step: int | None = None  # a one-time code is good for one login only

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("staff", username)

    @property
    def needs_second_factor(self) -> bool:
        return bool(SECOND_FACTOR_ROLES.intersection(self.roles))

    def locked_until_for(self, source: str, now: datetime) -> datetime | None:
        """Until when the account is locked for logins from ``source`` (None: it is not)."""
        held = self.sources.get(source, FromSource())
        ends = [end for end in (self.locked_until, held.locked_until) if end and now < end]
        return max(ends, default=None)

    def is_locked(self, source: str, now: datetime) -> bool:
        return self.locked_until_for(source, now) is not None

    def _remember(self, source: str, state: FromSource, now: datetime) -> None:
        """Keep ``state`` as the newest of ``source``, forgetting the oldest beyond the bound."""
        self.sources.pop(source, None)
        self.sources[source] = state
        while len(self.sources) > MAX_SOURCES_KEPT:
            older = list(self.sources)[:-1]  # never the one just counted
            unlocked = [key for key in older if not self.sources[key].locked_at(now)]
            del self.sources[(unlocked or older)[0]]

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

    def record_login(self, totp_step: int | None, source: str, **by: Any) -> None:
        self.trigger_event(self.LoggedIn, totp_step=totp_step, source=source, **by)

    class LoggedIn(StaffEvent):
        TOPIC = "firegov:StaffAccount.LoggedIn"
        class_version = 2
        totp_step: int | None  # the time step of the one-time code used, if any
        source: str | None  # the client key logged in from; None in version 1

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = None

        def apply(self, aggregate: StaffAccount) -> None:
            if self.source is None:  # version 1 counted for the whole account
                aggregate.sources.clear()
                aggregate.locked_until = None
            else:
                aggregate.sources.pop(self.source, None)
            if self.totp_step is not None:
                aggregate.last_totp_step = self.totp_step

    def record_failed_login(
        self, reason: str, source: str, max_failures: int, lockout: timedelta, **by: Any
    ) -> None:
        self.trigger_event(self.LoginFailed, reason=reason, source=source, **by)
        if self.sources[source].failures >= max_failures:
            until = by["timestamp"] + lockout
            self.trigger_event(self.Locked, until=until, source=source, **by)

    class LoginFailed(StaffEvent):
        TOPIC = "firegov:StaffAccount.LoginFailed"
        class_version = 2
        reason: str
        source: str | None  # the client key the attempt came from; None in version 1

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = None

        def apply(self, aggregate: StaffAccount) -> None:
            if self.source is None:
                return  # a version-1 count of the whole account: no source to lock
            held = aggregate.sources.get(self.source, FromSource())
            state = FromSource(held.failures + 1, held.locked_until)
            aggregate._remember(self.source, state, self.timestamp)

    class Locked(StaffEvent):
        TOPIC = "firegov:StaffAccount.Locked"
        class_version = 2
        until: datetime
        source: str | None  # the source locked out; None in version 1: the whole account

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = None

        def apply(self, aggregate: StaffAccount) -> None:
            if self.source is None:
                aggregate.locked_until = self.until
                aggregate.sources.clear()
            else:
                aggregate._remember(self.source, FromSource(0, self.until), self.timestamp)

"""What the case routes share (routes_filings, routes_bookings): the receipt number in the path,
If-Match as the expected version, read-your-writes, the agencies a reader may see, and the
refusals the routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path

from api_internal.deps import Backend
from domain.actor import Actor
from domain.errors import InvalidInput
from domain.permissions import CITY_WIDE_READERS, in_jurisdiction
from projections.api_docs import problems

# A route's own refusals in the OpenAPI document (api_internal.app adds those every route has):
# a list or a new case (the role may not), one case (also: no such case), and a command on a
# case (also: the case's state does not allow it, or someone else changed it meanwhile).
ROLE_REFUSED = problems(403)
CASE_REFUSED = problems(403, 404)
COMMAND_REFUSED = problems(403, 404, 409)

# Receipt numbers are letters, digits and dashes; the history route also takes an aggregate
# id (a UUID), which fits the same pattern. Anything else (a NUL, which PostgreSQL refuses in a
# text parameter, a path, 4000 characters) is a 422 before it reaches a query.
Receipt = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9-]{1,40}$", description="受理编号（历史也接受事项 id）receipt number"
    ),
]


def expected_version(
    if_match: Annotated[
        str | None,
        Header(description="可选：案件版本号（来自 ETag），不一致时返回 409，防止覆盖他人的修改"),
    ] = None,
) -> int | None:
    """The case version from If-Match; the service compares it after authorising the actor."""
    if if_match is None:
        return None
    try:
        return int(if_match.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise InvalidInput(
            "If-Match 须为版本号", "If-Match must be a version", field="If-Match"
        ) from None


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def caught_up(backend: Backend) -> Backend:
    # Read-your-writes: a query first brings the read models up to every saved command, so a
    # clerk always sees what they just did (the background follower does the rest).
    backend.projector.catch_up()
    return backend


def visible_agencies(backend: Backend, actor: Actor) -> list[str] | None:
    # Queries are authorised here, with the command side's own table and jurisdiction rule.
    if actor.role in CITY_WIDE_READERS:
        return None
    return [
        a.code for a in backend.agencies.all() if in_jurisdiction(actor, backend.agencies, a.code)
    ]

"""What the portal's unfinished drafts may hold (pages_drafts) and how often they may be
written, per client address and in all: anyone on the internet can start one, so an address
is all there is to count by. The limits are operator settings (FIREGOV_PUBLIC_DRAFT_*); the
pages that apply them are in pages_limits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from api_public.ratelimit import RateLimiter

MIB = 1024 * 1024


@dataclass
class DraftLimits:
    """The bytes of files the drafts of one client address, and all drafts together, may
    hold at once, and how often one address may start a draft or upload into one. (The budget
    of one draft is not here: it is the intake's max_submission_bytes.)"""

    bytes_per_client: int = 200 * MIB
    bytes_total: int = 2048 * MIB
    steps: RateLimiter = field(default_factory=lambda: RateLimiter(20))


class Overflow(StrEnum):
    """Which budget a refused file would have gone over."""

    DRAFT = "draft"  # the files of this draft together: more than one submission may carry
    CLIENT = "client"  # the files held for this client address at once


class DraftsFull(Exception):
    """All drafts together hold as many bytes as the installation allows: nothing was kept."""


def held_by(client: str) -> str:
    """Whom a budget counts, as stored: a hash of the client key (projections.client_address:
    an IPv4 address, an IPv6 address's /64), so that the address itself is not stored."""
    return hashlib.sha256(b"firegov-portal-client:" + client.encode()).hexdigest()[:32]

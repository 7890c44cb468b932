"""A whole installation in a temporary directory: the internal platform, the outbound bridge
over the file ferry, and the public side reading the ferry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.outbound import OutboundBridge
from deployment.bootstrap import Platform
from deployment.settings import InternalSettings
from deployment.sides import (
    PublicSide,
    build_outbound,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
)
from domain.actor import Actor, Role
from domain.query_code import hash_query_code, new_query_code
from tests.support import Clock, filing_input, make_platform, materials, settings_for

CLERK = Actor("window-jinshui", Role.WINDOW_CLERK, "zz-jinshui")


@dataclass
class Installation:
    settings: InternalSettings
    clock: Clock
    platform: Platform
    outbound: OutboundBridge
    public: PublicSide

    def cross(self) -> int:
        """Run the bridge and the receiver until both are caught up; the public last seq."""
        self.outbound.step()
        while self.public.receiver.receive():
            pass
        return self.public.receiver.status().last_seq

    def file(self, **overrides: object) -> tuple[str, str]:
        """A filing recorded at the window; returns its receipt number and query code."""
        code = new_query_code()
        receipt = self.platform.services.filings.submit(
            CLERK, **filing_input(**overrides), query_code_hash=hash_query_code(code)
        )
        return receipt, code

    def certify(self, receipt: str) -> str:
        return self.platform.services.filings.issue_certificate(CLERK, receipt)

    @property
    def ferry(self) -> Path:
        return self.settings.ferry_outbox


def install(tmp_path: Path, **settings: Any) -> Installation:
    internal = settings_for(tmp_path, **settings)
    clock = Clock()
    platform = make_platform(internal, clock)
    ensure_bridge_keys(internal)
    return Installation(
        internal,
        clock,
        platform,
        build_outbound(platform, internal),
        build_public(embedded_public_settings(internal), clock=clock),
    )


@pytest.fixture(name="installation")
def installation_fixture(tmp_path: Path) -> Iterator[Installation]:
    built = install(tmp_path)
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()


INCOMPLETE = materials(leave_out=("construction_permit",))

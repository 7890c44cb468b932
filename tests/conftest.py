"""Test-wide hooks: with FIREGOV_REQUIRE_SERVICES=1 a missing service fails the run.

Tests that need a real service (PostgreSQL, NATS, a browser) skip when it is absent, so a
developer laptop stays green; CI sets FIREGOV_REQUIRE_SERVICES=1 so that a skip there,
which would silently hide the untested integration, becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

SERVICE_MARKERS = ("postgres", "nats", "e2e")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    # A skip's longrepr is (path, line, "Skipped: reason").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")  # an expected failure is not a missing service
        and os.environ.get("FIREGOV_REQUIRE_SERVICES") == "1"
        and any(item.get_closest_marker(name) for name in SERVICE_MARKERS)
    ):
        report.outcome = "failed"
        report.longrepr = f"required service missing: {_skip_reason(report)}"
    return report

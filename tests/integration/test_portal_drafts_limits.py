"""What anonymous visitors can make the portal keep (a security review of issue 5): the files
of one draft never more than one submission may carry, a budget per client address and one for
all drafts together (beyond it 系统繁忙, nothing kept), drafts started and uploads counted per
address, expired drafts purged whoever writes next, and no form taken from another site. Each
refusal is said next to its field, with what was typed kept and the refused file not stored
(the drafts' tables measured before and after)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from psycopg_pool import ConnectionPool

from api_public.pages_budgets import DraftLimits, DraftsFull, Overflow, held_by
from api_public.pages_drafts import PortalDrafts
from api_public.ratelimit import RateLimiter
from deployment.settings import PublicSettings
from projections.client_address import client_key
from projections.store import PostgresViewStore, SqliteViewStore, ViewStore
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.integration.test_public_pages import (  # noqa: F401 - the fixture
    BOOKING,
    PDF,
    STEP_ONE,
    STEP_TWO,
    checked,
    design_files,
    drafts,
    error_next_to,
    go,
    nothing_submitted,
    portal_fixture,
    track,
    value_of,
)
from tests.support import Clock

Files = dict[str, tuple[str, bytes, str]]


@pytest.fixture(
    name="store", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ViewStore]:
    """An empty public store on SQLite, and on PostgreSQL in a schema of its own."""
    if request.param == "sqlite":
        sqlite = SqliteViewStore(tmp_path / "public.sqlite")
        yield sqlite
        sqlite.close()
        return
    url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    pool = ConnectionPool(
        url, min_size=1, max_size=2, kwargs={"options": f"-c search_path={schema}"}, open=True
    )
    try:
        yield PostgresViewStore(pool)
    finally:
        pool.close()


def stored(installation: Installation) -> tuple[list[str], int]:
    """The items whose files the drafts hold, and the bytes they take in the table."""
    with installation.public.store.reading() as tx:
        rows = tx.fetchall("SELECT item, sealed FROM portal_draft_files ORDER BY item")
    return [row["item"] for row in rows], sum(len(row["sealed"]) for row in rows)


def at_upload_step(portal: TestClient) -> None:
    go(portal, "/file/1", STEP_ONE)
    go(portal, "/file/2", STEP_TWO)


def size_of(files: Files, *items: str) -> int:
    return sum(len(files[item][1]) for item in items)


def limits(installation: Installation) -> DraftLimits:
    found: DraftLimits = installation.public.backend.drafts
    return found


def another(portal: TestClient, address: str = "testclient") -> TestClient:
    """Another visitor of the same portal (own cookies), from ``address``."""
    return TestClient(portal.app, client=(address, 50001))


def test_a_file_beyond_what_one_submission_may_carry_is_refused_next_to_it_and_not_kept(
    installation: Installation, portal: TestClient
) -> None:
    files = design_files()
    first, second, *rest = files
    intake = installation.public.backend.intake
    assert intake is not None
    intake.max_submission_bytes = size_of(files, first, second) + 10
    at_upload_step(portal)
    before = stored(installation)

    answer = portal.post("/file/3", files=files)

    assert answer.status_code == 413
    page = checked(answer)
    for item in rest:
        error_next_to(page, item)
    assert "此文件未保存" in answer.text
    assert "已上传：application_form.pdf" in answer.text  # the files that fit stay
    items, size = stored(installation)
    assert before == ([], 0)
    assert items == sorted([first, second])
    assert size < 2 * (size_of(files, first, second) + 100)  # sealed: base64 and a nonce
    assert portal.get("/file/4", follow_redirects=False).headers["location"] == "/file/3"
    assert nothing_submitted(installation)


def test_the_files_one_address_holds_at_once_are_bounded_and_freed_by_starting_again(
    installation: Installation, portal: TestClient
) -> None:
    files = design_files()
    first, second, *_ = files
    limits(installation).bytes_per_client = size_of(files, first, second) + 10
    at_upload_step(portal)
    portal.post("/file/3", files={first: files[first], second: files[second]})
    neighbour, elsewhere = another(portal), another(portal, "198.51.100.7")
    at_upload_step(neighbour)
    at_upload_step(elsewhere)
    before = stored(installation)

    refused = neighbour.post("/file/3", files={first: files[first]})

    assert refused.status_code == 429
    error_next_to(checked(refused), first)
    assert "您所在的网络暂存的未提交材料已达上限" in refused.text
    assert stored(installation) == before  # nothing kept
    assert elsewhere.post("/file/3", files={first: files[first]}).status_code == 422  # kept
    assert len(stored(installation)[0]) == 3
    portal.post("/file/reset")  # the first visitor gives up: the address's bytes are free
    assert neighbour.post("/file/3", files={first: files[first]}).status_code == 422
    assert "已上传：application_form.pdf" in neighbour.get("/file/3").text


def test_when_all_drafts_together_are_full_the_page_says_the_system_is_busy_and_keeps_nothing(
    installation: Installation, portal: TestClient
) -> None:
    files = design_files()
    first, *_ = files
    limits(installation).bytes_total = size_of(files, first) + 10
    at_upload_step(portal)

    answer = portal.post("/file/3", files=files)

    assert answer.status_code == 503
    checked(answer)
    assert "系统繁忙" in answer.text
    assert answer.headers["retry-after"] == "900"
    assert 'href="/file/3"' in answer.text
    assert stored(installation) == ([], 0)  # not even the first file, which fitted
    assert "已上传：" not in portal.get("/file/3").text
    assert nothing_submitted(installation)


def test_a_booking_scan_beyond_the_addresss_budget_is_refused_with_what_was_typed_kept(
    installation: Installation, portal: TestClient
) -> None:
    limits(installation).bytes_per_client = len(PDF) - 1
    go(portal, "/book/1", {"kind": "fire_acceptance", "district": "金水区"})
    today = installation.clock().date().isoformat()
    go(portal, "/book/2", {"wished_day": today, "wished_half": "pm"})

    answer = portal.post(
        "/book/3", data=BOOKING, files={"basis_document": ("凭证.pdf", PDF, "application/pdf")}
    )

    assert answer.status_code == 429
    page = checked(answer)
    error_next_to(page, "basis_document")
    assert value_of(page, "organisation_name") == BOOKING["organisation_name"]
    assert stored(installation) == ([], 0)


def test_expired_drafts_are_purged_when_anyone_writes_not_only_their_owner(
    installation: Installation, portal: TestClient
) -> None:
    at_upload_step(portal)
    portal.post("/file/3", files=design_files())
    assert drafts(installation) == 1
    assert stored(installation)[0]
    installation.clock.advance(hours=2, seconds=1)  # the draft expired; its owner is gone

    go(another(portal), "/file/1", STEP_ONE)  # someone else starts a filing

    assert drafts(installation) == 1  # only the new one
    assert stored(installation) == ([], 0)


def test_purging_expired_drafts_needs_no_visitor_and_spares_the_live_ones(
    store: ViewStore,
) -> None:
    clock = Clock()
    records = PortalDrafts(store, clock)
    old = records.new("filing", {"fields": {}}, 60)
    records.put_files(old, "203.0.113.1", {"application_form": PDF}, 10**6, DraftLimits())
    clock.advance(seconds=30)
    live = records.new("filing", {"fields": {}}, 3600)
    records.put_files(live, "203.0.113.1", {"application_form": PDF}, 10**6, DraftLimits())
    clock.advance(seconds=31)

    assert records.purge() == 1

    assert records.load(old, "filing") is None
    assert records.file(old, "application_form") is None
    assert records.file(live, "application_form") == PDF


def test_each_budget_holds_on_both_databases(store: ViewStore) -> None:
    """The draft's, the address's and the installation's budgets, with a file replaced
    counting once, on SQLite and on PostgreSQL (where one writer of files at a time)."""
    records = PortalDrafts(store, Clock())
    size = len(PDF)
    budget = DraftLimits(bytes_per_client=3 * size, bytes_total=4 * size)
    mine, neighbours = records.new("filing", {}, 600), records.new("filing", {}, 600)

    assert records.put_files(mine, "203.0.113.1", {"a": PDF, "b": PDF}, 2 * size, budget) == {}
    assert records.put_files(mine, "203.0.113.1", {"a": PDF}, 2 * size, budget) == {}  # replaced
    assert records.put_files(mine, "203.0.113.1", {"c": PDF}, 2 * size, budget) == {
        "c": Overflow.DRAFT
    }
    assert records.put_files(neighbours, "203.0.113.1", {"a": PDF, "b": PDF}, 9 * size, budget) == {
        "b": Overflow.CLIENT
    }
    with pytest.raises(DraftsFull):
        records.put_files(records.new("filing", {}, 600), "198.51.100.7", {"a": PDF, "b": PDF},
                          9 * size, budget)  # fmt: skip
    with store.reading() as tx:
        held = tx.fetchone("SELECT COUNT(*) AS n, SUM(size) AS bytes FROM portal_draft_files")
    assert held is not None
    assert (held["n"], held["bytes"]) == (3, 3 * size)


def test_starting_drafts_too_often_from_one_address_is_refused_with_what_was_typed_kept(
    installation: Installation, portal: TestClient
) -> None:
    limits(installation).steps = RateLimiter(2)
    go(another(portal), "/file/1", STEP_ONE)
    go(another(portal), "/book/1", {"kind": "fire_acceptance", "district": "金水区"})

    answer = another(portal).post("/file/1", data=STEP_ONE)

    assert answer.status_code == 429
    page = checked(answer)
    assert "过于频繁" in answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert value_of(page, "project_name") == STEP_ONE["project_name"]
    assert drafts(installation) == 2
    assert another(portal, "198.51.100.7").post("/file/1", data=STEP_ONE).status_code == 200


def test_uploading_too_often_keeps_no_file_until_the_minute_has_passed(
    installation: Installation, portal: TestClient
) -> None:
    now = [0.0]
    limits(installation).steps = RateLimiter(1, clock=lambda: now[0])
    files = design_files()
    at_upload_step(portal)  # the draft took this minute's one step

    answer = portal.post("/file/3", files=files)

    assert answer.status_code == 429
    page = checked(answer)
    for item in files:
        error_next_to(page, item)
    assert "上传过于频繁，所选文件未保存" in answer.text
    assert stored(installation) == ([], 0)
    now[0] += 60
    assert go(portal, "/file/3", {}, **files).url.path == "/file/4"


@pytest.mark.parametrize("where", ["cross-site", "same-site"])
def test_a_form_posted_from_another_site_is_refused_and_changes_nothing(
    installation: Installation, portal: TestClient, where: str
) -> None:
    receipt, code = installation.file()
    installation.cross()
    at_upload_step(portal)
    track(portal, receipt, code)
    grant = portal.cookies.get("fg_track")
    elsewhere = {"Sec-Fetch-Site": where}
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/file/1", {"data": {**STEP_ONE, "project_name": "别的网站填的"}}),
        ("/file/3", {"files": design_files()}),
        ("/file/reset", {}),
        ("/book/1", {"data": {"kind": "fire_acceptance", "district": "金水区"}}),
        ("/track", {"data": {"receipt_number": receipt, "query_code": "WRONG"}}),
        ("/track/forget", {}),
    ]

    answers: list[Response] = [
        portal.post(url, headers=elsewhere, follow_redirects=False, **kwargs)
        for url, kwargs in posts
    ]

    for answer in answers:
        assert answer.status_code == 403
        checked(answer)
        assert "请在本站页面上填写和提交" in answer.text
        assert "set-cookie" not in answer.headers
    assert value_of(checked(portal.get("/file")), "project_name") == STEP_ONE["project_name"]
    assert stored(installation) == ([], 0)
    assert drafts(installation) == 2  # the filing's draft and the tracking grant, as they were
    assert portal.cookies.get("fg_track") == grant
    assert portal.get(f"/track/{receipt}").text.count(receipt) >= 1
    same_origin = portal.post(
        "/file/3", files=design_files(), headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert same_origin.url.path == "/file/4"


def test_the_budgets_must_leave_room_for_one_submission_of_the_largest_size() -> None:
    with pytest.raises(ValueError, match="draft_bytes_per_client"):
        PublicSettings(max_submission_bytes=300 * 1024 * 1024)
    with pytest.raises(ValueError, match="draft_bytes_total"):
        PublicSettings(draft_bytes_per_client=3 * 1024**3)
    assert PublicSettings().draft_bytes_total == 2 * 1024**3


def test_an_address_is_counted_by_a_hash_and_an_ipv6_one_by_its_64_network() -> None:
    def stored(address: str) -> str:
        return held_by(client_key(address))

    assert stored("2001:db8:1:2::1") == stored("2001:db8:1:2:ffff::9")
    assert stored("2001:db8:1:3::1") != stored("2001:db8:1:2::1")
    assert stored("203.0.113.1") != stored("203.0.113.2")
    assert "203.0.113.1" not in stored("203.0.113.1")


def test_old_draft_files_without_sizes_are_dropped_when_the_portal_starts(
    store: ViewStore,
) -> None:
    with store.transaction() as tx:
        tx.execute(
            "CREATE TABLE portal_draft_files (id_hash TEXT NOT NULL, item TEXT NOT NULL,"
            " sealed TEXT NOT NULL, PRIMARY KEY (id_hash, item))"
        )
        tx.execute("INSERT INTO portal_draft_files VALUES ('x', 'application_form', 'old')")

    records = PortalDrafts(store, Clock())

    handle = records.new("filing", {"fields": {}}, 60)
    assert records.put_files(handle, "203.0.113.1", {"a": PDF}, 10**6, DraftLimits()) == {}
    with store.reading() as tx:
        assert tx.fetchall("SELECT item FROM portal_draft_files") == [{"item": "a"}]
    PortalDrafts(store, Clock())  # a second start keeps what the first made
    assert records.file(handle, "a") == PDF

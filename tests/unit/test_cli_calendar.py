"""``firegov calendar add|check``: mounted on a local app the way deployment/cli.py mounts it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from deployment.cli_calendar import calendar_app

OVERRIDE_2027 = """
year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知"
complete = true
holidays = ["2027-01-01"]
workdays = ["2027-02-20"]
"""

app = typer.Typer()
app.add_typer(calendar_app, name="calendar")
runner = CliRunner()


@pytest.fixture
def calendar_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty override directory, so the answers do not depend on deployment/calendar."""
    monkeypatch.setenv("FIREGOV_CALENDAR_DIR", str(tmp_path))
    return tmp_path


def run(*args: str) -> Result:
    return runner.invoke(app, ["calendar", *args])


def test_add_counts_working_days_across_national_day(calendar_dir: Path) -> None:
    result = run("add", "2026-09-30", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-09\n"


def test_add_takes_a_datetime_without_offset_as_shanghai_time(calendar_dir: Path) -> None:
    assert run("add", "2026-09-30T23:30", "0").stdout == "2026-09-30\n"
    assert run("add", "2026-09-30T15:00", "1").stdout == "2026-10-08\n"


def test_add_takes_a_datetime_with_offset_on_the_shanghai_date(calendar_dir: Path) -> None:
    # 20:00 UTC on 09-30 is 04:00 on 10-01 in Shanghai.
    assert run("add", "2026-09-30T20:00+00:00", "0").stdout == "2026-10-01\n"


def test_add_into_an_uncovered_year_prints_both_messages_and_exits_2(calendar_dir: Path) -> None:
    result = run("add", "2026-12-31", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "2027 年的工作日历尚未配置" in result.stderr
    assert "The working-day calendar of 2027 is not configured" in result.stderr
    assert str(calendar_dir / "2027.toml") in result.stderr
    assert "Traceback" not in result.output


def test_add_uses_the_override_of_the_configured_calendar_dir(calendar_dir: Path) -> None:
    (calendar_dir / "2027.toml").write_text(OVERRIDE_2027, encoding="utf-8")
    assert run("add", "2026-12-31", "1").stdout == "2027-01-04\n"
    assert run("add", "2027-02-19", "1").stdout == "2027-02-20\n"


def test_add_refuses_a_malformed_date(calendar_dir: Path) -> None:
    result = run("add", "30.09.2026", "1")
    assert result.exit_code == 2
    assert "无法识别" in result.stderr
    assert "Not a date or datetime" in result.stderr
    assert "Traceback" not in result.output


def test_add_refuses_a_negative_count(calendar_dir: Path) -> None:
    assert run("add", "2026-09-30", "--", "-1").exit_code == 2


def test_check_of_a_bundled_year_exits_0(calendar_dir: Path) -> None:
    result = run("check", "2026")
    assert result.exit_code == 0
    assert "chinese-calendar" in result.stdout
    assert "已覆盖" in result.stdout


def test_check_of_an_uncovered_year_exits_1_and_names_the_file(calendar_dir: Path) -> None:
    result = run("check", "2027")
    assert result.exit_code == 1
    assert "未覆盖" in result.stdout
    assert str(calendar_dir / "2027.toml") in result.stdout


def test_check_of_a_year_with_a_complete_override_exits_0(calendar_dir: Path) -> None:
    (calendar_dir / "2027.toml").write_text(OVERRIDE_2027, encoding="utf-8")
    result = run("check", "2027")
    assert result.exit_code == 0
    assert "国务院办公厅关于2027年部分节假日安排的通知" in result.stdout


def test_check_of_an_invalid_override_exits_2_naming_the_file(calendar_dir: Path) -> None:
    (calendar_dir / "2027.toml").write_text("year = 2026\n", encoding="utf-8")
    result = run("check", "2027")
    assert result.exit_code == 2
    assert str(calendar_dir / "2027.toml") in result.stderr
    assert "无效" in result.stderr
    assert "invalid" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((), "工作日历"),
        (("add",), "START"),
        (("check",), "YEAR"),
    ],
)
def test_every_command_has_help(args: tuple[str, ...], text: str) -> None:
    result = run(*args, "--help")
    assert result.exit_code == 0
    assert text in result.stdout


NOTICES = Path(__file__).resolve().parents[1] / "calendars" / "notices"
NOTICE_2099 = """国务院办公厅关于2099年部分节假日安排的通知
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：1月20日（周二）至26日（周一）放假调休，共7天。1月17日（周六）上班。
"""


def test_calendar_import_prints_what_it_understood_and_writes_nothing_without_write(
    calendar_dir: Path,
) -> None:
    result = run("import", str(NOTICES / "2026.txt"))
    assert result.exit_code == 0, result.output
    assert "2026-02-15（周日） 至 2026-02-23（周一）" in result.stdout
    assert "法定节假日共 13 天" in result.stdout
    assert "--write" in result.stdout
    assert list(calendar_dir.iterdir()) == []


def test_calendar_import_writes_the_year_file_the_calendar_then_reads(
    calendar_dir: Path, tmp_path: Path
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_2099, encoding="utf-8")
    assert run("check", "2099").exit_code == 1
    result = run("import", str(notice), "--write")
    assert result.exit_code == 0, result.output
    assert (calendar_dir / "2099.toml").is_file()
    assert run("check", "2099").exit_code == 0
    # 1 Jan-3 Jan off, Sunday 4 Jan worked, the Spring Festival off, Saturday 17 Jan worked
    assert run("add", "2098-12-31", "1").stdout == "2099-01-04\n"
    assert run("add", "2099-01-16", "1").stdout == "2099-01-17\n"
    assert run("add", "2099-01-19", "1").stdout == "2099-01-27\n"


def test_calendar_import_never_replaces_a_file_unasked(calendar_dir: Path, tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_2099, encoding="utf-8")
    (calendar_dir / "2099.toml").write_text("# the operator's own\n", encoding="utf-8")
    result = run("import", str(notice), "--write")
    assert result.exit_code == 2
    assert "--replace" in result.stderr
    assert (calendar_dir / "2099.toml").read_text(encoding="utf-8") == "# the operator's own\n"
    assert run("import", str(notice), "--write", "--replace").exit_code == 0
    assert run("check", "2099").exit_code == 0


def test_calendar_import_refuses_a_notice_it_cannot_read_naming_the_line(
    calendar_dir: Path, tmp_path: Path
) -> None:
    notice = tmp_path / "notices" / "notice.txt"
    notice.parent.mkdir()
    notice.write_text(NOTICE_2099 + "三、清明节：4月5日（周一）放假。\n", encoding="utf-8")
    result = run("import", str(notice), "--write")
    assert result.exit_code == 2
    assert "第 4 行" in result.stderr
    assert "Line 4" in result.stderr
    assert "Traceback" not in result.output
    assert not (calendar_dir / "2099.toml").exists()


def test_calendar_import_writes_a_title_with_quotes_as_a_valid_file(
    calendar_dir: Path, tmp_path: Path
) -> None:
    notice = tmp_path / "notice.txt"
    quoted = NOTICE_2099.replace("的通知", '的通知"（转载）\\', 1)
    notice.write_text(quoted, encoding="utf-8")
    result = run("import", str(notice), "--write")
    assert result.exit_code == 0, result.output
    assert run("check", "2099").exit_code == 0

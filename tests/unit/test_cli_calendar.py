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

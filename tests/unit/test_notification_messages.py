"""The texts of notifications to applicants and the pieces of their delivery, without I/O.

Deadlines in a text come from the working-day calendar (across National Day and its make-up
Saturday here) and are left out, never guessed, in a year it does not cover; numbers are
masked to 138****5678 wherever they could be shown or logged; errors are recorded masked and
short; the back-off doubles up to a day; the sender is chosen by a setting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from deployment.notify import LoggingSender, OutgoingMessage, backoff, describe_error, load_sender
from deployment.settings import PACKAGE_DIR, InternalSettings
from domain.agencies import AgencyDirectory
from domain.calendar import SHANGHAI, WorkingDayCalendar
from projections.internal.notification_messages import TEMPLATES_ZH, mask_phone, render

# No override files: 2027 stays uncovered whatever deployment/calendar holds one day.
CALENDAR = WorkingDayCalendar(Path(__file__).resolve().parent / "no-calendar-overrides")
AGENCIES = AgencyDirectory.from_toml(PACKAGE_DIR / "data" / "zhengzhou.toml")
EVE_OF_NATIONAL_DAY = datetime(2026, 9, 30, 13, 0, tzinfo=SHANGHAI).isoformat()
NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 0, tzinfo=SHANGHAI).isoformat()


def text(template: str, kind: str = "design", **params: Any) -> str:
    base = {"receipt_number": "BA20260930ABCDEF", "kind": kind, "agency": "zz-jinshui"}
    return render(template, base | params, CALENDAR, AGENCIES)


def test_art9_a_filing_received_on_the_eve_of_national_day_is_reviewed_5_working_days_on() -> None:
    # 8, 9 October, the make-up Saturday 10 October, then 12 and 13 October.
    assert text("filing_received", received_at=EVE_OF_NATIONAL_DAY) == (
        "【郑州市金水区消防救援大队】您的消防设计备案（受理编号BA20260930ABCDEF）已收到，"
        "审查期限至2026年10月13日。凭查询码在网上查询进度。"
    )


def test_art15_16_a_booking_after_noon_before_the_holiday_is_due_after_it() -> None:
    message = text("booking_received", kind="pre_opening", received_at=EVE_OF_NATIONAL_DAY)
    assert "公众聚集场所投入使用、营业前消防安全检查预约" in message
    assert "窗口将于2026年10月8日12时前审查" in message
    assert "承办人将于2026年10月9日前回复检查时间" in message


def test_a_deadline_in_a_year_the_calendar_does_not_cover_is_said_pending_not_guessed() -> None:
    assert text("filing_received", received_at=NEW_YEARS_EVE) == (
        "【郑州市金水区消防救援大队】您的消防设计备案（受理编号BA20260930ABCDEF）已收到，"
        "期限待国务院公布2027年节假日安排后确定。凭查询码在网上查询进度。"
    )
    forwarded = text(
        "booking_forwarded", kind="pre_opening", department="防火监督科", reply_from=NEW_YEARS_EVE
    )
    assert forwarded.endswith(
        "已转交防火监督科办理，期限待国务院公布2027年节假日安排后确定。凭查询码在网上查询进度。"
    )


@pytest.mark.parametrize(
    ("template", "params", "says"),
    [
        ("filing_supplement_notice", {"items": 3}, "需补正材料3项，已一次性告知全部补正内容"),
        ("filing_certificate_issued", {"certificate_number": "郑金消设备字〔2026〕第0001号"},
         "已备案，备案凭证编号郑金消设备字〔2026〕第0001号"),
        ("filing_referred", {"competent_agency": "zz-erqi"},
         "不予受理，请向郑州市二七区消防救援大队（电话"),
        ("booking_rejected", {"competent_agency": "zz-erqi"},
         "不属本机构受理范围，请向郑州市二七区消防救援大队（电话"),
        ("booking_slot_offered", {"day": "2026-10-09", "half": "pm"},
         "现场检查时间安排在2026年10月9日下午，请在网上确认或要求另行安排"),
        ("booking_refused", {}, "经审查不予安排现场检查，理由请在网上查看"),
        ("booking_permit_issued", {"permit_issued_at": EVE_OF_NATIONAL_DAY},
         "已按告知承诺方式当场作出许可，将于2026年11月3日前到场核查"),
        ("booking_result", {"passed": True, "recheck_date": None}, "现场检查合格。"),
        ("booking_result", {"passed": False, "recheck_date": "2026-10-12"},
         "现场检查不合格，复查日期2026年10月12日，发现的问题请在网上查看"),
    ],
)  # fmt: skip
def test_each_template_says_what_happened_and_points_to_online_tracking(
    template: str, params: dict[str, Any], says: str
) -> None:
    message = text(template, kind="pre_opening", **params)

    assert says in message
    assert "（受理编号BA20260930ABCDEF）" in message
    assert message.endswith("凭查询码在网上查询进度。")
    assert len(message) <= 140  # two SMS segments at most
    assert template in TEMPLATES_ZH


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown notification template"):
        text("filing_lottery_won")


def test_a_mobile_number_is_shown_with_its_first_3_and_last_4_digits_only() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("〔已删除 erased〕") == "*" * len("〔已删除 erased〕")


def test_a_recorded_error_is_masked_of_personal_data_and_kept_short() -> None:
    error = RuntimeError("number 13812345678 refused; owner ID 11010519491231002X; " + "x" * 500)

    described = describe_error(error, "13812345678")

    assert described.startswith("RuntimeError: number 138****5678 refused; owner ID 110105")
    assert "13812345678" not in described
    assert "19491231" not in described
    assert len(described) == 300


def test_the_back_off_doubles_after_each_failed_attempt_up_to_a_day() -> None:
    assert [backoff(60, n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=s) for s in (60, 120, 240, 480)
    ]
    assert backoff(60, 19) == timedelta(days=1)
    assert backoff(60, 1000) == timedelta(days=1)  # no overflow for absurd settings


class _GatewaySender:
    name = "gateway"

    def __init__(self, settings: InternalSettings) -> None:
        self.settings = settings
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def make_gateway(settings: InternalSettings) -> _GatewaySender:
    return _GatewaySender(settings)


def test_the_sender_is_the_logging_one_by_default_and_a_gateway_plugs_in_by_name() -> None:
    settings = InternalSettings(seed_demo_data=False)
    assert isinstance(load_sender(settings.notify_sender, settings), LoggingSender)

    plugged = load_sender(f"{__name__}:make_gateway", settings)

    assert isinstance(plugged, _GatewaySender)
    assert plugged.settings is settings


def test_a_sender_setting_that_names_no_factory_is_refused() -> None:
    with pytest.raises(ValidationError, match="notify_sender"):
        InternalSettings(notify_sender="sms; rm -rf /")


def test_an_outgoing_message_does_not_show_the_number_when_printed() -> None:
    message = OutgoingMessage("BA1#1", "BA1", "filing_received", "13812345678", "text")
    assert "13812345678" not in repr(message)
    assert "13812345678" not in str(message)

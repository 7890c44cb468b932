"""The filing certificate as a PDF (RULES.md Art. 7-10), drawn from plain facts: Chinese text a
reader can extract, a QR code that opens the verification page, 已撤销 in words, one page
whatever the length of the names, and the same bytes for the same facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest
from pydantic import ValidationError

from deployment.settings import InternalSettings, PublicSettings
from projections.certificate_pdf import (
    CJK_FONTS,
    CertificateFacts,
    chinese_date,
    content_disposition,
    render_certificate,
    shanghai_date,
    verify_url,
)

NUMBER = "郑金消设备字〔2026〕第0007号"
FACTS = CertificateFacts(
    certificate_number=NUMBER,
    kind="design",
    organisation_name="郑州测试置业有限公司",
    credit_code="91410100MA44XXXX1X",
    project_name="测试大厦",
    district="金水区",
    agency_name="郑州市金水区消防救援大队",
    issued_on=date(2026, 11, 24),
)
URL = verify_url("https://fw.example.gov.cn/portal/", NUMBER)
ENCODED = (
    "https://fw.example.gov.cn/portal/verify/"
    "%E9%83%91%E9%87%91%E6%B6%88%E8%AE%BE%E5%A4%87%E5%AD%97%E3%80%942026%E3%80%95"
    "%E7%AC%AC0007%E5%8F%B7"
)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def decoded_qr_codes(pdf: bytes) -> list[str]:
    """The QR codes on the page as a phone reads them: the page drawn, then scanned."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (dev extra) draws the page")
    zxing = pytest.importorskip("zxingcpp", reason="zxing-cpp (dev extra) reads the QR code")
    image = pdfium.PdfDocument(pdf)[0].render(scale=3).to_pil()
    return [code.text for code in zxing.read_barcodes(image)]


def test_verification_url_carries_the_number_percent_encoded_under_verify() -> None:
    assert URL == ENCODED
    assert verify_url("http://127.0.0.1:8000", "A/B 1") == "http://127.0.0.1:8000/verify/A%2FB%201"


def test_design_and_completion_certificates_have_their_own_chinese_titles() -> None:
    assert FACTS.title == "建设工程消防设计备案凭证"
    assert replace(FACTS, kind="completion").title == "建设工程竣工验收消防备案凭证"
    with pytest.raises(ValueError, match="unknown filing kind"):
        replace(FACTS, kind="booking")  # type: ignore[arg-type]


def test_dates_are_written_the_chinese_official_way_on_the_shanghai_calendar() -> None:
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"
    # 17:00 UTC on the 24th is already the 25th in Shanghai.
    assert shanghai_date("2026-11-24T17:00:00+00:00") == date(2026, 11, 25)


def test_certificate_states_its_facts_in_extractable_chinese() -> None:
    text = text_of(render_certificate(FACTS, URL))

    for fact in (
        "建设工程消防设计备案凭证",
        f"编号：{NUMBER}",
        "郑州测试置业有限公司",
        "91410100MA44XXXX1X",
        "测试大厦",
        "金水区",
        "郑州市金水区消防救援大队",
        "2026年11月24日",
        "扫码核验",
    ):
        assert fact in text
    # The address under the QR code as a person types it.
    assert f"https://fw.example.gov.cn/portal/verify/{NUMBER}" in text
    assert "已撤销" not in text


def test_the_qr_code_opens_the_verification_page_of_this_certificate() -> None:
    seen: list[Any] = []

    pdf = render_certificate(FACTS, URL, qr_hook=seen.append)

    assert [widget.value for widget in seen] == [ENCODED]
    assert decoded_qr_codes(pdf) == [ENCODED]


def test_a_revoked_certificate_says_so_in_words_not_only_in_red() -> None:
    revoked = replace(FACTS, revoked_on=date(2026, 12, 1))

    text = text_of(render_certificate(revoked, URL))

    assert "已撤销：本凭证已于2026年12月1日撤销" in text
    assert "已撤销（2026年12月1日撤销）" in text


def test_same_facts_give_the_same_bytes_dated_on_the_day_of_issue() -> None:
    first, second = render_certificate(FACTS, URL), render_certificate(FACTS, URL)

    assert first == second
    info = pypdf.PdfReader(BytesIO(first)).metadata
    assert info is not None
    assert str(info["/CreationDate"]) == "D:20261124000000+08'00'"
    assert info.title == f"建设工程消防设计备案凭证 {NUMBER}"
    assert info.author == "郑州市金水区消防救援大队"


@pytest.mark.skipif(
    not Path(CJK_FONTS[0][0]).is_file(), reason="fonts-wqy-microhei is not installed"
)
def test_an_installed_truetype_cjk_font_is_embedded() -> None:
    pdf = render_certificate(FACTS, URL, fonts=CJK_FONTS[:1])

    assert b"/FontFile2" in pdf  # the glyphs travel with the document
    assert b"STSong-Light" not in pdf


def test_without_a_cjk_font_the_builtin_cid_font_keeps_the_text_readable() -> None:
    pdf = render_certificate(FACTS, URL, fonts=(("/nonexistent/font.ttc", 0),))

    assert b"STSong-Light" in pdf
    assert b"/FontFile2" not in pdf
    assert "建设工程消防设计备案凭证" in text_of(pdf)
    assert "郑州市金水区消防救援大队" in text_of(pdf)


def test_names_of_the_longest_allowed_length_stay_on_one_page_above_the_qr_code() -> None:
    # Organisation and project names may be 200 characters (domain.text.required_text).
    longest = replace(
        FACTS,
        organisation_name=("郑州测试置业有限公司" * 20)[:200],
        project_name=("测试大厦" * 50)[:200],
        revoked_on=date(2026, 12, 1),
    )
    heights: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        heights.setdefault(text.strip(), cm[5] + tm[5] * cm[3])

    pypdf.PdfReader(BytesIO(render_certificate(longest, URL))).pages[0].extract_text(
        visitor_text=visit
    )

    footer = max(y for text, y in heights.items() if text.startswith("扫描左侧二维码"))
    signature_date = min(y for text, y in heights.items() if text == "2026年11月24日")
    assert signature_date > footer + 12


def test_download_name_has_an_ascii_fallback_and_the_chinese_name_in_utf8() -> None:
    assert content_disposition(NUMBER) == (
        'attachment; filename="certificate-2026-0007.pdf"; '
        "filename*=UTF-8''%E5%A4%87%E6%A1%88%E5%87%AD%E8%AF%81-"
        "%E9%83%91%E9%87%91%E6%B6%88%E8%AE%BE%E5%A4%87%E5%AD%97%E3%80%942026%E3%80%95"
        "%E7%AC%AC0007%E5%8F%B7.pdf"
    )


@pytest.mark.parametrize(
    ("settings", "name"), [(InternalSettings, "public_base_url"), (PublicSettings, "base_url")]
)
def test_public_base_url_is_an_http_address_kept_without_trailing_slash(
    settings: type[InternalSettings] | type[PublicSettings], name: str
) -> None:
    """FIREGOV_PUBLIC_BASE_URL on both sides (the public side's prefix is FIREGOV_PUBLIC_)."""
    assert getattr(settings(), name) == "http://127.0.0.1:8000"
    assert getattr(settings.model_validate({name: "https://fw.example.gov.cn/"}), name) == (
        "https://fw.example.gov.cn"
    )
    for wrong in ("javascript:alert(1)", "fw.example.gov.cn", "https://", "https://x/?a=1"):
        with pytest.raises(ValidationError, match=name):
            settings.model_validate({name: wrong})

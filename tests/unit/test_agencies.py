"""Agencies and jurisdiction: Zhengzhou's detachment, its 16 brigades, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.agencies import Agency, AgencyDirectory, AgencyKind
from domain.errors import InvalidInput, NotFound

ZHENGZHOU = Path(__file__).resolve().parents[2] / "deployment" / "data" / "zhengzhou.toml"

BRIGADE_OF_DISTRICT = {
    "中原区": "zz-zhongyuan",
    "二七区": "zz-erqi",
    "管城回族区": "zz-guancheng",
    "金水区": "zz-jinshui",
    "上街区": "zz-shangjie",
    "惠济区": "zz-huiji",
    "郑东新区": "zz-zhengdong",
    "高新技术产业开发区": "zz-gaoxin",
    "经济技术开发区": "zz-jingkai",
    "航空港区": "zz-hangkong",
    "巩义市": "zz-gongyi",
    "荥阳市": "zz-xingyang",
    "新密市": "zz-xinmi",
    "新郑市": "zz-xinzheng",
    "登封市": "zz-dengfeng",
    "中牟县": "zz-zhongmou",
}

MINIMAL = """
city = "示例市"

[[agencies]]
code = "d"
name = "示例市消防救援支队"
kind = "detachment"
address = "示例地址"
phone = "0371-60000000"
certificate_prefixes = { design = "示消设备字", completion = "示消竣备字" }

[[agencies]]
code = "d-a"
name = "甲区消防救援大队"
kind = "brigade"
parent = "d"
districts = ["甲区"]
address = "示例地址"
phone = "0371-60000001"
certificate_prefixes = { design = "甲消设备字", completion = "甲消竣备字" }
"""

SECOND_BRIGADE = """
[[agencies]]
code = "d-b"
name = "乙区消防救援大队"
kind = "brigade"
parent = "{parent}"
districts = ["{district}"]
address = "示例地址"
phone = "0371-60000002"
certificate_prefixes = {{ design = "{abbr}消设备字", completion = "{abbr}消竣备字" }}
"""


@pytest.fixture(scope="module")
def zhengzhou() -> AgencyDirectory:
    return AgencyDirectory.from_toml(ZHENGZHOU)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agencies.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _with_second_brigade(
    tmp_path: Path, *, parent: str = "d", district: str = "乙区", abbr: str = "乙"
) -> Path:
    return _write(
        tmp_path, MINIMAL + SECOND_BRIGADE.format(parent=parent, district=district, abbr=abbr)
    )


def test_the_zhengzhou_file_loads_with_one_detachment_and_sixteen_brigades(
    zhengzhou: AgencyDirectory,
) -> None:
    assert zhengzhou.detachment.code == "zz"
    assert zhengzhou.detachment.name == "郑州市消防救援支队"
    assert zhengzhou.detachment.kind is AgencyKind.DETACHMENT
    brigades = [a for a in zhengzhou.all() if a.kind is AgencyKind.BRIGADE]
    assert len(brigades) == 16
    assert all(b.parent == "zz" for b in brigades)
    assert set(zhengzhou.districts()) == set(BRIGADE_OF_DISTRICT)


@pytest.mark.parametrize(("district", "code"), sorted(BRIGADE_OF_DISTRICT.items()))
def test_every_zhengzhou_district_resolves_to_its_brigade(
    zhengzhou: AgencyDirectory, district: str, code: str
) -> None:
    brigade = zhengzhou.competent_for(district)
    assert brigade.code == code
    assert brigade.kind is AgencyKind.BRIGADE
    assert brigade.name.endswith("消防救援大队")


def test_brigade_names_follow_the_official_style(zhengzhou: AgencyDirectory) -> None:
    assert zhengzhou.get("zz-jinshui").name == "郑州市金水区消防救援大队"
    assert zhengzhou.get("zz-gaoxin").name == "郑州高新技术产业开发区消防救援大队"
    assert zhengzhou.get("zz-gongyi").name == "巩义市消防救援大队"
    assert zhengzhou.get("zz-zhongmou").name == "中牟县消防救援大队"


def test_every_agency_has_a_unique_prefix_for_each_filing_kind(zhengzhou: AgencyDirectory) -> None:
    assert dict(zhengzhou.detachment.certificate_prefixes) == {
        "design": "郑消设备字",
        "completion": "郑消竣备字",
    }
    assert zhengzhou.get("zz-jinshui").certificate_prefixes["design"] == "郑金消设备字"
    assert zhengzhou.get("zz-gongyi").certificate_prefixes["completion"] == "巩消竣备字"
    prefixes = [p for a in zhengzhou.all() for p in a.certificate_prefixes.values()]
    assert len(prefixes) == len(set(prefixes)) == 34


def test_every_agency_lists_a_service_window_with_an_office_phone(
    zhengzhou: AgencyDirectory,
) -> None:
    for agency in zhengzhou.all():
        assert agency.address
        assert agency.phone.startswith("0371-6")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("高新区", "zz-gaoxin"),
        ("郑州高新区", "zz-gaoxin"),
        ("经开区", "zz-jingkai"),
        ("郑州航空港经济综合实验区", "zz-hangkong"),
        ("航空港", "zz-hangkong"),
        ("管城区", "zz-guancheng"),
        ("郑州市金水区", "zz-jinshui"),  # the city prefix is dropped
        ("郑州市高新区", "zz-gaoxin"),
        (" 金水区 ", "zz-jinshui"),
    ],
)
def test_common_short_names_of_districts_resolve_to_their_brigade(
    zhengzhou: AgencyDirectory, typed: str, code: str
) -> None:
    assert zhengzhou.competent_for(typed).code == code


@pytest.mark.parametrize("district", ["朝阳区", "", "郑州市", "开封市", "金水"])
def test_a_district_outside_the_city_is_refused_naming_the_field(
    zhengzhou: AgencyDirectory, district: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        zhengzhou.competent_for(district)
    error = caught.value
    assert error.code == "unknown_district"
    assert error.field == "district"
    assert "郑州市" in error.message_zh
    assert "jurisdiction" in error.message_en
    # Nothing of the directory is listed back: no agency codes, no other districts.
    assert "zz" not in error.message_en
    assert "中原区" not in error.message_zh


def test_the_detachment_covers_every_brigade_and_itself(zhengzhou: AgencyDirectory) -> None:
    for agency in zhengzhou.all():
        assert zhengzhou.covers("zz", agency.code)


def test_a_brigade_covers_itself_but_not_another_brigade_nor_the_detachment(
    zhengzhou: AgencyDirectory,
) -> None:
    assert zhengzhou.covers("zz-jinshui", "zz-jinshui")
    assert not zhengzhou.covers("zz-jinshui", "zz-erqi")
    assert not zhengzhou.covers("zz-jinshui", "zz")


def test_an_unknown_agency_is_not_found(zhengzhou: AgencyDirectory) -> None:
    assert "zz-jinshui" in zhengzhou
    assert "zz-beijing" not in zhengzhou
    with pytest.raises(NotFound) as caught:
        zhengzhou.get("zz-beijing")
    assert caught.value.code == "unknown_agency"


def test_an_unknown_agency_covers_nothing_and_is_covered_by_nothing(
    zhengzhou: AgencyDirectory,
) -> None:
    assert not zhengzhou.covers("zz", "zz-beijing")
    assert not zhengzhou.covers("zz-beijing", "zz-jinshui")
    assert not zhengzhou.covers("zz-beijing", "zz-beijing")


def test_an_agency_is_immutable_and_hashable(zhengzhou: AgencyDirectory) -> None:
    agency = zhengzhou.get("zz-jinshui")
    assert isinstance(agency, Agency)
    assert hash(agency) == hash(zhengzhou.get("zz-jinshui"))
    with pytest.raises(TypeError):
        agency.certificate_prefixes["design"] = "X"  # type: ignore[index]


def test_a_minimal_well_formed_file_loads(tmp_path: Path) -> None:
    directory = AgencyDirectory.from_toml(_with_second_brigade(tmp_path))
    assert directory.districts() == ("甲区", "乙区")
    assert directory.competent_for("示例市乙区").code == "d-b"


def test_a_district_covered_by_two_brigades_is_refused_naming_file_and_brigades(
    tmp_path: Path,
) -> None:
    path = _with_second_brigade(tmp_path, district="甲区")
    with pytest.raises(ValueError, match="'甲区' is covered by both d-a and d-b") as caught:
        AgencyDirectory.from_toml(path)
    assert str(path) in str(caught.value)


def test_a_brigade_whose_parent_is_missing_is_refused_naming_file_and_parent(
    tmp_path: Path,
) -> None:
    path = _with_second_brigade(tmp_path, parent="nowhere")
    with pytest.raises(ValueError, match="parent 'nowhere' is not an agency") as caught:
        AgencyDirectory.from_toml(path)
    assert str(path) in str(caught.value)


def test_a_brigade_whose_parents_form_a_cycle_is_refused(tmp_path: Path) -> None:
    path = _with_second_brigade(tmp_path, parent="d-b")
    with pytest.raises(ValueError, match="cycle"):
        AgencyDirectory.from_toml(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace('kind = "brigade"', 'kind = "detachment"'), "exactly one detachment"),
        (MINIMAL.replace('code = "d-a"', 'code = "d"'), "'d' is used twice"),
        (MINIMAL.replace('parent = "d"\n', ""), "needs a parent leading to the detachment"),
        (MINIMAL.replace("甲消设备字", "示消设备字"), "prefix '示消设备字'"),
        (MINIMAL.replace("design = ", "desing = "), "certificate_prefixes needs exactly"),
        (MINIMAL.replace('address = "示例地址"\nphone', 'adress = "示例地址"\nphone'), "unknown"),
        (MINIMAL.replace('kind = "brigade"', 'kind = "squad"'), "squad"),
        (MINIMAL.replace('city = "示例市"', ""), "'city'"),
        (MINIMAL + '\n[district_aliases]\n"甲" = "丙区"\n', "unknown district '丙区'"),
        (MINIMAL + "\nnot toml at all", "agencies.toml"),
        (
            MINIMAL.replace('kind = "detachment"', 'kind = "detachment"\ndistricts = ["乙区"]'),
            "covered by brigades",
        ),
    ],
    ids=[
        "two-detachments",
        "duplicate-code",
        "brigade-without-parent",
        "shared-prefix",
        "misspelt-filing-kind",
        "misspelt-key",
        "unknown-kind",
        "no-city",
        "alias-to-nowhere",
        "not-toml",
        "detachment-with-district",
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as caught:
        AgencyDirectory.from_toml(path)
    assert str(path) in str(caught.value)

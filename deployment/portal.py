"""The portal's service guides (办事指南) built from the domain (RULES.md Art. 7-16): the
filing checklists, the booking kinds and the document each rests on, the review and reply
periods in working days, and the agencies with their districts. The public side may not import
the domain, so the composition root turns these facts into the plain ``Catalogue`` that the
portal pages read (api_public/pages_catalogue.py). Only the wording around the facts is here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from api_public.pages_catalogue import Agency, Catalogue, Guide, Material, Operator
from deployment.settings import PublicSettings
from domain.agencies import AgencyDirectory
from domain.booking_deadlines import (
    COMMITMENT_CHECK_WORKING_DAYS,
    ORDINARY_INSPECTION_WORKING_DAYS,
    REPLY_WORKING_DAYS,
)
from domain.booking_rules import (
    BASIS_FOR_KIND,
    BASIS_NAMES_ZH,
    BOOKING_KIND_NAMES_ZH,
    ISSUED_ON_PLATFORM,
    BookingKind,
    Route,
)
from domain.filing import CHECKLISTS, KIND_NAMES_ZH, PROBLEMS, FilingKind
from domain.services.filings import REVIEW_WORKING_DAYS

FILING_WHO = {
    FilingKind.DESIGN: "建设单位：依法不需要消防设计审查的其他建设工程，在取得施工许可时进行"
    "消防设计备案。",
    FilingKind.COMPLETION: "建设单位：其他建设工程竣工验收合格之日起，进行竣工验收消防备案。",
}
BOOKING_WHO = {
    BookingKind.PRE_OPENING: "公众聚集场所的建设单位或者使用单位，已提交投入使用、营业前消防安全"
    "检查申请并取得受理凭证。",
    BookingKind.FIRE_ACCEPTANCE: "特殊建设工程的建设单位，已申请消防验收并取得受理凭证。",
    BookingKind.COMPLETION_SPOT_CHECK: "竣工验收消防备案被随机抽中检查的建设单位，持竣工验收"
    "消防备案凭证。",
}
ROUTE_NAMES_ZH = {
    Route.ORDINARY: "一般程序",
    Route.NOTICE_COMMITMENT: "告知承诺（当场作出许可，事后现场核查；须签署告知承诺书）",
}


def _filing_guide(kind: FilingKind) -> Guide:
    periods = [
        f"窗口收到材料后 {REVIEW_WORKING_DAYS} 个工作日内，材料齐全的出具备案凭证；材料不齐全或"
        "不符合法定形式的，一次性告知需要补正的全部内容（补正通知）。",
        f"逾期未告知补正的，自收到材料之日起即视为受理（{REVIEW_WORKING_DAYS} 个工作日，"
        "节假日不计，调休上班日计入）。",
    ]
    if kind is FilingKind.COMPLETION:
        periods.append("备案后按“双随机”抽取检查对象；被抽中的工程进行现场检查，结果公示。")
    else:
        periods.append("备案后按“双随机”抽取检查对象；被抽中的工程进行图纸检查，结果公示。")
    return Guide(
        slug=f"filing-{kind.value}",
        service="filing",
        kind=kind.value,
        title=KIND_NAMES_ZH[kind],
        who=FILING_WHO[kind],
        bring=tuple(
            Material(code, name, required) for code, (name, required) in CHECKLISTS[kind].items()
        ),
        periods=tuple(periods),
    )


def _booking_guide(kind: BookingKind) -> Guide:
    basis = BASIS_FOR_KIND[kind]
    on_platform = basis in ISSUED_ON_PLATFORM
    periods = [
        f"窗口收到后 {REPLY_WORKING_DAYS} 个工作日内，承办人通过本平台回复检查时间（上午或下午）。",
        "工作日 12:00 前提交的，窗口当日 12:00 前审查转交；12:00 以后或节假日提交的，下一个"
        "工作日 12:00 前转交。",
    ]
    routes: tuple[Route, ...] = (Route.ORDINARY,)
    if kind is BookingKind.PRE_OPENING:
        routes = (Route.ORDINARY, Route.NOTICE_COMMITMENT)
        periods += [
            f"一般程序：受理后 {ORDINARY_INSPECTION_WORKING_DAYS} 个工作日内现场检查。",
            f"告知承诺：当场作出许可，{COMMITMENT_CHECK_WORKING_DAYS} 个工作日内现场核查。",
        ]
    else:
        periods.append("现场检查在双方确认的检查时间进行。")
    scan = "扫描件（PDF、JPEG、PNG 或 OFD）"
    how = "（本平台出具的只需填写编号，其他机构出具的上传" + scan + "）" if on_platform else scan
    bring = (Material("basis_document", BASIS_NAMES_ZH[basis] + how, True),)
    return Guide(
        slug=f"booking-{kind.value}",
        service="booking",
        kind=kind.value,
        title=BOOKING_KIND_NAMES_ZH[kind],
        who=BOOKING_WHO[kind],
        bring=bring,
        periods=tuple(periods),
        basis_kind=basis.value,
        basis_name=BASIS_NAMES_ZH[basis],
        basis_on_platform=on_platform,
        routes=tuple((r.value, ROUTE_NAMES_ZH[r]) for r in routes),
    )


def build_catalogue(agencies_file: Path) -> Catalogue:
    """Every service the portal offers, with the agencies of the data file."""
    directory = AgencyDirectory.from_toml(agencies_file)
    agencies = tuple(
        Agency(a.code, a.name, a.address, a.phone, a.districts) for a in directory.all()
    )
    return Catalogue(
        city=directory.city,
        guides=(
            *(_filing_guide(kind) for kind in FilingKind),
            *(_booking_guide(kind) for kind in BookingKind),
        ),
        agencies=agencies,
        aliases=_aliases(agencies_file),
        notice_problems=dict(PROBLEMS),
        review_working_days=REVIEW_WORKING_DAYS,
    )


def _aliases(agencies_file: Path) -> dict[str, str]:
    """Short names applicants type -> district (already checked by AgencyDirectory)."""
    with agencies_file.open("rb") as file:
        table = tomllib.load(file).get("district_aliases", {})
    return {str(alias): str(district).strip() for alias, district in table.items()}


def build_operator(settings: PublicSettings) -> Operator:
    return Operator(
        name=settings.operator_name.strip(),
        address=settings.operator_address.strip(),
        phone=settings.operator_phone.strip(),
        icp_number=settings.icp_number.strip(),
        psb_number=settings.psb_number.strip(),
    )

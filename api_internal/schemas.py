"""Request and response bodies of the staff API (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    username: str = Field(max_length=64, description="用户名 username")
    password: str = Field(max_length=256, description="密码 password")
    one_time_code: str | None = Field(
        default=None, max_length=10, description="动态口令（管理员和审批领导必填）TOTP code"
    )
    role: str | None = Field(default=None, description="以哪个角色登录（账号有多个角色时）")


class ActorPublic(BaseModel):
    account_id: str
    username: str
    display_name: str
    role: str
    agency: str
    agency_name: str


class LoginPublic(BaseModel):
    token: str = Field(description="会话令牌，放在 Authorization: Bearer 头中")
    idle_timeout_minutes: int
    actor: ActorPublic


class MaterialIn(Strict):
    item: str = Field(max_length=64, description="材料清单项代码")
    document: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$", description="已上传文件的内容哈希 sha256:<hex>"
    )
    file_name: str = Field(min_length=1, max_length=200)
    size: int = Field(ge=1, le=20 * 1024 * 1024)
    media_type: Literal["application/pdf", "image/jpeg", "image/png", "application/ofd"]


class FilingCreate(Strict):
    kind: Literal["design", "completion"] = Field(
        description="design 消防设计备案 / completion 竣工验收消防备案"
    )
    organisation_name: str = Field(max_length=200, description="建设单位全称")
    credit_code: str = Field(max_length=32, description="统一社会信用代码（GB 32100 校验）")
    project_name: str = Field(max_length=200, description="工程名称")
    project_address: str = Field(max_length=200, description="工程地址")
    district: str = Field(max_length=50, description="工程所在区县（决定管辖机构）")
    contact_name: str = Field(max_length=50, description="联系人姓名（个人信息，密封保存）")
    contact_phone: str = Field(max_length=20, description="联系人手机号（个人信息，密封保存）")
    materials: list[MaterialIn] = Field(max_length=20)
    agency: str | None = Field(default=None, description="申请的机构代码；缺省为有管辖权的机构")


class ReceiptPublic(BaseModel):
    receipt_number: str
    query_code: str = Field(
        description="查询码：交给申请人用于在互联网端查询办理进度；只显示这一次，系统只保存其哈希"
    )


class NoticeItemIn(Strict):
    item: str = Field(max_length=64, description="材料清单项代码")
    problem: Literal["missing", "defective"] = Field(
        description="missing 缺少 / defective 不符合法定形式"
    )
    reason: str = Field(min_length=1, max_length=500, description="需补正的理由")


class SupplementNoticeCreate(Strict):
    items: list[NoticeItemIn] = Field(min_length=1, max_length=20)


class ResubmissionCreate(Strict):
    materials: list[MaterialIn] = Field(max_length=20)


class WithdrawalCreate(Strict):
    reason: str = Field(min_length=1, max_length=500)


class RevocationCreate(Strict):
    reason: str = Field(min_length=1, max_length=500, description="撤销理由（将随撤销公示）")


class SelectionCreate(Strict):
    draw_reference: str = Field(min_length=1, max_length=100, description="双随机抽取记录编号")


class InspectionResultCreate(Strict):
    passed: bool
    findings: list[str] = Field(default_factory=list, max_length=50)


class CertificatePublic(BaseModel):
    certificate_number: str


class ReferralPublic(BaseModel):
    competent_agency: str
    competent_agency_name: str


# -- bookings of on-site inspections (Art. 11-16) ---------------------------------------------


class BookingCreate(Strict):
    kind: Literal["pre_opening", "fire_acceptance", "completion_spot_check"] = Field(
        description="pre_opening 公众聚集场所投入使用、营业前消防安全检查 / fire_acceptance "
        "消防验收现场检查 / completion_spot_check 竣工验收消防备案抽查现场检查"
    )
    route: Literal["ordinary", "notice_commitment"] = Field(
        default="ordinary", description="ordinary 一般程序 / notice_commitment 告知承诺"
    )
    district: str = Field(max_length=50, description="项目所在区县（决定有管辖权的机构）")
    organisation_name: str = Field(max_length=200, description="单位全称")
    credit_code: str = Field(max_length=32, description="统一社会信用代码（GB 32100 校验）")
    project_name: str = Field(max_length=200, description="项目名称")
    wished_time: datetime = Field(description="希望检查的时间（须带时区）")
    contact_name: str = Field(max_length=50, description="联系人姓名（个人信息，密封保存）")
    contact_phone: str = Field(max_length=20, description="联系人手机号（个人信息，密封保存）")
    basis_kind: Literal["inspection_receipt", "acceptance_receipt", "completion_certificate"] = (
        Field(description="预约依据的凭证类型（第十三条）")
    )
    basis_number: str = Field(max_length=100, description="凭证编号")
    basis_on_platform: bool = Field(
        default=False, description="凭证由本平台出具（仅竣工验收消防备案凭证），按本平台记录核对"
    )
    basis_document: str = Field(
        default="",
        pattern=r"^(sha256:[0-9a-f]{64})?$",
        description="凭证扫描件的内容哈希 sha256:<hex>（非本平台出具时必填）",
    )
    agency: str | None = Field(default=None, description="预约的机构代码；缺省为有管辖权的机构")


class ForwardingCreate(Strict):
    department: str = Field(min_length=1, max_length=100, description="承办科室或大队")


class PermitOnCommitmentCreate(ForwardingCreate):
    commitment_document: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$", description="申请人签署的告知承诺书 sha256:<hex>"
    )


class HandlersCreate(Strict):
    main_handler: str = Field(max_length=64, description="主办人账号 id")
    assistants: list[str] = Field(default_factory=list, max_length=10, description="协办人账号 id")


class SlotOfferCreate(Strict):
    day: str = Field(max_length=10, description="检查日期 YYYY-MM-DD（工作日）")
    half: str = Field(max_length=2, description="am 上午 / pm 下午")


class RefusalCreate(Strict):
    reason: str = Field(min_length=1, max_length=500, description="不予安排检查的理由")


class CancellationCreate(Strict):
    reason: str = Field(default="", max_length=500, description="取消理由（可空）")


class BookingResultCreate(Strict):
    passed: bool
    findings: list[str] = Field(default_factory=list, max_length=50)
    recheck_date: str | None = Field(
        default=None, max_length=10, description="不合格时的复查日期 YYYY-MM-DD（工作日）"
    )

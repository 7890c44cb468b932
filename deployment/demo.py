"""Demo data: one account per role, a few filings and bookings in Zhengzhou at different
stages, and their documents as real PDF files in the document store, so that a fresh install
shows a working window, head and handler. Passwords are random, printed once and kept in
``data_dir/demo-credentials.txt`` (mode 0600); nothing secret is in the repository."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.documents import DocumentStore
from domain.filing import CHECKLISTS, FilingKind, Material
from domain.identifiers import credit_code_check_char
from domain.query_code import hash_query_code, new_query_code
from domain.services import Services

MARKER = "demo-clerk"
ACCOUNTS: list[tuple[str, str, Role, str]] = [
    ("demo-clerk", "王晓燕", Role.WINDOW_CLERK, "zz-jinshui"),
    ("demo-head", "李建国", Role.DEPT_HEAD, "zz-jinshui"),
    ("demo-handler", "赵志强", Role.HANDLER, "zz-jinshui"),
    ("demo-approver", "刘振华", Role.APPROVER, "zz-jinshui"),
    ("demo-clerk-erqi", "陈静", Role.WINDOW_CLERK, "zz-erqi"),
    ("demo-legal", "孙丽", Role.LEGAL_REVIEWER, "zz"),
    ("demo-secrecy", "周平", Role.SECRECY_REVIEWER, "zz"),
    ("demo-publicity", "吴婷", Role.PUBLICITY_EDITOR, "zz"),
    ("demo-supervisor", "郑明", Role.SUPERVISOR, "zz"),
    ("demo-sysadmin", "冯涛", Role.SYSTEM_ADMIN, "zz"),
    ("demo-security", "蒋磊", Role.SECURITY_ADMIN, "zz"),
    ("demo-auditor", "韩雪", Role.AUDITOR, "zz"),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    agency: str
    password: str
    totp_secret: str | None


def random_password() -> str:
    return f"Fg-{secrets.token_urlsafe(9)}-{secrets.randbelow(90) + 10}"


def credit_code(seed: str) -> str:
    """A valid unified social credit code (GB 32100), the same for the same seed."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:9]
    first17 = f"91410105{digits}"
    return first17 + credit_code_check_char(first17)


def document(label: str) -> str:
    """A document reference (content hash) standing for an uploaded file named by ``label``."""
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def materials(
    kind: FilingKind | str = FilingKind.DESIGN, leave_out: tuple[str, ...] = (), version: str = "1"
) -> list[Material]:
    """The kind's whole checklist but ``leave_out``; another ``version`` changes every document."""
    kind = FilingKind(kind)
    return [
        Material(
            item=item,
            document=document(f"{kind}:{item}:{version}"),
            file_name=f"{name[:20]}.pdf",
            size=180_000,
            media_type="application/pdf",
        )
        for item, (name, _) in CHECKLISTS[kind].items()
        if item not in leave_out
    ]


def is_seeded(platform: Platform) -> bool:
    from domain.staff import StaffAccount

    return StaffAccount.create_id(MARKER) in platform.app.repository


@dataclass(frozen=True)
class DemoCase:
    receipt_number: str
    query_code: str


def seed(platform: Platform) -> tuple[list[DemoAccount], list[DemoCase]]:
    """Create the demo accounts and filings; returns the credentials and the applicants'
    query codes (shown once)."""
    services = platform.services
    console = Actor.system(platform.agencies.detachment.code, "demo-seed")
    created = []
    for username, name, role, agency in ACCOUNTS:
        password = random_password()
        opened = services.staff.open_account(
            console, username=username, display_name=name, agency=agency,
            roles=[str(role)], password=password,
        )  # fmt: skip
        created.append(DemoAccount(username, role, agency, password, opened.totp_secret))
    clerk = Actor(str(_account_id("demo-clerk")), Role.WINDOW_CLERK, "zz-jinshui")
    erqi = Actor(str(_account_id("demo-clerk-erqi")), Role.WINDOW_CLERK, "zz-erqi")
    now = services.context.clock()
    filings = [
        (clerk, 4, "郑州金水科创大厦", "金水区花园路 88 号", "金水区", FilingKind.DESIGN, ()),
        (clerk, 1, "金水河畔商业综合体", "金水区经三路 12 号", "金水区", FilingKind.COMPLETION,
         ("system_test_reports",)),
        (clerk, 0, "北龙湖金融岛配套楼", "金水区龙湖外环路 6 号", "金水区", FilingKind.DESIGN,
         ("designer_qualification", "construction_permit")),
        (erqi, 2, "二七商圈改造工程", "二七区大学路 20 号", "二七区", FilingKind.COMPLETION, ()),
    ]  # fmt: skip
    cases = []
    for index, (actor, days_ago, project, address, district, kind, missing) in enumerate(filings):
        # Backdated through services of their own: the platform's shared context (and the clock
        # every request of a running server reads) is never touched.
        moment = now - timedelta(days=days_ago, hours=2)
        backdated = Services(dataclasses.replace(services.context, clock=_backdated(moment)))
        code = new_query_code()
        subject = platform.sealer.new_subject()  # the submission's: its documents are sealed
        receipt = backdated.filings.submit(
            actor, kind=str(kind), organisation_name=f"郑州示范置业有限公司第{index + 1}分公司",
            credit_code=credit_code(project), project_name=project, project_address=address,
            district=district, contact_name="张伟", contact_phone=f"1380371{index:04d}",
            materials=stored_materials(platform, kind, project, missing, subject),
            query_code_hash=hash_query_code(code), contact_subject=subject,
        )  # fmt: skip
        cases.append(DemoCase(receipt, code))
    cases += seed_bookings(platform, clerk)
    platform.projector.catch_up()
    return created, cases


BOOKINGS = [
    # project, route, stage reached: a booking for the window, one for the handler to answer,
    # and one on the notice-and-commitment route for the window to permit on the spot.
    ("金水万象城影院", "ordinary", "received"),
    ("花园路书城咖啡馆", "ordinary", "assigned"),
    ("龙湖剧场", "notice_commitment", "received"),
]


def seed_bookings(platform: Platform, clerk: Actor) -> list[DemoCase]:
    """Pre-opening inspections of 金水区 places, booked today at the window."""
    bookings = platform.services.bookings
    head = Actor(str(_account_id("demo-head")), Role.DEPT_HEAD, "zz-jinshui")
    wished = (platform.services.context.clock() + timedelta(days=7)).astimezone(SHANGHAI)
    cases = []
    for index, (project, route, stage) in enumerate(BOOKINGS):
        code = new_query_code()
        subject = platform.sealer.new_subject()
        scan = f"{project}：消防安全检查申请受理凭证"
        receipt = bookings.request(
            clerk, kind="pre_opening", route=route, district="金水区",
            organisation_name=f"郑州示范商业管理有限公司第{index + 1}分公司",
            credit_code=credit_code(project), project_name=project,
            wished_time=wished.replace(hour=9, minute=0, second=0, microsecond=0),
            contact_name="王芳", contact_phone=f"1390371{index:04d}",
            basis_kind="inspection_receipt",
            basis_number=f"郑金消检受字〔2026〕第{index + 41:04d}号",
            basis_document=stored_document(platform, scan, subject)[0],
            query_code_hash=hash_query_code(code), contact_subject=subject,
        )  # fmt: skip
        if stage == "assigned":
            bookings.forward(clerk, receipt, "防火监督科")
            bookings.assign(head, receipt, str(_account_id("demo-handler")))
        cases.append(DemoCase(receipt, code))
    return cases


def stored_materials(
    platform: Platform, kind: FilingKind, project: str, leave_out: tuple[str, ...], subject: str
) -> list[Material]:
    """The kind's checklist but ``leave_out``, each a small PDF kept in the document store
    sealed under the submission's ``subject``."""
    found = []
    for item, (name, _) in CHECKLISTS[kind].items():
        if item in leave_out:
            continue
        reference, size = stored_document(platform, f"{project}：{name}", subject)
        found.append(
            Material(
                item=item,
                document=reference,
                file_name=f"{name[:20]}.pdf",
                size=size,
                media_type="application/pdf",
            )
        )
    return found


def stored_document(platform: Platform, title: str, subject: str) -> tuple[str, int]:
    """A one-page PDF saying it is demo material, kept in the document store sealed under the
    submission's ``subject`` (as the importer keeps an applicant's upload); its reference and
    size."""
    from io import BytesIO

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = BytesIO()
    page = canvas.Canvas(buffer, invariant=True)
    page.setFont("STSong-Light", 16)
    page.drawString(72, 760, title)
    page.setFont("STSong-Light", 11)
    page.drawString(72, 730, "演示材料（firegov 演示数据，不是真实文件）")
    page.showPage()
    page.save()
    data = buffer.getvalue()
    reference, _ = DocumentStore(platform.settings.documents_dir, platform.sealer).keep(
        data, subject
    )
    return reference, len(data)


def _backdated(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _account_id(username: str) -> object:
    from domain.staff import StaffAccount

    return StaffAccount.create_id(username)


def write_credentials(
    data_dir: Path, accounts: list[DemoAccount], cases: list[DemoCase], issuer: str
) -> Path:
    import pyotp

    path = data_dir / "demo-credentials.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# firegov demo accounts (demo data only; created " + datetime.now().isoformat() + ")"]
    for a in accounts:
        line = f"{a.username}\t{a.role}\t{a.agency}\tpassword={a.password}"
        if a.totp_secret:
            uri = pyotp.TOTP(a.totp_secret).provisioning_uri(name=a.username, issuer_name=issuer)
            line += f"\ttotp_secret={a.totp_secret}\t{uri}"
        lines.append(line)
    lines += [f"case\t{c.receipt_number}\tquery_code={c.query_code}" for c in cases]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path

"""What the portal's service guides (办事指南) say and what its forms offer: each service with
who may apply, what to bring, how long it takes in working days and where the competent agency
is; the agencies with their districts; the operator named in the site footer.

Plain data only. The facts come from the domain (checklists, booking kinds and their basis,
review periods, agencies), but the public side may never import the domain (DESIGN.md "Where
things live"): the composition root (deployment/portal.py) builds a ``Catalogue`` and hands it
to the public backend ready-made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    address: str
    phone: str
    districts: tuple[str, ...]  # empty for the detachment: it covers them through its brigades


@dataclass(frozen=True)
class Material:
    """One item of what to bring: a checklist item (its code names the upload field)."""

    code: str
    name: str
    required: bool  # False: only where it applies (e.g. planning permit for new works)


@dataclass(frozen=True)
class Guide:
    """One service: a filing kind (``service == "filing"``) or a booking kind."""

    slug: str  # /guide/{slug}, e.g. filing-design, booking-pre_opening
    service: str  # "filing" or "booking"
    kind: str  # the kind's code as the intake contract spells it
    title: str
    who: str  # who may apply
    bring: tuple[Material, ...]  # what to bring (filings: the checklist)
    periods: tuple[str, ...]  # how long, in working days, one sentence each
    # Bookings: the document the booking rests on (Art. 13) and whether this platform issues it
    # (then no scan is needed); the routes the kind may take, code -> name.
    basis_kind: str = ""
    basis_name: str = ""
    basis_on_platform: bool = False
    routes: tuple[tuple[str, str], ...] = ()

    @property
    def apply_url(self) -> str:
        return f"/file?kind={self.kind}" if self.service == "filing" else f"/book?kind={self.kind}"


@dataclass(frozen=True)
class Catalogue:
    city: str = ""
    guides: tuple[Guide, ...] = ()
    agencies: tuple[Agency, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # short name -> district
    notice_problems: Mapping[str, str] = field(default_factory=dict)  # missing -> 缺少
    review_working_days: int = 0  # filings: certificate or one supplement notice within

    def guide(self, slug: str) -> Guide | None:
        return next((g for g in self.guides if g.slug == slug), None)

    def of(self, service: str) -> tuple[Guide, ...]:
        return tuple(g for g in self.guides if g.service == service)

    def kind(self, service: str, kind: str) -> Guide | None:
        return next((g for g in self.of(service) if g.kind == kind), None)

    def agency(self, code: str) -> Agency | None:
        return next((a for a in self.agencies if a.code == code), None)

    def districts(self) -> list[tuple[str, Agency]]:
        """Every district with the brigade that covers it, in the data file's order."""
        return [(d, a) for a in self.agencies for d in a.districts]

    def competent_for(self, district: str) -> Agency | None:
        """The brigade covering ``district`` (short names and the city's prefix accepted, as
        the internal side reads them), or None when it is not in the city."""
        name = district.strip()
        if self.city and name.startswith(self.city) and len(name) > len(self.city):
            name = name[len(self.city) :]
        name = self.aliases.get(name, name)
        return next((a for d, a in self.districts() if d == name), None)

    def item_name(self, kind: str, code: str) -> str:
        guide = self.kind("filing", kind)
        found = next((m.name for m in guide.bring if m.code == code), None) if guide else None
        return found or code


@dataclass(frozen=True)
class Operator:
    """Who runs the site, for the footer (网站标识); an empty field hides its line."""

    name: str = ""
    address: str = ""
    phone: str = ""
    icp_number: str = ""  # ICP备案号
    psb_number: str = ""  # 公安机关备案号

    @property
    def psb_code(self) -> str:
        """The digits of the public security filing number, for its record's link."""
        return "".join(c for c in self.psb_number if c.isascii() and c.isdigit())

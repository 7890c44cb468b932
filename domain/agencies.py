"""Agencies and jurisdiction: the detachment (支队), its brigades (大队) and their districts.

The competent agency for a project is the brigade covering the district where it lies; the
detachment is an ancestor of every brigade and so covers them all. The structure is data
(``deployment/data/<city>.toml``), checked on load so that every district has exactly one
competent brigade and every certificate prefix names exactly one agency and kind.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from domain.errors import InvalidInput, NotFound

FILING_KINDS = ("design", "completion")
_AGENCY_KEYS = frozenset(
    {"code", "name", "kind", "parent", "districts", "certificate_prefixes", "address", "phone"}
    | {"inspections_per_half_day"}
)


class AgencyKind(StrEnum):
    DETACHMENT = "detachment"  # 支队
    BRIGADE = "brigade"  # 大队


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    kind: AgencyKind
    parent: str | None
    districts: tuple[str, ...]
    # Left out of the hash: a mapping is unhashable, and the code already identifies the agency.
    certificate_prefixes: Mapping[str, str] = field(hash=False)
    address: str
    phone: str
    # How many on-site inspections the agency can carry out per half day (Art. 16 bookings);
    # None: the booking service's default.
    inspections_per_half_day: int | None = None


class AgencyDirectory:
    """The agencies of one city, checked for a single detachment and unambiguous coverage."""

    def __init__(
        self,
        agencies: Iterable[Agency],
        *,
        city: str,
        district_aliases: Mapping[str, str] | None = None,
        source: str = "agency directory",
    ) -> None:
        self.city = city
        self._agencies: dict[str, Agency] = {}
        self._by_district: dict[str, Agency] = {}
        for agency in agencies:
            if agency.code in self._agencies:
                raise ValueError(f"{source}: agency code {agency.code!r} is used twice")
            self._agencies[agency.code] = agency
        detachments = [a for a in self._agencies.values() if a.kind is AgencyKind.DETACHMENT]
        if len(detachments) != 1:
            raise ValueError(f"{source}: needs exactly one detachment, found {len(detachments)}")
        self._detachment = detachments[0]
        prefixes: dict[str, str] = {}
        for agency in self._agencies.values():
            self._check_agency(agency, source)
            for kind, prefix in agency.certificate_prefixes.items():
                # Sequences run per agency and kind, so a shared prefix would repeat numbers.
                if prefix in prefixes:
                    raise ValueError(
                        f"{source}: certificate prefix {prefix!r} of {agency.code} ({kind}) "
                        f"is already used by {prefixes[prefix]}"
                    )
                prefixes[prefix] = f"{agency.code} ({kind})"
            for district in agency.districts:
                if district in self._by_district:
                    raise ValueError(
                        f"{source}: district {district!r} is covered by both "
                        f"{self._by_district[district].code} and {agency.code}"
                    )
                self._by_district[district] = agency
        self._aliases = dict(district_aliases or {})
        for alias, district in self._aliases.items():
            if district not in self._by_district:
                raise ValueError(f"{source}: alias {alias!r} names unknown district {district!r}")
            if alias in self._by_district:
                raise ValueError(f"{source}: alias {alias!r} is also a district name")

    def _check_agency(self, agency: Agency, source: str) -> None:
        where = f"{source}: agency {agency.code}"
        if set(agency.certificate_prefixes) != set(FILING_KINDS):
            raise ValueError(f"{where}: certificate_prefixes needs exactly {FILING_KINDS}")
        if agency.kind is AgencyKind.DETACHMENT:
            if agency.parent is not None:
                raise ValueError(f"{where}: the detachment has no parent")
            if agency.districts:
                raise ValueError(f"{where}: districts are covered by brigades, not the detachment")
            return
        seen = {agency.code}
        parent = agency.parent
        while parent is not None:
            if parent not in self._agencies:
                raise ValueError(f"{where}: parent {parent!r} is not an agency in the file")
            if parent in seen:
                raise ValueError(f"{where}: parents form a cycle through {parent!r}")
            seen.add(parent)
            parent = self._agencies[parent].parent
        if self._detachment.code not in seen:
            raise ValueError(f"{where}: needs a parent leading to the detachment")

    @classmethod
    def from_toml(cls, path: Path) -> AgencyDirectory:
        """Load and check a data file; ValueError naming the file if it is malformed."""
        try:
            with path.open("rb") as file:
                data = tomllib.load(file)
            entries = data.get("agencies")
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ValueError("'agencies' must be an array of tables ([[agencies]])")
            agencies = [_agency(entry) for entry in entries]
            city = _text(data, "city")
            aliases = _string_table(data.get("district_aliases", {}), "district_aliases")
        except ValueError as exc:  # tomllib.TOMLDecodeError included
            raise ValueError(f"{path}: {exc}") from exc
        return cls(agencies, city=city, district_aliases=aliases, source=str(path))

    def get(self, code: str) -> Agency:
        try:
            return self._agencies[code]
        except KeyError:
            raise NotFound(
                "没有该消防救援机构", "no such fire and rescue agency", code="unknown_agency"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self._agencies

    def all(self) -> tuple[Agency, ...]:
        return tuple(self._agencies.values())

    @property
    def detachment(self) -> Agency:
        return self._detachment

    def districts(self) -> tuple[str, ...]:
        return tuple(self._by_district)

    def competent_for(self, district: str) -> Agency:
        """The brigade covering ``district``; common short names and a city prefix are accepted."""
        name = district.strip()
        candidates = [name]
        if name.startswith(self.city) and len(name) > len(self.city):
            candidates.append(name[len(self.city) :])
        for candidate in candidates:
            canonical = self._aliases.get(candidate, candidate)
            if canonical in self._by_district:
                return self._by_district[canonical]
        raise InvalidInput(
            f"所填行政区不在{self.city}管辖范围内，请选择{self.city}的区、县（市）",
            f"the district is not within the jurisdiction of {self.city}; "
            "please choose one of its districts",
            code="unknown_district",
            field="district",
        )

    def covers(self, acting_agency: str, target_agency: str) -> bool:
        """True if ``acting_agency`` is ``target_agency`` or one of its ancestors.

        An unknown code covers and is covered by nothing: an account left on an agency that
        was removed from the file is refused as outside jurisdiction, not answered "not found".
        """
        if acting_agency not in self._agencies or target_agency not in self._agencies:
            return False
        code: str | None = target_agency
        while code is not None:
            if code == acting_agency:
                return True
            code = self.get(code).parent
        return False


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string")
    return value.strip()


def _string_table(value: object, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(v, str) and v.strip() for v in value.values()
    ):
        raise ValueError(f"{key!r} must be a table of non-empty strings")
    return {k: v.strip() for k, v in value.items()}


def _agency(entry: Mapping[str, Any]) -> Agency:
    code = _text(entry, "code")
    try:
        unknown = set(entry) - _AGENCY_KEYS
        if unknown:  # a misspelt key would otherwise silently drop data
            raise ValueError(f"unknown keys {sorted(unknown)}")
        districts = entry.get("districts", [])
        if not isinstance(districts, list) or not all(
            isinstance(d, str) and d.strip() for d in districts
        ):
            raise ValueError("'districts' must be an array of non-empty strings")
        prefixes = _string_table(entry.get("certificate_prefixes"), "certificate_prefixes")
        capacity = entry.get("inspections_per_half_day")
        if capacity is not None and (type(capacity) is not int or capacity < 1):
            raise ValueError("'inspections_per_half_day' must be a positive integer")
        return Agency(
            code=code,
            name=_text(entry, "name"),
            kind=AgencyKind(_text(entry, "kind")),
            parent=_text(entry, "parent") if "parent" in entry else None,
            districts=tuple(d.strip() for d in districts),
            certificate_prefixes=MappingProxyType(prefixes),
            address=_text(entry, "address"),
            phone=_text(entry, "phone"),
            inspections_per_half_day=capacity,
        )
    except ValueError as exc:
        raise ValueError(f"agency {code}: {exc}") from exc

"""The rows of public case tracking that filings (projections.public.views) and bookings
(projections.public.bookings) share: one ``public_cases`` row per case, changed by each event
that crosses, and one ``public_case_timeline`` row per step."""

from __future__ import annotations

from typing import Any

import orjson

from projections.public.calendar import forget_pending
from projections.store import Tx


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def update_case(tx: Tx, seq: int, receipt: str, at: str, **changes: Any) -> None:
    """Change the case's columns named in ``changes`` (none: only when it last changed)."""
    assignments = "".join(f"{column} = ?, " for column in changes)
    tx.execute(
        f"UPDATE public_cases SET {assignments}updated_at = ?, seq = ?"  # noqa: S608 - fixed names
        " WHERE receipt_number = ?",
        [*changes.values(), at, seq, receipt],
    )
    forget_pending(tx, receipt, changes)


def add_step(tx: Tx, seq: int, receipt: str, event_type: str, at: str, details: Any) -> None:
    tx.execute(
        "INSERT INTO public_case_timeline VALUES (?, ?, ?, ?, ?)",
        [receipt, seq, event_type, at, json_text(details)],
    )

"""What every internal event carries (DESIGN.md decision 1): who did it, in which role, for
which agency, and when. Events are facts in the past tense and are never changed.

Event classes pin their stored name with ``TOPIC`` so that moving a class never orphans stored
events; a schema change bumps ``class_version`` and adds an upcaster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.actor import Actor


class StaffEvent(Aggregate.Event):
    """Base of every non-creation event: the actor travels with the fact."""

    actor_id: str
    actor_role: str
    actor_agency: str


class StaffCreated(Aggregate.Created):
    actor_id: str
    actor_role: str
    actor_agency: str


def by(actor: Actor, at: datetime) -> dict[str, Any]:
    """Keyword arguments that stamp an event with its actor and time."""
    return {
        "actor_id": actor.actor_id,
        "actor_role": str(actor.role),
        "actor_agency": actor.agency,
        "timestamp": at,
    }

"""DESIGN decision 4: the outbound asks the log only for the events of the aggregates on the
allow-list (DECODED_TOPICS, spelled out because a prefix cannot be asked for). Spelling them out
must miss none: a listed event left out would never cross, and an unlisted one of the same
aggregates would leave the aggregates the translations consult behind.
"""

from __future__ import annotations

from eventsourcing.utils import _topic_cache

from bridge.allow_list import AGGREGATE_TOPICS, DECODED_TOPICS, TOPICS


def test_decision4_every_listed_event_is_read() -> None:
    assert set(DECODED_TOPICS) >= TOPICS


def test_decision4_every_event_of_the_listed_aggregates_is_read() -> None:
    # Every topic eventsourcing can resolve (each event class registers its TOPIC) that
    # belongs to an aggregate on the allow-list.
    known = {topic for topic in _topic_cache if topic.startswith(AGGREGATE_TOPICS)}
    assert known <= set(DECODED_TOPICS)
    assert "firegov:Filing.Submitted" in DECODED_TOPICS
    assert "firegov:Booking.Requested" in DECODED_TOPICS


def test_decision4_nothing_of_other_aggregates_is_read() -> None:
    assert all(topic.startswith(AGGREGATE_TOPICS) for topic in DECODED_TOPICS)
    assert not any(topic.startswith("firegov:InspectionSlot.") for topic in DECODED_TOPICS)
    assert not any(topic.startswith("firegov:NumberSequence.") for topic in DECODED_TOPICS)

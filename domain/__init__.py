"""The firegov domain: aggregates, value objects, calendar, jurisdiction, permissions and the
application services that are the only writers of the internal event store (DESIGN.md)."""

"""The public contract shared by the outbound bridge and the public side: event types and their
fields, envelopes, signed batches. Imports nothing of the project."""

"""Event serialisation with orjson.

orjson writes ``UUID`` and ``datetime`` as bare strings and so would not bring them back;
we make it hand ``datetime`` (and anything it does not know) to eventsourcing's registered
transcodings, and decode the ``{"_type_", "_data_"}`` markers ourselves. Event payloads hold
only JSON primitives besides their timestamp, so this stays small and explicit.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        if isinstance(value, dict):
            revived = {key: self._revive(item) for key, item in value.items()}
            return self._decode_obj(revived)
        if isinstance(value, list):
            return [self._revive(item) for item in value]
        return value

"""The base of every result class: ``to_dict()`` and ``raw``."""

import dataclasses
from typing import Any, Dict

Json = Dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Result:
    """What every result class has: ``to_dict()`` and ``raw`` (the JSON object mvm printed)."""

    raw: Json

    def to_dict(self) -> Json:
        """The typed fields as a dict of plain values (nested results too), ``raw`` left out."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "raw"}

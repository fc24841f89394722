"""Typed results: each a dataclass built from what an mvm command prints with ``--json``.

Field names are Python's (``stored_bytes`` for the CLI's ``storedBytes``); ``raw`` keeps the whole JSON
object, fields this package does not name included. ``to_dict()`` gives the typed fields as plain data.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ._moves import AddResult, CheckoutResult, Deployment, Env, PullResult, PushResult, Status
from ._result import Json, Result

__all__ = [
    "Result",
    "CommitResult",
    "LogEntry",
    "Version",
    "Best",
    "ComparisonColumn",
    "Comparison",
    "Annotation",
    "EvalRun",
    "EvalResult",
    "CheckoutResult",
    "Deployment",
    "Env",
    "Status",
    "AddResult",
    "PushResult",
    "PullResult",
    "Tensors",
]


@dataclass
class CommitResult(Result):
    """What ``Repo.commit`` made: the version's ``id`` and ``number`` (None in a clone until a push numbers it),
    whether a version was ``created`` (False when nothing changed), the files that changed and the bytes
    the store grew by (``stored_bytes``, after deltas and compression) for ``logical_bytes`` of files."""

    id: str
    number: Optional[int]
    created: bool
    branch: Optional[str]
    changes: List[Json]
    files: int
    logical_bytes: int
    stored_bytes: int
    new_bytes: int
    new_chunks: int
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "CommitResult":
        """Built from ``mvm commit --json``."""
        return cls(
            id=j["id"],
            number=j.get("number"),
            created=bool(j.get("created")),
            branch=j.get("branch"),
            changes=list(j.get("changes", [])),
            files=int(j.get("files", 0)),
            logical_bytes=int(j.get("logicalBytes", 0)),
            stored_bytes=int(j.get("storedBytes", 0)),
            new_bytes=int(j.get("newBytes", 0)),
            new_chunks=int(j.get("newChunks", 0)),
            raw=j,
        )


@dataclass
class LogEntry(Result):
    """One version in ``Repo.log``: id, number, message, author, time (ISO-8601), metrics (annotations
    applied), params, meta, base and data (lineage), ``files`` (count), ``size`` (logical bytes), refs."""

    id: str
    number: Optional[int]
    message: str
    author: str
    time: str
    parents: List[str]
    metrics: Dict[str, float]
    params: Json
    meta: Json
    base: Optional[str]
    data: List[Any]
    files: int
    size: int
    annotations: int
    refs: List[str]
    signed: bool
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "LogEntry":
        """Built from one entry of ``mvm log --json``."""
        return cls(
            id=j["id"],
            number=j.get("number"),
            message=j.get("message", ""),
            author=j.get("author", ""),
            time=j.get("time", ""),
            parents=list(j.get("parents", [])),
            metrics=dict(j.get("metrics") or {}),
            params=dict(j.get("params") or {}),
            meta=dict(j.get("meta") or {}),
            base=j.get("base"),
            data=list(j.get("data") or []),
            files=int(j.get("files", 0)),
            size=int(j.get("size", 0)),
            annotations=int(j.get("annotations", 0)),
            refs=list(j.get("refs", [])),
            signed=bool(j.get("signed", False)),
            raw=j,
        )


@dataclass
class Version(Result):
    """One version as ``Repo.show`` gives it: its manifest's ``files`` (path -> {size, mode, file}), metrics
    with annotations applied, the ``annotations`` themselves, params, meta, ``base`` and ``data`` (lineage)."""

    id: str
    number: Optional[int]
    message: str
    author: str
    time: str
    parents: List[str]
    metrics: Dict[str, float]
    params: Json
    meta: Json
    files: Dict[str, Json]
    refs: List[str]
    annotations: List[Json]
    base: Optional[str]
    data: List[Any]
    logical_bytes: int
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Version":
        """Built from ``mvm show REV --json``."""
        v = j.get("version") or {}
        deps = v.get("deps") or {}
        return cls(
            id=j["id"],
            number=j.get("number"),
            message=v.get("message", ""),
            author=v.get("author", ""),
            time=v.get("time", ""),
            parents=list(v.get("parents", [])),
            metrics=dict(j.get("metrics") or v.get("metrics") or {}),
            params=dict(v.get("params") or {}),
            meta=dict(v.get("meta") or {}),
            files=dict(v.get("files") or {}),
            refs=list(j.get("refs", [])),
            annotations=list(j.get("annotations", [])),
            base=deps.get("base"),
            data=list(deps.get("data") or []),
            logical_bytes=int(j.get("logicalBytes", 0)),
            raw=j,
        )


@dataclass
class Best(Result):
    """The winner of ``Repo.best``: its ``id`` and ``number``, the ``metric``, its ``value``, the
    ``direction`` used ("higher" or "lower") and how many ``candidates`` had the metric."""

    id: str
    number: Optional[int]
    metric: str
    value: float
    direction: str
    candidates: int
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json, metric: str) -> "Best":
        """Built from ``mvm best --json`` for METRIC."""
        return cls(
            id=j["id"],
            number=j.get("number"),
            metric=metric,
            value=j.get("value"),
            direction=j.get("direction", ""),
            candidates=int(j.get("candidates", 0)),
            raw=j,
        )


@dataclass
class ComparisonColumn(Result):
    """One version of a ``Comparison``: its ``metrics`` (name -> value or None), their ``deltas`` against the
    first version and ``verdicts`` ("better", "worse", "same" or None), params, sizes and shared chunks."""

    id: str
    number: Optional[int]
    message: str
    params: Json
    meta: Json
    metrics: Dict[str, Optional[float]]
    deltas: Dict[str, Optional[float]]
    verdicts: Dict[str, Optional[str]]
    logical_bytes: int
    stored_bytes: int
    chunks: int
    shared_with_first: int
    base: Optional[str]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "ComparisonColumn":
        """Built from one column of ``mvm compare --json``."""
        metrics = j.get("metrics") or {}
        return cls(
            id=j["id"],
            number=j.get("number"),
            message=j.get("message", ""),
            params=dict(j.get("params") or {}),
            meta=dict(j.get("meta") or {}),
            metrics={k: (m or {}).get("value") for k, m in metrics.items()},
            deltas={k: (m or {}).get("delta") for k, m in metrics.items()},
            verdicts={k: (m or {}).get("verdict") for k, m in metrics.items()},
            logical_bytes=int(j.get("logicalBytes", 0)),
            stored_bytes=int(j.get("storedBytes", 0)),
            chunks=int(j.get("chunks", 0)),
            shared_with_first=int(j.get("sharedWithFirst", 0)),
            base=j.get("base"),
            raw=j,
        )


@dataclass
class Comparison(Result):
    """Versions side by side (``Repo.compare``): one column per version, the metric names, and each metric's
    direction ("higher", "lower" or None when unknown)."""

    columns: List[ComparisonColumn]
    metric_names: List[str]
    directions: Dict[str, Optional[str]]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Comparison":
        """Built from ``mvm compare --json``."""
        return cls(
            columns=[ComparisonColumn.from_json(c) for c in j.get("columns", [])],
            metric_names=list(j.get("metricNames", [])),
            directions=dict(j.get("directions") or {}),
            raw=j,
        )


@dataclass
class Annotation(Result):
    """An annotation ``Repo.annotate`` attached: the ``target`` version (and its ``number``), the annotation's
    own ``id``, the ``metrics`` and ``note`` it records."""

    target: str
    number: Optional[int]
    id: str
    metrics: Dict[str, float]
    note: Optional[str]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Annotation":
        """Built from ``mvm annotate --json``."""
        return cls(
            target=j["target"],
            number=j.get("number"),
            id=j.get("annotation", ""),
            metrics=dict(j.get("metrics") or {}),
            note=j.get("note"),
            raw=j,
        )


@dataclass
class EvalRun(Result):
    """One version's evaluation: ``ok``, the ``metrics`` its command printed, exit code, seconds, error."""

    rev: str
    id: str
    number: Optional[int]
    ok: bool
    metrics: Dict[str, float]
    exit_code: Optional[int]
    seconds: float
    error: Optional[str]
    annotation: Optional[str]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "EvalRun":
        """Built from one run of ``mvm eval --json``."""
        return cls(
            rev=j.get("rev", ""),
            id=j.get("id", ""),
            number=j.get("number"),
            ok=bool(j.get("ok")),
            metrics=dict(j.get("metrics") or {}),
            exit_code=j.get("exitCode"),
            seconds=float(j.get("seconds") or 0),
            error=j.get("error"),
            annotation=j.get("annotation"),
            raw=j,
        )


@dataclass
class EvalResult(Result):
    """What ``Repo.evaluate`` did: one run per version, and a comparison of them (None when none succeeded)."""

    runs: List[EvalRun]
    comparison: Optional[Comparison]
    raw: Json = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when every version's command succeeded."""
        return all(r.ok for r in self.runs)

    @classmethod
    def from_json(cls, j: Json) -> "EvalResult":
        """Built from ``mvm eval --json``."""
        comparison = j.get("comparison")
        return cls(
            runs=[EvalRun.from_json(r) for r in j.get("runs", [])],
            comparison=Comparison.from_json(comparison) if comparison else None,
            raw=j,
        )


@dataclass
class Tensors(Result):
    """A version's tensors (``Repo.tensors``): per file its format, size, ``stored`` bytes and ``tensors``
    (name, dtype, shape, bytes, stored, shared chunks); ``totals`` over the files."""

    id: str
    number: Optional[int]
    files: List[Json]
    totals: Json
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Tensors":
        """Built from ``mvm show REV --tensors --json``."""
        return cls(
            id=j["id"],
            number=j.get("number"),
            files=list(j.get("files", [])),
            totals=dict(j.get("totals") or {}),
            raw=j,
        )

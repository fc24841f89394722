"""Typed results of the commands that move things: checkout, add, status, deploys, envs, push and pull."""

from dataclasses import dataclass, field
from typing import Any, List, Optional

from ._result import Json, Result

__all__ = ["CheckoutResult", "Deployment", "Env", "Status", "AddResult", "PushResult", "PullResult"]


@dataclass
class CheckoutResult(Result):
    """What ``Repo.checkout`` did: the version now in the workspace, its branch (None: detached), the files
    written and removed, and the bytes written."""

    id: str
    number: Optional[int]
    branch: Optional[str]
    written: List[str]
    removed: List[str]
    bytes_written: int
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "CheckoutResult":
        """Built from ``mvm checkout --json``."""
        return cls(
            id=j["id"],
            number=j.get("number"),
            branch=j.get("branch"),
            written=list(j.get("written", [])),
            removed=list(j.get("removed", [])),
            bytes_written=int(j.get("bytesWritten", 0)),
            raw=j,
        )


@dataclass
class Deployment(Result):
    """A move of an environment: what ``deploy``, ``promote`` and ``rollback`` return and what
    ``deployments`` lists. ``to_id``/``to_number`` is the version the env serves after it, ``from_id`` the one
    before; ``gates`` the conditions checked (None: no gates ran); ``time``, ``who`` and ``reason`` come
    with the deploy log's entries."""

    env: str
    action: str
    to_id: Optional[str]
    to_number: Optional[int]
    from_id: Optional[str]
    from_number: Optional[int]
    changed: Optional[bool]
    gates: Any
    reason: Optional[str]
    time: Optional[str]
    who: Optional[str]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Deployment":
        """Built from ``mvm deploy/promote/rollback --json`` or an entry of ``mvm deployments --json``."""
        return cls(
            env=j.get("env", ""),
            action=j.get("action", ""),
            to_id=j.get("to"),
            to_number=j.get("toNumber"),
            from_id=j.get("from"),
            from_number=j.get("fromNumber"),
            changed=j.get("changed"),
            gates=j.get("gates"),
            reason=j.get("reason"),
            time=j.get("time"),
            who=j.get("who"),
            raw=j,
        )


@dataclass
class Env(Result):
    """A deploy environment: its ``name``, the version it serves (``id``, ``number``; None before the first
    deploy), how many ``moves`` it has had, its gates (``require``, ``better_than_current``) and ``config``."""

    name: str
    id: Optional[str]
    number: Optional[int]
    moves: int
    require: List[str]
    better_than_current: Optional[str]
    config: Json
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Env":
        """Built from ``mvm env NAME --json`` or an entry of ``mvm env --json``."""
        config = dict(j.get("config") or {})
        return cls(
            name=j.get("env", ""),
            id=j.get("id"),
            number=j.get("number"),
            moves=int(j.get("moves", 0)),
            require=list(config.get("require") or []),
            better_than_current=config.get("betterThanCurrent"),
            config=config,
            raw=j,
        )


@dataclass
class Status(Result):
    """The workspace against HEAD: branch, ``head`` id and number, the tracked paths, the ``changes``
    (each {path, status}) and whether it is ``clean``."""

    branch: Optional[str]
    head: Optional[str]
    head_number: Optional[int]
    tracked: List[str]
    changes: List[Json]
    clean: bool
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "Status":
        """Built from ``mvm status --json``."""
        return cls(
            branch=j.get("branch"),
            head=j.get("head"),
            head_number=j.get("headNumber"),
            tracked=list(j.get("tracked", [])),
            changes=list(j.get("changes", [])),
            clean=bool(j.get("clean")),
            raw=j,
        )


@dataclass
class AddResult(Result):
    """What ``Repo.add`` did: every ``tracked`` path after it, and which given paths ``changed``."""

    tracked: List[str]
    changed: List[str]
    unchanged: List[str]
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "AddResult":
        """Built from ``mvm add --json``."""
        return cls(
            tracked=list(j.get("tracked", [])),
            changed=list(j.get("changed", [])),
            unchanged=list(j.get("unchanged", [])),
            raw=j,
        )


@dataclass
class PushResult(Result):
    """What ``Repo.push`` sent: the remote, its url, the ref ``updates`` ({ref, from, to, forced}), and the
    objects and bytes sent."""

    remote: str
    url: str
    updates: List[Json]
    objects: int
    bytes: int
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "PushResult":
        """Built from ``mvm push --json``."""
        return cls(
            remote=j.get("remote", ""),
            url=j.get("url", ""),
            updates=list(j.get("updates", [])),
            objects=int(j.get("objects", 0)),
            bytes=int(j.get("bytes", 0)),
            raw=j,
        )


@dataclass
class PullResult(Result):
    """What ``Repo.pull`` did: the branch, where it was (``from_id``) and is (``to_id``, ``number``), and the
    ``outcome`` ("up-to-date", "fast-forward", ...)."""

    remote: str
    branch: Optional[str]
    from_id: Optional[str]
    to_id: Optional[str]
    number: Optional[int]
    outcome: str
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, j: Json) -> "PullResult":
        """Built from ``mvm pull --json``."""
        return cls(
            remote=j.get("remote", ""),
            branch=j.get("branch"),
            from_id=j.get("from"),
            to_id=j.get("to"),
            number=j.get("number"),
            outcome=str(j.get("outcome", "")),
            raw=j,
        )

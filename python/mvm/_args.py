"""The command lines Repo and the module functions run: arguments built from Python values."""

import os
from typing import Any, Dict, List, Optional, Sequence, Union

from ._cli import run

__all__ = [
    "Paths",
    "as_list",
    "pairs",
    "repeat",
    "commit_args",
    "log_args",
    "best_args",
    "checkout_args",
    "gate_args",
    "cached_path",
]

Paths = Union[str, Sequence[str]]


def as_list(value: Optional[Paths]) -> List[str]:
    """VALUE as a list: None is empty, one string (or path) a list of it."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, os.PathLike)) else list(value)


def pairs(flag: str, values: Optional[Dict[str, Any]]) -> List[str]:
    """``FLAG key=value`` for each item of VALUES (booleans as true/false)."""
    out: List[str] = []
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        out += [flag, f"{key}={value}"]
    return out


def repeat(flag: str, values: Optional[Paths]) -> List[str]:
    """``FLAG value`` for each of VALUES."""
    out: List[str] = []
    for v in as_list(values):
        out += [flag, str(v)]
    return out


def commit_args(message, metrics=None, params=None, meta=None, base=None, data=None, allow_empty=False):
    """The ``mvm commit`` arguments for these values (shared by Repo.commit and mvm.commit)."""
    args = ["commit", "-m", message]
    args += pairs("--metric", metrics) + pairs("--param", params) + pairs("--meta", meta)
    if base:
        args += ["--base", base]
    args += repeat("--data", data)
    if allow_empty:
        args.append("--allow-empty")
    return args


def log_args(where=None, n=None, all=False):
    """The ``mvm log`` arguments for these filters."""
    args = ["log"]
    if where:
        args += ["--where", where]
    if n is not None:
        args += ["-n", n]
    if all:
        args.append("--all")
    return args


def best_args(metric, where=None, lower_is_better=None, all=False):
    """The ``mvm best`` arguments for these values."""
    args = ["best", "--metric", metric]
    if where:
        args += ["--where", where]
    if lower_is_better is True:
        args.append("--lower-is-better")
    elif lower_is_better is False:
        args.append("--higher-is-better")
    if all:
        args.append("--all")
    return args


def checkout_args(rev, only=None, force=False):
    """The ``mvm checkout`` arguments for these values."""
    args = ["checkout", rev]
    if only:
        args += ["--only"] + as_list(only)
    if force:
        args.append("--force")
    return args


def cached_path(rev, file, cwd=None, cache=None):
    """Materialises FILE of version REV under CACHE (default ``$XDG_CACHE_HOME/mvm`` or ``~/.cache/mvm``),
    by version id, and returns its path; asking again costs one ``mvm show``."""
    version = run("show", rev, cwd=cwd)["id"]
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = cache or os.path.join(cache_home, "mvm")
    dest = os.path.join(root, version, *file.split("/"))
    if os.path.isfile(dest):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    return run("get", version, file, "-o", dest, cwd=cwd)["output"]


def gate_args(require=None, better_than_current=None, lower_is_better=False):
    """The gate flags of deploy, promote and env."""
    args = repeat("--require", require)
    if better_than_current:
        args += ["--better-than-current", better_than_current]
    if lower_is_better:
        args.append("--lower-is-better")
    return args

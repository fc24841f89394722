"""mvm from Python: record, find, compare and deploy model versions from training and evaluation scripts.

``mvm.Repo(path)`` opens a repository (``mvm.init(path)`` makes one, ``mvm.clone(url, path)`` copies one);
its methods (commit, log, show, best, compare, annotate, evaluate, checkout, get, path, deploy, promote,
rollback, deployments, envs, env_create, push, pull, add, status, report...) return typed dataclasses
(:mod:`mvm.results`, each with ``to_dict()`` and the CLI's JSON in ``raw``). ``mvm.torch`` saves and
restores PyTorch modules as versions (torch is imported only there).

Everything runs the mvm command line with ``--json`` (one engine: see :func:`mvm.find_cli` for where it is
looked for; ``MVM_BIN`` names it). A failing command raises an :class:`MvmError` subclass carrying mvm's
stable error ``code`` (docs/exit-codes.md), ``exit_code``, ``data`` and ``hint``.

The module-level functions (``mvm.commit``, ``mvm.log``...) are the first version of this API: they work in
the current folder (or ``cwd``) and return the CLI's JSON as dicts. Standard library only.
"""

import importlib
from typing import Any

from ._cli import find_cli, run
from . import errors
from .errors import (
    AlreadyARepositoryError,
    BadOutputError,
    CliNotFoundError,
    CommandFailedError,
    ConflictError,
    CorruptError,
    GateFailedError,
    LockedError,
    MvmError,
    NotARepositoryError,
    NotFoundError,
    NothingToCommitError,
    OperatingSystemError,
    RefusedError,
    RemoteError,
    RepositoryError,
    UsageError,
    error_for,
)
from ._args import best_args, cached_path, checkout_args, commit_args, log_args
from .repo import Repo, clone, init
from .results import (
    AddResult,
    Annotation,
    Best,
    CheckoutResult,
    CommitResult,
    Comparison,
    ComparisonColumn,
    Deployment,
    Env,
    EvalResult,
    EvalRun,
    LogEntry,
    PullResult,
    PushResult,
    Status,
    Tensors,
    Version,
)

__version__ = "0.1.0"

__all__ = [
    "Repo",
    "init",
    "clone",
    "find_cli",
    "run",
    "commit",
    "log",
    "show",
    "best",
    "checkout",
    "path",
    "AddResult",
    "Annotation",
    "Best",
    "CheckoutResult",
    "CommitResult",
    "Comparison",
    "ComparisonColumn",
    "Deployment",
    "Env",
    "EvalResult",
    "EvalRun",
    "LogEntry",
    "PullResult",
    "PushResult",
    "Status",
    "Tensors",
    "Version",
]
# every error class, as errors.py lists them (type checkers read this form)
__all__ += errors.__all__


def __getattr__(name: str) -> Any:
    """``mvm.torch`` is imported on first use, so ``import mvm`` never imports torch."""
    if name == "torch":
        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'mvm' has no attribute {name!r}")


def commit(message, metrics=None, params=None, meta=None, base=None, data=None, allow_empty=False, cwd=None):
    """Records the tracked files as a new version; returns mvm's commit result as a dict (``id``, ``number``,
    ``created``...). :meth:`Repo.commit` is the same, returning a :class:`CommitResult`.

    In a clone of a shared remote, ``number`` is None until a push gets the version its registry number: name it by
    ``id`` until then (a number, once given, never names another version).

    ``data`` is a path or a list of paths (datasets the version was trained on).
    When nothing changed (and no metrics are given), no version is made and ``created`` is False.
    """
    args = commit_args(message, metrics, params, meta, base, data, allow_empty)
    # "nothing to commit" exits 1 but is not an error here: the result says created=False
    return run(*args, cwd=cwd, ok_exit_codes=(0, 1))


def log(where=None, n=None, all=False, cwd=None):
    """Versions newest first (a list of dicts with id, number, message, metrics, params...), optionally filtered."""
    result = run(*log_args(where, n, all), cwd=cwd)
    return result["entries"] if isinstance(result, dict) and "entries" in result else result


def show(rev="HEAD", cwd=None):
    """One version as a dict: id, number, manifest, metrics (annotations applied)."""
    return run("show", rev, cwd=cwd)


def best(metric, where=None, lower_is_better=None, all=False, cwd=None):
    """The version with the best value of ``metric`` on the current branch (``all=True``: every branch), a dict."""
    return run(*best_args(metric, where, lower_is_better, all), cwd=cwd)


def checkout(rev, only=None, force=False, cwd=None):
    """Puts a version's files in the workspace (``only``: a path or a list of paths of it)."""
    return run(*checkout_args(rev, only, force), cwd=cwd)


def path(rev, file, cwd=None, cache=None):
    """Materialises one file of a version and returns its path, leaving the workspace as it is.

    Files are kept under ``cache`` (default: ``$XDG_CACHE_HOME/mvm`` or ``~/.cache/mvm``)
    by version id, so asking again costs nothing.
    """
    return cached_path(rev, file, cwd=cwd, cache=cache)

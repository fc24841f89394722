"""PyTorch in the loop: commit a module's weights as a version, and load a version's weights back.

``mvm.torch.commit(model, metrics=...)`` saves ``model.state_dict()`` with ``torch.save`` to a tracked file
(``models/model.pt`` by default; tracked on first use) and commits it with its metrics in one call.
``mvm.torch.load(rev, model)`` restores a version's weights into a module without touching the workspace.
An optimizer's state goes to a file beside the weights (``models/model.optim.pt``), so the weights file
stays what serving needs. mvm stores a ``.pt`` file tensor by tensor: a version that changes a few layers
stores little more than those layers.

torch is imported inside the functions: ``import mvm`` never needs it.
"""

import os
import tempfile
from typing import Any, Dict, Optional, Union

from .repo import Repo
from .results import CommitResult

__all__ = ["save", "commit", "load", "optimizer_path"]

RepoLike = Union[Repo, str, "os.PathLike[str]", None]


def _repo(repo: RepoLike) -> Repo:
    return repo if isinstance(repo, Repo) else Repo(repo if repo is not None else ".")


def optimizer_path(path: str) -> str:
    """Where the optimizer state of weights file PATH goes: ``models/model.pt`` -> ``models/model.optim.pt``."""
    stem, ext = os.path.splitext(path)
    return f"{stem}.optim{ext or '.pt'}"


def _save(obj: Any, dest: str) -> None:
    """torch.save into a temporary folder beside DEST, then renamed over it: DEST is never half written.

    The file keeps DEST's name while written: torch names the folder inside its zip after the file, and
    the same name each time lets every version share the bytes that did not change.
    """
    import torch

    folder = os.path.dirname(dest) or "."
    os.makedirs(folder, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=".mvm-save-", dir=folder)
    tmp = os.path.join(tmp_dir, os.path.basename(dest))
    try:
        torch.save(obj, tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        os.rmdir(tmp_dir)


def save(model: Any, path: str = "models/model.pt", optimizer: Any = None, repo: RepoLike = None) -> str:
    """Saves MODEL's state dict (and OPTIMIZER's state beside it) into the repository's workspace at PATH
    (relative to the repository folder) and returns the file's absolute path. Records no version."""
    r = _repo(repo)
    dest = os.path.join(r.folder, path)
    _save(model.state_dict(), dest)
    if optimizer is not None:
        _save(optimizer.state_dict(), os.path.join(r.folder, optimizer_path(path)))
    return dest


def commit(
    model: Any,
    optimizer: Any = None,
    path: str = "models/model.pt",
    metrics: Optional[Dict[str, float]] = None,
    params: Optional[Dict[str, Any]] = None,
    message: Optional[str] = None,
    repo: RepoLike = None,
    meta: Optional[Dict[str, Any]] = None,
    base: Optional[str] = None,
    data: Any = None,
) -> CommitResult:
    """Saves MODEL's weights (``torch.save(model.state_dict())``, and OPTIMIZER's state when given) to PATH
    in REPO (a :class:`mvm.Repo`, a folder, or None for the current folder), tracks the file if it is not
    tracked yet, and commits it with ``metrics``, ``params``, ``meta``, ``base`` and ``data`` in one call.

    Returns the :class:`mvm.CommitResult` (``id``, ``number``, ``stored_bytes``...). The message defaults
    to the module's class name. Metrics with unchanged weights raise :class:`mvm.NothingToCommitError` on
    an mvm that refuses them (use ``Repo.annotate``); otherwise the result has ``created=False``.
    """
    r = _repo(repo)
    save(model, path, optimizer, r)
    files = [path] + ([optimizer_path(path)] if optimizer is not None else [])
    untracked = [f for f in files if not r.is_tracked(f)]
    if untracked:
        r.add(*untracked)
    text = message if message is not None else f"{type(model).__name__} weights"
    return r.commit(text, metrics=metrics, params=params, meta=meta, base=base, data=data)


def _load(file: str, map_location: Any, weights_only: bool = True) -> Any:
    import torch

    if not weights_only:
        return torch.load(file, map_location=map_location)
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except TypeError:  # torch before 1.13 has no weights_only
        return torch.load(file, map_location=map_location)


def _safe_loader_reads_optimizers() -> bool:
    """torch 2 and later: the weights-only loader reads floats, so optimizer state too (1.13's does not)."""
    import torch

    try:
        return int(torch.__version__.split(".")[0]) >= 2
    except ValueError:
        return True


def load(
    rev: str,
    model: Any,
    path: str = "models/model.pt",
    repo: RepoLike = None,
    optimizer: Any = None,
    cache: Optional[str] = None,
    map_location: Any = "cpu",
    strict: bool = True,
) -> Any:
    """Loads version REV's weights at PATH into MODEL (``load_state_dict``; ``strict`` as there) and
    returns MODEL. With OPTIMIZER, its state saved beside the weights is loaded too.

    The file is fetched into a cache by version id (see :meth:`mvm.Repo.path`; the workspace is left as it
    is) and read with ``torch.load(weights_only=True)`` where torch supports it, onto ``map_location``.
    The optimizer's state is read the same way on torch 2 and later; torch 1.13's weights-only loader cannot
    read the floats in it, so there it is read with a full ``torch.load`` (the file comes from your
    repository, checked against its hash, but a full load runs whatever pickle it holds).
    REV is anything mvm names a version by: ``"v3"``, an id, ``"deployed:production"``, a branch.
    """
    r = _repo(repo)
    state = _load(r.path(rev, path, cache=cache), map_location)
    model.load_state_dict(state, strict=strict)
    if optimizer is not None:
        file = r.path(rev, optimizer_path(path), cache=cache)
        optimizer.load_state_dict(_load(file, map_location, weights_only=_safe_loader_reads_optimizers()))
    return model

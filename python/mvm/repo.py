"""``Repo``: one mvm repository, driven through the mvm command line (``mvm ... --json``)."""

import os
from typing import Any, Dict, List, Optional, Sequence, Union

from ._args import (
    Paths,
    as_list,
    best_args,
    cached_path,
    checkout_args,
    commit_args,
    gate_args,
    log_args,
    pairs,
    repeat,
)
from ._cli import run, run_text
from .errors import CommandFailedError, NotARepositoryError
from .results import (
    AddResult,
    Annotation,
    Best,
    CheckoutResult,
    CommitResult,
    Comparison,
    Deployment,
    Env,
    EvalResult,
    LogEntry,
    PullResult,
    PushResult,
    Status,
    Tensors,
    Version,
)

__all__ = ["Repo", "init", "clone"]

class Repo:
    """An mvm repository: the folder holding ``.mvm/`` (or a folder inside it).

    ``mvm.Repo(path)`` opens one (``path`` defaults to the current folder; raises
    :class:`mvm.NotARepositoryError` when neither it nor a parent holds ``.mvm``); ``mvm.init(path)`` makes
    one and ``mvm.clone(url, path)`` copies one from a remote. Every method runs the mvm command line in
    ``folder`` and returns a typed result (see :mod:`mvm.results`); failures raise :class:`mvm.MvmError`
    subclasses carrying mvm's stable error code.

    Attributes: ``folder`` (the folder given, where commands run; relative paths are taken from it) and
    ``root`` (the folder holding ``.mvm``).
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"] = "."):
        """Opens the repository at PATH (or the nearest parent holding ``.mvm``)."""
        self.folder = os.path.abspath(os.fspath(path))
        folder = self.folder
        while not os.path.isdir(os.path.join(folder, ".mvm")):
            parent = os.path.dirname(folder)
            if parent == folder:
                raise NotARepositoryError(
                    "NOT_A_REPOSITORY",
                    f"not an mvm repository (or any parent): {self.folder}",
                    3,
                    {"path": self.folder, "hint": "mvm.init(path) makes one"},
                )
            folder = parent
        self.root = folder
        self._tracked: set = set()

    def __repr__(self) -> str:
        return f"Repo({self.root!r})"

    def run(self, *args: Any) -> Any:
        """Runs ``mvm ARGS --json`` in this repository and returns the parsed output (any command)."""
        return run(*args, cwd=self.folder)

    # recording versions

    def add(self, *paths: str) -> AddResult:
        """Tracks files or folders (``mvm add``); git is told to ignore them."""
        result = AddResult.from_json(self.run("add", *paths))
        self._tracked.update(result.tracked)
        return result

    def status(self) -> Status:
        """The tracked paths and which of them changed since HEAD (``mvm status``)."""
        result = Status.from_json(self.run("status"))
        self._tracked.update(result.tracked)
        return result

    def is_tracked(self, file: str) -> bool:
        """True when FILE (relative to the repository root) is tracked, itself or through a folder."""
        rel = os.path.relpath(os.path.join(self.folder, file), self.root).replace(os.sep, "/")

        def covered() -> bool:
            return any(rel == t or rel.startswith(t.rstrip("/") + "/") or t in (".", "") for t in self._tracked)

        if covered():
            return True
        self.status()
        return covered()

    def commit(
        self,
        message: str,
        metrics: Optional[Dict[str, float]] = None,
        params: Optional[Dict[str, Any]] = None,
        meta: Optional[Dict[str, Any]] = None,
        base: Optional[str] = None,
        data: Optional[Paths] = None,
        allow_empty: bool = False,
    ) -> CommitResult:
        """Records the tracked files as a new version (``mvm commit``) with its metrics, params and meta.

        ``base`` names the version this model was fine-tuned from; ``data`` is a path (or name=ID) or a
        list of them: the datasets it was trained on. When no tracked file changed and no metrics are
        given, no version is made: the result has ``created=False`` and names HEAD. Metrics with no file
        change raise :class:`mvm.NothingToCommitError` (newer mvm; use :meth:`annotate` for those).
        The result's ``number`` is None in a clone of a shared remote until a push numbers the version.
        """
        args = commit_args(message, metrics, params, meta, base, data, allow_empty)
        # nothing to commit exits 1 without an error object: the result says created=False
        return CommitResult.from_json(run(*args, cwd=self.folder, ok_exit_codes=(0, 1)))

    def annotate(self, rev: str, metrics: Optional[Dict[str, float]] = None, note: Optional[str] = None) -> Annotation:
        """Attaches metrics or a note to an existing version (``mvm annotate``); its id does not change."""
        args = ["annotate", rev] + pairs("--metric", metrics)
        if note is not None:
            args += ["--note", note]
        return Annotation.from_json(self.run(*args))

    # reading history

    def log(self, where: Optional[str] = None, n: Optional[int] = None, all: bool = False) -> List[LogEntry]:
        """Versions newest first (``mvm log``): ``where`` a query such as ``"metrics.accuracy > 0.9"``
        (docs/QUERY.md), ``n`` at most that many, ``all`` every branch rather than HEAD's history."""
        result = self.run(*log_args(where, n, all))
        entries = result["entries"] if isinstance(result, dict) and "entries" in result else result
        return [LogEntry.from_json(e) for e in entries or []]

    def show(self, rev: str = "HEAD") -> Version:
        """One version (``mvm show``): metadata, metrics with annotations applied, files, lineage.

        REV is ``vN``, a hash prefix, a branch, a tag, ``HEAD~N``, ``deployed`` or ``deployed:ENV``.
        """
        return Version.from_json(self.run("show", rev))

    def tensors(self, rev: str = "HEAD", path: Optional[str] = None) -> Tensors:
        """A version's tensors (``mvm show --tensors``): per file, each tensor's shape, dtype and the bytes
        its storage takes (``stored``; chunks shared with earlier versions cost nothing)."""
        return Tensors.from_json(self.run("show", rev, *([path] if path else []), "--tensors"))

    def best(
        self,
        metric: str,
        where: Optional[str] = None,
        lower_is_better: Optional[bool] = None,
        all: bool = False,
    ) -> Best:
        """The version with the best value of METRIC on the current branch (``all=True``: any branch).

        The direction is inferred from the name (loss, latency... are lower-is-better) unless
        ``lower_is_better`` says. Raises :class:`mvm.NotFoundError` (NO_VERSIONS) when no version has it.
        """
        return Best.from_json(self.run(*best_args(metric, where, lower_is_better, all)), metric)

    def compare(
        self,
        *revs: str,
        higher_is_better: Optional[Paths] = None,
        lower_is_better: Optional[Paths] = None,
    ) -> Comparison:
        """Versions side by side (``mvm compare``): metrics with deltas against the first, sizes, shared
        chunks; ``higher_is_better``/``lower_is_better`` name metric directions mvm cannot infer."""
        args = ["compare", *revs] + repeat("--higher-is-better", higher_is_better)
        args += repeat("--lower-is-better", lower_is_better)
        return Comparison.from_json(self.run(*args))

    def evaluate(
        self,
        revs: Paths,
        command: Union[str, Sequence[str]],
        dry_run: bool = False,
        timeout: Optional[float] = None,
        check: bool = True,
    ) -> EvalResult:
        """Runs COMMAND on each version in REVS (``mvm eval``), recording the JSON metrics it prints.

        Each version is materialised in a temporary folder; ``{path}`` in the command (and ``$MVM_PATH``)
        names it. A string command runs through the shell, a list as it is. ``dry_run`` records nothing.
        When a version's command fails, raises :class:`mvm.CommandFailedError` (``data["runs"]`` holds every
        run) unless ``check=False``, which returns the result with ``ok=False`` runs.
        """
        args = ["eval", *as_list(revs)]
        if dry_run:
            args.append("--dry-run")
        if timeout is not None:
            args += ["--timeout", timeout]
        args += ["--"] + ([command] if isinstance(command, str) else list(command))
        result = EvalResult.from_json(run(*args, cwd=self.folder, ok_exit_codes=(0, 9)))
        if check and not result.ok:
            failed = ", ".join(f"{r.rev}: {r.error}" for r in result.runs if not r.ok)
            raise CommandFailedError("COMMAND_FAILED", f"the evaluation failed for {failed}", 9, result.raw)
        return result

    # the workspace and files of versions

    def checkout(self, rev: str, only: Optional[Paths] = None, force: bool = False) -> CheckoutResult:
        """Puts version REV's files in the workspace (``mvm checkout``), bit for bit; ``only`` keeps just
        these paths; ``force`` discards local changes (else :class:`mvm.ConflictError`)."""
        return CheckoutResult.from_json(self.run(*checkout_args(rev, only, force)))

    def get(self, rev: str, file: str, output: str) -> str:
        """Writes FILE of version REV (verified) to OUTPUT, leaving the workspace as it is; returns the path."""
        return run("get", rev, file, "-o", os.path.abspath(output), cwd=self.folder)["output"]

    def path(self, rev: str, file: str, cache: Optional[str] = None) -> str:
        """A local path holding FILE of version REV, kept in a cache by version id (``cache``, default
        ``$XDG_CACHE_HOME/mvm`` or ``~/.cache/mvm``); the workspace is left as it is."""
        return cached_path(rev, file, cwd=self.folder, cache=cache)

    # deploying

    def deploy(
        self,
        rev: Optional[str] = None,
        env: Optional[str] = None,
        reason: Optional[str] = None,
        require: Optional[Paths] = None,
        better_than_current: Optional[str] = None,
        lower_is_better: bool = False,
        gates: bool = True,
        best: Optional[str] = None,
    ) -> Deployment:
        """Points env ENV (default: the default env, ``deployed``) at version REV through its gates.

        ``require`` adds conditions for this deploy (the --where language), ``better_than_current`` a
        metric it must beat the env's current version on. A refused version raises
        :class:`mvm.GateFailedError` (``data["failed"]``: each condition, value and shortfall);
        ``gates=False`` skips the gates (logged). ``best=METRIC`` deploys the best version by that metric
        instead of REV (needs an mvm with ``deploy --best``).
        """
        if not rev and not best:
            # a bare `mvm deploy` prints the deploy history: that is deployments()
            raise ValueError("deploy needs a version (rev) or best=METRIC; deployments() lists the history")
        args = ["deploy"] + ([rev] if rev else [])
        if best:
            args += ["--best", best]
        if env:
            args += ["--env", env]
        if reason:
            args += ["-m", reason]
        args += gate_args(require, better_than_current, lower_is_better)
        if not gates:
            args.append("--no-gates")
        return Deployment.from_json(self.run(*args))

    def promote(
        self,
        from_env: str,
        to_env: str,
        reason: Optional[str] = None,
        require: Optional[Paths] = None,
        better_than_current: Optional[str] = None,
        gates: bool = True,
    ) -> Deployment:
        """Deploys the version FROM_ENV serves to TO_ENV, through TO_ENV's gates (``mvm promote``)."""
        args = ["promote", from_env, to_env] + (["-m", reason] if reason else [])
        args += gate_args(require, better_than_current)
        if not gates:
            args.append("--no-gates")
        return Deployment.from_json(self.run(*args))

    def rollback(self, env: Optional[str] = None, to: Optional[str] = None, reason: Optional[str] = None) -> Deployment:
        """Moves ENV back to its previous deployment, or to version TO (``mvm rollback``); never gated."""
        args = ["rollback"] + (["--env", env] if env else []) + (["--to", to] if to else [])
        args += ["-m", reason] if reason else []
        return Deployment.from_json(self.run(*args))

    def deployments(self, env: Optional[str] = None) -> List[Deployment]:
        """The deploy log, newest first: who deployed what, where, when and why (``env``: only that one)."""
        return [Deployment.from_json(d) for d in self.run("deployments", *(["--env", env] if env else []))]

    def deployed(self, env: Optional[str] = None) -> Version:
        """The version ENV serves (default: the default env); :class:`mvm.NotFoundError` when none."""
        return self.show(f"deployed:{env}" if env else "deployed")

    def envs(self) -> List[Env]:
        """Every deploy environment, with the version it serves and its gates (``mvm env``)."""
        return [Env.from_json(e) for e in self.run("env")]

    def env(self, name: str) -> Env:
        """One environment: the version it serves, its gates and settings (``mvm env NAME``)."""
        return Env.from_json(self.run("env", name))

    def env_create(
        self,
        name: str,
        require: Optional[Paths] = None,
        better_than_current: Optional[str] = None,
        lower_is_better: bool = False,
    ) -> Env:
        """Creates environment NAME (``mvm env NAME --create``) with its gates: ``require`` conditions every
        deploy must meet (e.g. ``["metrics.accuracy >= 0.9"]``), ``better_than_current`` a metric every
        deploy must beat the current version on (``lower_is_better`` for its direction)."""
        args = ["env", name, "--create"] + gate_args(require, better_than_current, lower_is_better)
        return Env.from_json(self.run(*args))

    def env_set(
        self,
        name: str,
        require: Optional[Paths] = None,
        better_than_current: Optional[str] = None,
        lower_is_better: bool = False,
        clear_gates: bool = False,
    ) -> Env:
        """Sets environment NAME's gates (``require`` replaces the stored conditions); ``clear_gates`` first
        removes every gate."""
        args = ["env", name] + (["--clear-gates"] if clear_gates else [])
        args += gate_args(require, better_than_current, lower_is_better)
        return Env.from_json(self.run(*args))

    # remotes

    def remote_add(self, name: str, url: str) -> Dict[str, Any]:
        """Adds remote NAME at URL (a folder, ``file:///path`` or ``s3://bucket/prefix``)."""
        return self.run("remote", "add", name, url)

    def remotes(self) -> List[Dict[str, Any]]:
        """The configured remotes (name, url, shared, trust)."""
        return self.run("remote")

    def push(self, remote: Optional[str] = None, all: bool = False, force: bool = False) -> PushResult:
        """Sends the current branch (``all``: every branch and tag) and the versions it reaches to REMOTE
        (default origin): only what it lacks. A diverged remote raises :class:`mvm.ConflictError`."""
        args = ["push"] + ([remote] if remote else []) + (["--all"] if all else []) + (["--force"] if force else [])
        return PushResult.from_json(self.run(*args))

    def pull(self, remote: Optional[str] = None, branch: Optional[str] = None, force: bool = False) -> PullResult:
        """Fetches from REMOTE (default origin), brings the branch up to date and checks it out."""
        args = ["pull"] + ([remote] if remote else []) + ([branch] if branch else []) + (["--force"] if force else [])
        return PullResult.from_json(self.run(*args))

    # reports

    def report(
        self,
        output: str = "report.html",
        where: Optional[str] = None,
        title: Optional[str] = None,
        pair: Optional[Sequence[str]] = None,
    ) -> str:
        """Writes the HTML report (metric charts, lineage, comparison, tensor changes of ``pair``) to OUTPUT
        and returns its path. ``report_data()`` gives the same data as a dict."""
        output = os.path.abspath(output)
        args = ["report", "-o", output] + (["--where", where] if where else []) + (["--title", title] if title else [])
        args += ["--pair", *pair] if pair else []
        run_text(*args, cwd=self.folder)
        return output

    def report_data(self, where: Optional[str] = None) -> Dict[str, Any]:
        """The data of the HTML report (versions, metrics, lineage, envs) as a dict (``mvm report --json``)."""
        return self.run("report", *(["--where", where] if where else []))


def init(path: Union[str, "os.PathLike[str]"] = ".", chunk_size: Optional[int] = None) -> Repo:
    """Creates an mvm repository (``.mvm/``) in PATH, made if missing, and returns it.

    Run it at the root of the project (a git repository, ideally: ``.mvm/`` is added to .gitignore).
    Raises :class:`mvm.AlreadyARepositoryError` when one exists there.
    """
    path = os.path.abspath(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    run("init", *(["--chunk-size", chunk_size] if chunk_size else []), cwd=path)
    return Repo(path)


def clone(
    url: str,
    path: Optional[Union[str, "os.PathLike[str]"]] = None,
    rev: Optional[str] = None,
    only: Optional[Paths] = None,
    full: bool = False,
) -> Repo:
    """Copies the repository at URL (a folder or ``s3://bucket/prefix``) into PATH (default: a folder named
    after the URL, here) with it as ``origin``, checks out ``rev`` (default main) and returns it.

    ``only`` fetches just these paths' chunks; ``full`` keeps every chunk locally.
    """
    args: List[Any] = ["clone", url] + ([os.path.abspath(os.fspath(path))] if path is not None else [])
    args += ["--rev", rev] if rev else []
    args += (["--only", *as_list(only)] if only else []) + (["--full"] if full else [])
    return Repo(run(*args)["dir"])

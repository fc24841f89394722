"""mvm from Python: record and find model versions from training and evaluation scripts.

Every function runs the mvm command line with ``--json`` (``mvm`` on PATH, or
the program named by ``MVM_BIN``; a ``.js`` file is run with ``node``) in the
current folder, or in ``cwd`` when given, and returns what it printed, parsed.
A failing command raises :class:`MvmError`, carrying mvm's stable error
``code`` (see docs/exit-codes.md), its exit code and its data.

Standard library only.
"""

import json
import os
import shutil
import subprocess

__all__ = ["MvmError", "commit", "log", "show", "best", "checkout", "path", "run"]


class MvmError(Exception):
    """An mvm command failed: ``code`` is the stable error code, ``exit_code`` the process exit code."""

    def __init__(self, code, message, exit_code, data=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.exit_code = exit_code
        self.data = data or {}


def _program():
    given = os.environ.get("MVM_BIN")
    if given:
        # a relative MVM_BIN means relative to where Python runs, not to the repository named by cwd
        if os.sep in given:
            given = os.path.abspath(given)
        return ["node", given] if given.endswith(".js") else [given]
    found = shutil.which("mvm")
    if not found:
        raise MvmError("NOT_FOUND", "the mvm command is not on PATH; set MVM_BIN to it", 127)
    return [found]


def run(*args, cwd=None, ok_exit_codes=(0,)):
    """Runs ``mvm ARGS --json`` and returns the parsed output; raises MvmError when it fails."""
    proc = subprocess.run(
        _program() + [str(a) for a in args] + ["--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    out = proc.stdout.strip()
    parsed = None
    if out:
        try:
            parsed = json.loads(out)
        except ValueError:
            parsed = None
    err = parsed.get("error") if isinstance(parsed, dict) else None
    if proc.returncode not in ok_exit_codes or (proc.returncode != 0 and isinstance(err, dict)):
        if isinstance(err, dict):
            raise MvmError(err.get("code", "UNKNOWN"), err.get("message", ""), proc.returncode, err.get("data"))
        message = (proc.stderr.strip().splitlines() or ["mvm failed"])[-1]
        raise MvmError("UNKNOWN", message, proc.returncode)
    if parsed is None and out:
        raise MvmError("BAD_OUTPUT", f"mvm printed something that is not JSON: {out[:200]}", proc.returncode)
    return parsed


def _pairs(flag, values):
    out = []
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        out += [flag, f"{key}={value}"]
    return out


def commit(message, metrics=None, params=None, meta=None, base=None, data=None, allow_empty=False, cwd=None):
    """Records the tracked files as a new version. Returns mvm's commit result (``id``, ``number``, ``created``...).

    In a clone of a shared remote, ``number`` is None until a push gets the version its registry number: name it by
    ``id`` until then (a number, once given, never names another version).

    ``data`` is a path or a list of paths (datasets the version was trained on).
    When nothing changed, no version is made and ``created`` is False.
    """
    args = ["commit", "-m", message]
    args += _pairs("--metric", metrics) + _pairs("--param", params) + _pairs("--meta", meta)
    if base:
        args += ["--base", base]
    for d in [data] if isinstance(data, str) else (data or []):
        args += ["--data", d]
    if allow_empty:
        args.append("--allow-empty")
    # "nothing to commit" exits 1 but is not an error here: the result says created=False
    return run(*args, cwd=cwd, ok_exit_codes=(0, 1))


def log(where=None, n=None, all=False, cwd=None):
    """Versions newest first (a list of dicts with id, number, message, metrics, params...), optionally filtered."""
    args = ["log"]
    if where:
        args += ["--where", where]
    if n is not None:
        args += ["-n", n]
    if all:
        args.append("--all")
    result = run(*args, cwd=cwd)
    return result["entries"] if isinstance(result, dict) and "entries" in result else result


def show(rev="HEAD", cwd=None):
    """One version: id, number, manifest, metrics (annotations applied)."""
    return run("show", rev, cwd=cwd)


def best(metric, where=None, lower_is_better=None, all=False, cwd=None):
    """The version with the best value of ``metric`` on the current branch (``all=True``: every branch)."""
    args = ["best", "--metric", metric]
    if where:
        args += ["--where", where]
    if lower_is_better is True:
        args.append("--lower-is-better")
    elif lower_is_better is False:
        args.append("--higher-is-better")
    if all:
        args.append("--all")
    return run(*args, cwd=cwd)


def checkout(rev, only=None, force=False, cwd=None):
    """Puts a version's files in the workspace (``only``: a path or a list of paths of it)."""
    args = ["checkout", rev]
    if only:
        args += ["--only"] + ([only] if isinstance(only, str) else list(only))
    if force:
        args.append("--force")
    return run(*args, cwd=cwd)


def path(rev, file, cwd=None, cache=None):
    """Materialises one file of a version and returns its path, leaving the workspace as it is.

    Files are kept under ``cache`` (default: ``$XDG_CACHE_HOME/mvm`` or ``~/.cache/mvm``)
    by version id, so asking again costs nothing.
    """
    version = show(rev, cwd=cwd)["id"]
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = cache or os.path.join(cache_home, "mvm")
    dest = os.path.join(root, version, *file.split("/"))
    if os.path.isfile(dest):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    return run("get", version, file, "-o", dest, cwd=cwd)["output"]

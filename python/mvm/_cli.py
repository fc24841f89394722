"""Finding the mvm command line and running it with ``--json``: the one way this package reaches mvm."""

import json
import os
import shutil
import subprocess
from typing import Any, List, Optional, Sequence

from .errors import BadOutputError, CliNotFoundError, error_for

__all__ = ["find_cli", "run", "run_text"]


def _command_for(program: str) -> List[str]:
    """The argv prefix that runs PROGRAM: ``node PROGRAM`` for a .js file, else PROGRAM itself."""
    return ["node", program] if program.endswith((".js", ".mjs", ".cjs")) else [program]


def _node_modules_bin(start: str) -> Optional[str]:
    """``node_modules/.bin/mvm`` in START or the nearest parent that has one, else None."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "node_modules", ".bin", "mvm")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def find_cli(cwd: Optional[str] = None) -> List[str]:
    """The argv prefix that runs the mvm command line, looked for in this order:

    1. ``MVM_BIN``: a program, or a ``.js`` file run with ``node`` (a relative path is taken from the
       current folder of Python, not from the repository);
    2. ``node_modules/.bin/mvm`` in the repository folder (``cwd``) or a parent of it, then in the current
       folder or a parent (an ``npm install mvm`` in the project, as ``npx`` finds it);
    3. ``mvm`` on ``PATH`` (``npm install -g``, or a link to ``bin/mvm`` of a clone).

    The package does not look for a checkout of mvm next to its own files: ``pip install`` copies them
    into site-packages, so where they came from is not known. Raises :class:`mvm.CliNotFoundError`.
    """
    given = os.environ.get("MVM_BIN")
    if given:
        if os.sep in given or (os.altsep and os.altsep in given):
            given = os.path.abspath(given)
        return _command_for(given)
    for start in [cwd, os.getcwd()] if cwd else [os.getcwd()]:
        local = _node_modules_bin(start)
        if local:
            return [local]
    found = shutil.which("mvm")
    if found:
        return [found]
    raise CliNotFoundError(
        "MVM_NOT_FOUND",
        "the mvm command line was not found: set MVM_BIN to it, `npm install mvm` in the project, or put mvm on PATH",
        127,
        {"hint": "MVM_BIN=/path/to/mvm/bin/mvm.js"},
    )


def _spawn(args: Sequence[Any], cwd: Optional[str]) -> "subprocess.CompletedProcess[str]":
    argv = find_cli(cwd) + [str(a) for a in args]
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise CliNotFoundError("MVM_NOT_FOUND", f"could not start {argv[0]}: {e}", 127) from e


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "mvm failed"


def run(*args: Any, cwd: Optional[str] = None, ok_exit_codes: Sequence[int] = (0,)) -> Any:
    """Runs ``mvm ARGS --json`` in ``cwd`` and returns what it printed, parsed from JSON.

    ``--json`` goes before a ``--`` argument (after which come a user command's own arguments).
    A failing command raises the :class:`mvm.MvmError` subclass for its error code; an exit code in
    ``ok_exit_codes`` without an error object is returned as a result.
    """
    args = list(args)
    at = args.index("--") if "--" in args else len(args)
    proc = _spawn(args[:at] + ["--json"] + args[at:], cwd)
    out = proc.stdout.strip()
    parsed = None
    if out:
        try:
            parsed = json.loads(out)
        except ValueError:
            parsed = None
    err = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(err, dict) and proc.returncode != 0:
        raise error_for(
            str(err.get("code", "UNKNOWN")), str(err.get("message", "")), proc.returncode, err.get("data") or {}
        )
    if proc.returncode not in ok_exit_codes:
        data = {"stderr": proc.stderr.strip()[-4000:]}
        if parsed is not None:
            data["output"] = parsed
        raise error_for("UNKNOWN", _last_line(proc.stderr), proc.returncode, data)
    if parsed is None and out:
        raise BadOutputError("BAD_OUTPUT", f"mvm printed something that is not JSON: {out[:200]}", proc.returncode)
    return parsed


def run_text(*args: Any, cwd: Optional[str] = None) -> str:
    """Runs ``mvm ARGS`` (no ``--json``) and returns its standard output; raises MvmError by exit code."""
    proc = _spawn(list(args), cwd)
    if proc.returncode != 0:
        raise error_for("UNKNOWN", _last_line(proc.stderr), proc.returncode, {"stderr": proc.stderr.strip()[-4000:]})
    return proc.stdout

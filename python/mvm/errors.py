"""The errors mvm raises: one MvmError, with a subclass per family of exit codes (docs/exit-codes.md).

Every error carries the CLI's stable ``code`` (a string such as ``"UNKNOWN_REVISION"``; match on it, not on the
message), the process ``exit_code``, the error's ``data`` (what it is about) and ``hint`` (what to do, when mvm
gave one). Catch a family (``except mvm.NotFoundError``) or test the code (``err.code == "GATE_FAILED"``).
"""

from typing import Any, Dict, Optional, Type

__all__ = [
    "MvmError",
    "RefusedError",
    "GateFailedError",
    "NothingToCommitError",
    "UsageError",
    "RepositoryError",
    "NotARepositoryError",
    "AlreadyARepositoryError",
    "NotFoundError",
    "ConflictError",
    "LockedError",
    "CorruptError",
    "OperatingSystemError",
    "CommandFailedError",
    "RemoteError",
    "CliNotFoundError",
    "BadOutputError",
    "error_for",
]


class MvmError(Exception):
    """An mvm command failed.

    Attributes:
        code: the stable error code (docs/exit-codes.md), e.g. ``"UNKNOWN_REVISION"``.
        message: mvm's one-line message.
        exit_code: the exit code of the mvm process (1 to 10; 127 when mvm could not be started).
        data: what the error is about (the revision, the path, the failed gates...), a dict.
        hint: what to do about it, when mvm said (also ``data["hint"]``), else None.
    """

    def __init__(self, code: str, message: str, exit_code: int, data: Optional[Dict[str, Any]] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.exit_code = exit_code
        self.data: Dict[str, Any] = data or {}
        hint = self.data.get("hint")
        self.hint: Optional[str] = hint if isinstance(hint, str) else None


class RefusedError(MvmError):
    """Exit 1: a condition mvm reports on purpose (a ref that exists, nothing tracked, an unsigned version...)."""


class GateFailedError(RefusedError):
    """Exit 1, GATE_FAILED: a deploy or promote refused by the env's gates (``data["failed"]`` says which)."""


class NothingToCommitError(RefusedError):
    """Exit 1, NOTHING_TO_COMMIT: metrics or params given to commit, but no tracked file changed.

    Record metrics on an existing version with :meth:`mvm.Repo.annotate` instead.
    """


class UsageError(MvmError):
    """Exit 2: the command line was wrong (bad value, bad --where expression, bad ref name, path outside...)."""


class RepositoryError(MvmError):
    """Exit 3: the folder is not (or already is) an mvm repository, or a remote is in a newer format."""


class NotARepositoryError(RepositoryError):
    """Exit 3, NOT_A_REPOSITORY: no ``.mvm`` in the folder or any parent; ``mvm.init(path)`` makes one."""


class AlreadyARepositoryError(RepositoryError):
    """Exit 3, ALREADY_A_REPOSITORY: init or clone where a repository exists."""


class NotFoundError(MvmError):
    """Exit 4: something named does not exist or is ambiguous (revision, path, env, remote...)."""


class ConflictError(MvmError):
    """Exit 5: local changes in the way (use ``force=True``), a non-fast-forward push, an env moved elsewhere."""


class LockedError(MvmError):
    """Exit 6, LOCKED: another mvm process holds the repository lock (``data["owner"]`` says which)."""


class CorruptError(MvmError):
    """Exit 7: an object or ref is missing or corrupt, here or on a remote, or a version is unsafe to write."""


class OperatingSystemError(MvmError):
    """Exit 8: the operating system refused (unreadable file, permission denied, disk full, other I/O error)."""


class CommandFailedError(MvmError):
    """Exit 9: a user command failed (an ``evaluate`` command, a deploy hook, ssh-keygen)."""


class RemoteError(MvmError):
    """Exit 10: a remote could not be used (unreachable, credentials, permission, missing, untrusted)."""


class CliNotFoundError(MvmError):
    """The mvm command line could not be found or started (code MVM_NOT_FOUND, exit_code 127)."""


class BadOutputError(MvmError):
    """mvm printed something that is not the JSON expected (code BAD_OUTPUT): a mismatch of versions."""


_BY_EXIT: Dict[int, Type[MvmError]] = {
    1: RefusedError,
    2: UsageError,
    3: RepositoryError,
    4: NotFoundError,
    5: ConflictError,
    6: LockedError,
    7: CorruptError,
    8: OperatingSystemError,
    9: CommandFailedError,
    10: RemoteError,
    127: CliNotFoundError,
}

_BY_CODE: Dict[str, Type[MvmError]] = {
    "GATE_FAILED": GateFailedError,
    "NOTHING_TO_COMMIT": NothingToCommitError,
    "NOT_A_REPOSITORY": NotARepositoryError,
    "ALREADY_A_REPOSITORY": AlreadyARepositoryError,
    "LOCKED": LockedError,
    "BAD_OUTPUT": BadOutputError,
    "MVM_NOT_FOUND": CliNotFoundError,
}


def error_for(code: str, message: str, exit_code: int, data: Optional[Dict[str, Any]] = None) -> MvmError:
    """The MvmError subclass for an error: by its code when it has its own class, else by its exit code."""
    cls = _BY_CODE.get(code) or _BY_EXIT.get(exit_code, MvmError)
    return cls(code, message, exit_code, data)

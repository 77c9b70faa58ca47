"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every file shendu writes (weights, model configs, checkpoints, logs rewritten on resume,
plots) goes through :func:`atomic_write`: the bytes go to a temporary file in the *same*
directory, which is flushed and ``fsync``-ed, then ``os.replace``-d over the target (an
atomic rename on POSIX and Windows), and finally the directory itself is ``fsync``-ed so the
rename survives a power cut. A process killed with SIGKILL at any moment leaves either the
previous file, untouched, or the complete new one, plus at worst a stray temporary file
``.NAME.PID-RANDOM.tmp``; the next write of NAME removes those whose process is gone.

Several files that belong together (a model's config, weights and metadata) are committed as
one by :func:`commit_files`, a small write-ahead journal: every new file is staged complete
beside its target, then one marker file naming them is written atomically (the commit point),
then they are renamed into place and the marker is removed. A kill before the marker leaves
the previous files; a kill after it leaves a committed save that readers see through
:func:`committed_paths` and that the next commit (or :func:`finish_commit`) completes.
"""

import contextlib
import json
import os
import re
import tempfile

from .files import read_regular_file

__all__ = [
    "atomic_write", "atomic_write_many", "atomic_open", "fsync_directory", "commit_files", "committed_paths",
    "finish_commit", "remove_stale_temporaries", "COMMIT_MARKER", "CommitError",
]  # fmt: skip

#: The journal file of an unfinished :func:`commit_files` (present only between its commit point and its end).
COMMIT_MARKER = ".shendu-commit.json"
_MARKER_LIMIT = 64 * 1024
_PID_TEMPORARY = re.compile(r"^(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp$")


class CommitError(OSError):
    """A commit marker that no shendu process wrote (damaged or tampered with)."""


def _temporary(directory, name):
    """A new, empty temporary file for ``name`` in ``directory``: (fd, path), named ``.NAME.PID-RANDOM.tmp``."""
    return tempfile.mkstemp(prefix=f".{name}.{os.getpid()}-", suffix=".tmp", dir=directory)


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(directory, name):
    """Remove the temporary files of interrupted writes of ``name`` in ``directory``.

    A temporary file ``.NAME.PID-RANDOM.tmp`` is stale when process PID no longer runs; older
    shendu versions wrote ``.NAME.RANDOM.tmp`` without a PID, and those are stale too. Files
    staged by a committed but unfinished :func:`commit_files` are completed, not removed, by
    :func:`finish_commit`, which runs first. Returns the number of files removed.
    """
    prefix = f".{name}."
    removed = 0
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return 0
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        match = _PID_TEMPORARY.match(entry[len(prefix) :])
        if match is not None and _process_alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(os.path.join(directory, entry))
            removed += 1
    return removed


def fsync_directory(directory):
    """``fsync`` a directory so a rename inside it is durable (a no-op where unsupported)."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows: directories cannot be opened for fsync
        return
    fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="wb", encoding=None):
    """Open a temporary file beside ``path``; on a clean exit it atomically replaces ``path``.

    If the ``with`` body raises, the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to (re)write.
        mode: ``"wb"`` or ``"w"``. Defaults to ``"wb"``.
        encoding: text encoding for ``"w"``. Defaults to UTF-8.

    Example:
        >>> with atomic_open("weights.bin") as f:
        ...     f.write(b"...")
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w'. Received: mode={mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(directory, os.path.basename(path))
    fd, tmp_path = _temporary(directory, os.path.basename(path))
    try:
        kwargs = {"encoding": encoding or "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; give it the permissions a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)
        raise
    fsync_directory(directory)


def atomic_write(path, data):
    """Write ``data`` (bytes or str) to ``path`` atomically; returns ``path``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write expects bytes or str; got {type(data).__name__}")
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return path


def atomic_write_many(files):
    """Write several files (``{path: bytes}``) so each is replaced atomically, all at the end.

    Every temporary file is written and ``fsync``-ed first; only then are they renamed over their
    targets, one after another. A kill while writing (the long part) leaves every old file intact.
    """
    staged = []
    try:
        for path, data in files.items():
            path = os.fspath(path)
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            remove_stale_temporaries(directory, os.path.basename(path))
            staged.append((_stage(directory, os.path.basename(path), data), path))
        for tmp_path, path in staged:
            os.replace(tmp_path, path)
    except BaseException:
        for tmp_path, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)
        raise
    for directory in {os.path.dirname(os.path.abspath(path)) for _, path in staged}:
        fsync_directory(directory)


def _stage(directory, name, data):
    """Write ``data`` complete and durable to a new temporary file for ``name``; returns its path."""
    fd, tmp_path = _temporary(directory, name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)
        raise
    return tmp_path


def _read_marker(directory):
    """``{target name: staged file name}`` of the commit marker in ``directory``, or None without one."""
    path = os.path.join(directory, COMMIT_MARKER)
    try:
        raw = read_regular_file(path, _MARKER_LIMIT, "commit marker", error=CommitError)
    except FileNotFoundError:
        return None
    try:
        journal = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CommitError(f"{path} is not a shendu commit marker (not JSON)") from None
    files = journal.get("files") if isinstance(journal, dict) else None
    if not (isinstance(files, dict) and journal.get("format") == "shendu.commit"):
        raise CommitError(f"{path} is not a shendu commit marker")
    for target, staged in files.items():
        # Only plain names inside this directory, staged as .TARGET.PID-RANDOM.tmp: a marker can
        # never make a reader look elsewhere or a writer rename anything else.
        ok = (
            isinstance(target, str) and isinstance(staged, str) and target and os.path.basename(target) == target
            and target not in (".", "..", COMMIT_MARKER) and staged.startswith(f".{target}.")
            and _PID_TEMPORARY.match(staged[len(target) + 2 :]) is not None and os.path.basename(staged) == staged
        )  # fmt: skip
        if not ok:
            raise CommitError(f"{path}: bad entry {target!r} -> {staged!r}")
    return files


def committed_paths(directory, names):
    """``{name: path}`` to read for each of ``names``: the committed version of every file.

    After a commit that was interrupted between its commit point and its end, some new files are
    still staged under temporary names; a reader takes those (the committed save) instead of the
    previous files that are still in place. Nothing is renamed: readers never write.
    """
    directory = os.fspath(directory)
    staged = _read_marker(directory) or {}
    paths = {}
    for name in names:
        candidate = staged.get(name)
        if candidate is not None and os.path.lexists(os.path.join(directory, candidate)):
            paths[name] = os.path.join(directory, candidate)
        else:
            paths[name] = os.path.join(directory, name)
    return paths


def finish_commit(directory):
    """Complete a commit that was interrupted after its commit point (a no-op without a marker)."""
    directory = os.fspath(directory)
    staged = _read_marker(directory)
    if staged is None:
        return False
    for target, name in staged.items():
        with contextlib.suppress(FileNotFoundError):
            os.replace(os.path.join(directory, name), os.path.join(directory, target))
    fsync_directory(directory)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(directory, COMMIT_MARKER))
    fsync_directory(directory)
    return True


def commit_files(directory, files):
    """Replace several files of ``directory`` (``{name: bytes or str}``) as one: all or none.

    Each file is staged complete and ``fsync``-ed; the commit marker naming them is then written
    atomically: a kill before that point leaves every previous file in place (the staged ones are
    removed by the next write), a kill after it leaves a save that :func:`committed_paths` reads
    and the next commit finishes. Leftovers of earlier interrupted writes are cleaned up first.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    finish_commit(directory)
    for name in files:
        if not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", "..", COMMIT_MARKER):
            raise ValueError(f"commit_files: {name!r} is not a plain file name")
        remove_stale_temporaries(directory, name)
    remove_stale_temporaries(directory, COMMIT_MARKER)
    staged = {}
    try:
        for name, data in files.items():
            staged[name] = os.path.basename(_stage(directory, name, data))
        atomic_write(os.path.join(directory, COMMIT_MARKER), json.dumps({"format": "shendu.commit", "files": staged}))
    except BaseException:
        committed = False
        with contextlib.suppress(Exception):
            committed = _read_marker(directory) == staged
        if committed:  # interrupted after the commit point: the save stands
            finish_commit(directory)
        else:
            for name in staged.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))
        raise
    finish_commit(directory)

"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every file shendu writes (weights, model configs, checkpoints, logs rewritten on resume,
plots) goes through :func:`atomic_write`: the bytes go to a temporary file in the *same*
directory, which is flushed and ``fsync``-ed, then ``os.replace``-d over the target (an
atomic rename on POSIX and Windows), and finally the directory itself is ``fsync``-ed so the
rename survives a power cut. A process killed with SIGKILL at any moment leaves either the
previous file, untouched, or the complete new one (plus, at worst, a stray ``.tmp`` file).
"""

import contextlib
import os
import tempfile

__all__ = ["atomic_write", "atomic_write_many", "atomic_open", "fsync_directory"]


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
    fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
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
            fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
            staged.append((tmp_path, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                handle.flush()
                os.fsync(handle.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        for tmp_path, path in staged:
            os.replace(tmp_path, path)
    except BaseException:
        for tmp_path, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)
        raise
    for directory in {os.path.dirname(os.path.abspath(path)) for _, path in staged}:
        fsync_directory(directory)

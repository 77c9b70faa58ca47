"""Reading files an attacker or an accident may have put in place: regular files only, bounded reads.

Every file shendu reads from a model folder, a checkpoint or a config goes through
:func:`read_regular_file`. It opens without blocking (a FIFO would otherwise wait forever for a
writer), refuses anything that is not a regular file once opened (FIFOs, sockets, devices such
as ``/dev/zero`` reached through a symlink, directories), and reads at most ``limit`` bytes:
the limit is enforced on the bytes actually read, never on ``os.path.getsize`` (0 for devices).
A symlink to a regular file is followed, as everywhere else.

Messages that quote a value taken from a file go through :func:`brief`, so no error is ever larger
than a few KB, whatever the input.
"""

import errno
import os
import reprlib
import stat

__all__ = ["read_regular_file", "open_regular_file", "brief", "NotARegularFileError", "MAX_MESSAGE_CHARS"]

#: No error message built from a file's content is longer than this.
MAX_MESSAGE_CHARS = 2000

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 8, 8, 8, 8
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 80, 80, 40


class NotARegularFileError(OSError):
    """A path names a FIFO, a socket, a device or a directory where a regular file was expected."""


def brief(value, limit=200):
    """A short repr of ``value`` for an error message: bounded in size and in the work to make it.

    ``reprlib`` stops after a few items per level and a few levels, so even a structure that
    expands to gigabytes (YAML aliases) or refers to itself costs microseconds.
    """
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded_message(message):
    """``message`` cut to :data:`MAX_MESSAGE_CHARS` characters."""
    message = str(message)
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 40] + f" … ({len(message) - MAX_MESSAGE_CHARS + 40:,} more characters)"


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def open_regular_file(path, what="file"):
    """Open ``path`` for binary reading; :class:`NotARegularFileError` unless it is a regular file.

    The open itself never blocks (``O_NONBLOCK``: a FIFO with no writer would hang a plain open);
    the descriptor is switched back to blocking reads once it is known to be a regular file.
    """
    path = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotARegularFileError(f"{what} {path} is a directory, not a regular file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFileError(f"{what} {path} is a loop of symbolic links, not a regular file") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(f"{what} {path} is {_kind(mode)}, not a regular file; shendu reads only regular files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path, limit, what="file", error=None):
    """The bytes of regular file ``path``, refusing it when it holds more than ``limit`` bytes.

    Args:
        path: the file.
        limit: the most bytes accepted. At most ``limit + 1`` bytes are ever read.
        what: how the file is named in messages. Defaults to ``"file"``.
        error: the exception class for a file over the limit. Defaults to ValueError.

    Raises:
        FileNotFoundError: no such file.
        NotARegularFileError: a FIFO, socket, device or directory.
        error: more than ``limit`` bytes.
    """
    with open_regular_file(path, what) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise (error or ValueError)(f"{what} {os.fspath(path)} is over the limit of {limit:,} bytes")
    return data

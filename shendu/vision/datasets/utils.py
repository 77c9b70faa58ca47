"""Downloading with checksums, written atomically; the base class of vision datasets."""

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request

from ...utils.data import Dataset

__all__ = ["VisionDataset", "DownloadError", "ChecksumError", "md5sum", "download_url", "download_from_mirrors"]

_USER_AGENT = "shendu (https://pypi.org/project/shendu)"


class DownloadError(RuntimeError):
    """A file could not be fetched from any mirror."""


class ChecksumError(DownloadError):
    """A downloaded (or found) file's checksum differs from the expected one."""


def md5sum(path, chunk_size=1 << 20):
    """The MD5 hex digest of a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_url(url, path, md5=None, timeout=30.0):
    """Fetch ``url`` into ``path``, verifying its MD5; nothing is left at ``path`` unless it is complete and correct.

    The bytes stream into a temporary file in the same directory, which is checked and then renamed
    over ``path`` (``os.replace``); on any failure the temporary file is removed.

    Raises:
        ChecksumError: the content's MD5 is not ``md5``.
        OSError, urllib.error.URLError: the transfer failed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            expected_length = response.headers.get("Content-Length")
            received = 0
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        if expected_length is not None and received != int(expected_length):
            raise DownloadError(f"{url}: transfer cut short: received {received} of {expected_length} bytes")
        if md5 is not None and digest.hexdigest() != md5:
            raise ChecksumError(
                f"checksum mismatch for {os.path.basename(path)} from {url}: expected MD5 {md5}, "
                f"got {digest.hexdigest()}; the download was discarded"
            )
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def download_from_mirrors(mirrors, filename, folder, md5=None, timeout=30.0):
    """Fetch ``filename`` from the first mirror (a base URL) that serves it with the right checksum.

    Raises:
        ChecksumError: some mirror served wrong content and none served the right one.
        DownloadError: no mirror could be reached. Either message lists every attempt.
    """
    if not mirrors:
        raise DownloadError(f"no mirrors to download {filename} from")
    path = os.path.join(folder, filename)
    failures, corrupted = [], False
    for mirror in mirrors:
        url = mirror if mirror.endswith(filename) else mirror.rstrip("/") + "/" + filename
        print(f"Downloading {url} to {path}", file=sys.stderr)
        try:
            return download_url(url, path, md5=md5, timeout=timeout)
        except ChecksumError as error:
            corrupted = True
            failures.append(str(error))
        except (urllib.error.URLError, http.client.HTTPException, OSError, DownloadError) as error:
            failures.append(f"{url}: {error}")
    error_class = ChecksumError if corrupted else DownloadError
    raise error_class(f"could not download {filename}:\n  " + "\n  ".join(failures))


class VisionDataset(Dataset):
    """Base of the vision datasets: a root folder, a ``transform`` for inputs and a ``target_transform`` for labels."""

    def __init__(self, root=None, transform=None, target_transform=None):
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        for name, value in (("transform", transform), ("target_transform", target_transform)):
            if value is not None and not callable(value):
                raise TypeError(f"{name} should be callable or None; got {type(value).__name__}")
        self.transform = transform
        self.target_transform = target_transform

    def _apply_transforms(self, sample, target):
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [line for line in self.extra_repr().splitlines() if line]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)

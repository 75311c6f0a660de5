"""Files replaced whole or not at all: written to a temporary file beside the target, flushed
to disk, then renamed over it. A crash, a kill or a full disk mid-write leaves the earlier file
exactly as it was (an export or backup is often the only copy of the books)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s directory to write; renamed to ``path`` when the block
    ends without an error, removed otherwise."""
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    # Same directory: a rename within one file system is atomic.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        _fsync(temp)
        if path.exists():  # keep the earlier file's permissions (a backup may be private)
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
        _fsync_dir(directory)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_chunks(path: Path, chunks: Iterable[str]) -> None:
    """Write text (UTF-8) to ``path`` atomically, chunk by chunk."""
    with replacing(path) as temp, open(temp, "w", encoding="utf-8") as out:
        _write_all(out, chunks)


def _write_all(out: IO[str], chunks: Iterable[str]) -> None:
    for chunk in chunks:
        out.write(chunk)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Files and directories written whole or not at all: a new one beside the target, renamed
over it only when it is complete, so that an error or Ctrl-C leaves no partial file or
directory and an existing one as it was."""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import BinaryIO


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (a pathlib.Path) to write; when the block ends
    without an exception, the temporary file is flushed to disk and renamed over ``path``;
    on any exception (KeyboardInterrupt included) it is deleted and ``path`` is untouched."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


@contextlib.contextmanager
def replacing_directory(path: Path) -> Iterator[Path]:
    """Yield a new temporary directory beside ``path`` to fill; when the block ends without
    an exception it is flushed and renamed to ``path`` (an earlier directory there is moved
    aside first and removed after); on any exception it is removed and ``path`` is
    untouched."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    os.mkdir(temporary)
    try:
        yield temporary
        _fsync_directory(temporary)
        old = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.old")
        if path.exists():
            os.rename(path, old)
        os.rename(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _fsync_directory(path.parent)
    shutil.rmtree(old, ignore_errors=True)


def create_new(temporary: str | os.PathLike[str]) -> BinaryIO:
    """A binary file object on ``temporary``, which must not exist yet (os.open applies the
    umask, so the file gets the permissions of any new file)."""
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    return os.fdopen(fd, "wb")


def _fsync(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Make a rename in ``directory`` durable (POSIX only; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except (AttributeError, OSError):
        return
    try:
        os.fsync(fd)
    except OSError:                    # some file systems cannot sync a directory
        pass
    finally:
        os.close(fd)

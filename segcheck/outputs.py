"""Writing output files without ever destroying evidence.

Every file segcheck writes (`-o FILE`, `scan --extract`, the `report` folder) goes through
here, so the same rules hold everywhere:

- never through a symbolic link: a link at the output's own name is refused, since a planted
  (or forgotten) link would redirect the write onto a file elsewhere; links among the parent
  folders are followed as usual (a symlinked home or /tmp is fine);
- never onto an input of the run: same device and inode (hard links, and symbolic links on the
  input side) or the same resolved path;
- an existing file is replaced only when the caller allows it (`--force` where a command has
  it), and only atomically: the bytes go to a new temporary file in the same folder (O_EXCL,
  O_NOFOLLOW), are fsynced, then renamed over the name, so a reader sees the old file or the
  new one and a failure leaves the old one untouched;
- a FIFO or device (`-o /dev/null`) is written in place: renaming over it would replace the
  device node itself (so a write failing mid-way may leave part of it there).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError

StrPath = str | os.PathLike[str]


class OutputRefused(UsageError):
    """Writing the output would destroy or redirect something: a link, an input, a folder."""


class OutputExists(OutputRefused):
    """The output already exists and the caller did not allow replacing it."""


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputRefused(f"{path}: a parent of this path is not a folder") from None
    except OSError as exc:
        raise OutputRefused(f"{path}: cannot write: {exc.strerror}") from None


def same_file(a: StrPath, b: StrPath) -> bool:
    """True when both names reach one file: same inode (through any links) or resolved path."""
    try:
        sa, sb = os.stat(a), os.stat(b)
        if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
            return True
    except (OSError, ValueError):
        pass
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def check_output(path: StrPath, *, inputs: Iterable[StrPath] = (), replace: bool = True) -> None:
    """Raise OutputRefused when `path` may not be written; cheap, so callers check before work.

    `replace` False refuses an existing file too (OutputExists). A missing parent folder is an
    error rather than created: a typo in the folder should not scatter evidence.
    """
    target = Path(path)
    st = _lstat(target)
    for item in inputs:
        if same_file(target, item):
            alias = "" if os.fspath(item) == os.fspath(path) else f" ({os.fspath(item)})"
            raise OutputRefused(
                f"{target}: is an input of this run{alias}; refusing to overwrite evidence"
            )
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise OutputRefused(
            f"{target}: is a symbolic link; segcheck never writes through a link "
            "(remove it or choose another name)"
        )
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputRefused(f"{target}: is a folder, not a file name")
    if st is None:
        parent = target.parent
        if not parent.is_dir():
            what = "is not a folder" if parent.exists() else "does not exist"
            raise OutputRefused(f"{target}: folder {parent} {what}")
    elif not replace and stat.S_ISREG(st.st_mode):
        raise OutputExists(f"{target}: exists; use --force to replace it")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not every platform or file system allows it, hence best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_beside(target: Path) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue  # another writer's temporary file: draw another name


def _publish(temp: Path, target: Path, replace: bool) -> None:
    if replace:
        os.replace(temp, target)  # rename(2) replaces a link itself, never its target
        return
    try:
        os.link(temp, target)  # fails if the name appeared meanwhile: never clobbers
    except FileExistsError:
        raise OutputExists(f"{target}: exists; use --force to replace it") from None
    except OSError:
        # A file system without hard links: check once more, then rename.
        if os.path.lexists(target):
            raise OutputExists(f"{target}: exists; use --force to replace it") from None
        os.replace(temp, target)
        return
    os.unlink(temp)


class OutputFile:
    """The file handed to a writer: a failed write names the output, not a traceback."""

    def __init__(self, f: BinaryIO, target: Path) -> None:
        self._f = f
        self._target = target

    def write(self, data: bytes) -> None:
        try:
            self._f.write(data)
        except OSError as exc:
            raise OutputRefused(f"{self._target}: cannot write: {exc.strerror}") from None


@contextmanager
def open_output(
    path: StrPath, *, inputs: Iterable[StrPath] = (), replace: bool = True
) -> Iterator[OutputFile]:
    """A file to write `path` through; published atomically when the block succeeds.

    If the block raises, the temporary file is removed and any old file stays as it was.
    """
    target = Path(path)
    check_output(target, inputs=tuple(inputs), replace=replace)
    st = _lstat(target)
    if st is not None and not stat.S_ISREG(st.st_mode):
        flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            special = os.fdopen(os.open(target, flags), "wb")
        except OSError as exc:
            raise OutputRefused(f"{target}: cannot write: {exc.strerror}") from None
        with special:
            yield OutputFile(special, target)
        return
    try:
        fd, temp = _temp_beside(target)
    except OSError as exc:
        raise OutputRefused(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))  # a replaced file keeps its mode
            yield OutputFile(f, target)
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError as exc:
                raise OutputRefused(f"{target}: cannot write: {exc.strerror}") from None
        try:
            _publish(temp, target, replace)
        except OSError as exc:
            raise OutputRefused(f"{target}: cannot write: {exc.strerror}") from None
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)


def write_output(
    path: StrPath, data: bytes, *, inputs: Iterable[StrPath] = (), replace: bool = True
) -> None:
    """Write `data` to `path` under the rules above."""
    write_chunks(path, (data,), inputs=inputs, replace=replace)


def write_chunks(
    path: StrPath, chunks: Iterable[bytes], *, inputs: Iterable[StrPath] = (), replace: bool = True
) -> None:
    """Write `chunks` to `path` under the rules above, each as it is made (a report rendered
    in runs of findings is never held whole). `path` shows the old file, or all the chunks:
    if making or writing one fails, the temporary file goes and the error propagates."""
    with open_output(path, inputs=inputs, replace=replace) as f:
        for chunk in chunks:
            f.write(chunk)

"""Inbox containment: every file is opened relative to the inbox, one folder at a time,
without following a link, and read, hashed and disposed of through what was opened.

The stability tracker remembers paths for seconds; in that time anyone who can write to
the inbox can replace a folder on the path with a symbolic link to anywhere (security
review C1). ``lstat`` checks only the last component, so the capture then read, deleted
or moved a file outside the inbox. Here each component is opened with ``O_NOFOLLOW``
from the folder before it, the file is checked with ``fstat`` on its descriptor (a
regular file with one link on the inbox's device), and the source is removed or moved
only through its folder's descriptor, after checking the name still is that file and
the folder still lies inside the inbox.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from papervault.ingest.errors import Rejected

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass
class Entry:
    """One inbox entry reached without following links.

    ``dir_fd`` is the folder that holds ``name``; ``folder`` is that folder relative to
    the inbox. When a folder on the way is a link, ``name`` is that link and ``nested``
    says the file asked for lay below it.
    """

    inbox: Path
    inbox_st: os.stat_result
    dir_fd: int
    folder: Path
    name: str
    nested: bool = False
    fd: int | None = None
    st: os.stat_result | None = None
    _fds: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in (*self._fds, *([self.fd] if self.fd is not None else [])):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self.fd = None

    def __enter__(self) -> Entry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reader(self) -> BinaryIO:
        """A file object over the opened file, from its start (a new descriptor each
        time, so closing it leaves the entry usable)."""
        if self.fd is None:
            raise ValueError("the file is not open")
        f = os.fdopen(os.dup(self.fd), "rb")
        f.seek(0)
        return f

    def still_here(self) -> bool:
        """The name in its folder is still the file that was read, and the folder still
        lies inside the inbox (not moved out of it after it was opened)."""
        if self.st is None:
            return False
        try:
            now = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except OSError:
            return False
        if (now.st_dev, now.st_ino) != (self.st.st_dev, self.st.st_ino):
            return False
        return inside(self.dir_fd, self.inbox)

    def link_still_here(self) -> bool:
        """For a link or other non-file entry: it is still in a folder inside the inbox."""
        return inside(self.dir_fd, self.inbox)


def inside(dir_fd: int, inbox: Path) -> bool:
    """Does the folder open as ``dir_fd`` resolve to the inbox or below it now?"""
    try:
        where = Path(f"/proc/self/fd/{dir_fd}").readlink()
    except OSError:
        return False
    return where.is_relative_to(inbox.resolve())


def locate(inbox: Path, path: Path) -> Entry:
    """Walk from ``inbox`` to ``path`` one folder at a time, never following a link.

    Returns the entry (not yet opened). A missing folder raises ``FileNotFoundError``;
    a path outside the inbox raises :class:`Rejected`.
    """
    try:
        parts = path.relative_to(inbox).parts
    except ValueError as e:
        raise Rejected("outside_inbox") from e
    if not parts or any(p in ("..", ".") for p in parts):
        raise Rejected("outside_inbox")
    # The inbox itself is the administrator's setting and may be a link (to a mounted
    # share); only what lies below it is the scanning staff's and never followed.
    root = os.open(inbox, _DIR_FLAGS & ~os.O_NOFOLLOW)
    fds = [root]
    try:
        inbox_st = os.fstat(root)
        here = root
        for i, part in enumerate(parts[:-1]):
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=here)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    # A link (or a file) where a folder should be: it is the entry.
                    return Entry(inbox, inbox_st, here, Path(*parts[:i]), part,
                                 nested=True, _fds=fds)
                raise
            fds.append(nxt)
            here = nxt
        return Entry(inbox, inbox_st, here, Path(*parts[:-1]), parts[-1], _fds=fds)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def open_file(entry: Entry, max_bytes: int) -> int:
    """Open the entry as a regular file and return its size; raise :class:`Rejected`
    for links, FIFOs, devices, folders, hard links, other devices and bad sizes."""
    if entry.nested:
        raise Rejected("not_a_regular_file", kind="symbolic link (folder)")
    st = os.stat(entry.name, dir_fd=entry.dir_fd, follow_symlinks=False)
    _check_kind(st)
    try:
        fd = os.open(entry.name, _FILE_FLAGS, dir_fd=entry.dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:  # swapped for a link between stat and open
            raise Rejected("not_a_regular_file", kind="symbolic link") from e
        if e.errno in (errno.EACCES, errno.EPERM):
            raise Rejected("unreadable") from e
        raise
    entry.fd = fd
    fst = os.fstat(fd)
    if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        raise Rejected("not_a_regular_file", kind="replaced while opened")
    _check_kind(fst)
    if fst.st_dev != entry.inbox_st.st_dev:
        raise Rejected("not_a_regular_file", kind="on another file system")
    if fst.st_nlink > 1:
        # A hard link may name a file the person who made it cannot read.
        raise Rejected("not_a_regular_file", kind="hard link")
    if fst.st_size == 0:
        raise Rejected("empty_file")
    if fst.st_size > max_bytes:
        raise Rejected("file_too_large", size=fst.st_size // 2**20, limit=max_bytes // 2**20)
    entry.st = fst
    return fst.st_size


def _check_kind(st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise Rejected("not_a_regular_file", kind="symbolic link")
    if stat.S_ISFIFO(st.st_mode):
        raise Rejected("not_a_regular_file", kind="FIFO")
    if stat.S_ISSOCK(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise Rejected("not_a_regular_file", kind="device or socket")
    if not stat.S_ISREG(st.st_mode):
        raise Rejected("not_a_regular_file", kind="directory")


def open_target_dir(base: Path, folder: Path) -> int:
    """Open (creating) ``base/folder`` one component at a time without following links:
    the quarantine and done folders are ours, but their sub-folder names come from the
    inbox."""
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    here = os.open(base, _DIR_FLAGS)
    try:
        for part in folder.parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=here)
            nxt = os.open(part, _DIR_FLAGS, dir_fd=here)
            os.close(here)
            here = nxt
    except BaseException:
        os.close(here)
        raise
    return here

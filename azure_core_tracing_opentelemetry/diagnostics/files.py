"""Opening the files the layers append to: created with mode 0600, never through a link.

The log file and the KVP pool sit in directories other users may write to (a pool directory
made world-writable, a log path in ``/tmp``): a symbolic link planted at the path would have a
root process append to, or create, whatever file it names. ``O_NOFOLLOW`` refuses it. A hard
link planted there names another file too: a regular file with more than one link is refused.
A FIFO would block the open (and every write) forever: the open does not wait, and only a
regular file or a character device (``/dev/null``, a terminal) is taken.

A log file's missing parent directories are created 0700 (``create_parent_dirs``): a log may
hold what a provisioning agent saw, and a directory only its owner can enter keeps it so.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat

APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
SYMLINK_REFUSED = "it is a symbolic link, which is never followed"
HARD_LINK_REFUSED = "it is a file with more than one name (a hard link), which is never written"
KIND_REFUSED = "it is neither a regular file nor a character device"
DIRECTORY_MODE = 0o700


def open_for_append(path: str) -> int:
    """A descriptor appending to ``path``, which is created with mode 0600 if missing.

    An ``OSError`` when it cannot be opened; for a symbolic link, live or dangling, one with
    ``errno.ELOOP`` whose ``strerror`` is ``SYMLINK_REFUSED``.
    """
    return open_checked(path, APPEND_FLAGS, single_name=True)


def open_checked(path: str, flags: int, *, single_name: bool) -> int:
    """``os.open(path, flags)`` (mode 0600 when created), never through a symbolic link, only
    a regular file (with one name when ``single_name``) or a character device, never blocking
    on the open. An ``OSError`` otherwise, with the messages above.
    """
    try:
        # The mode applies only when the file is created; umask can only narrow it.
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as error:
        # ELOOP is also "too many links" on the way; only the last part is refused unfollowed.
        if error.errno == errno.ELOOP and os.path.islink(path):
            raise OSError(errno.ELOOP, SYMLINK_REFUSED, path) from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            if single_name and info.st_nlink > 1:
                raise OSError(errno.EMLINK, HARD_LINK_REFUSED, path)
        elif not stat.S_ISCHR(info.st_mode):
            raise OSError(errno.EINVAL, KIND_REFUSED, path)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_parent_dirs(path: str) -> None:
    """Create the missing directories above ``path``, each with mode 0700 whatever the umask;
    directories that exist are left as they are. An ``OSError`` when one cannot be made."""
    missing: list[str] = []
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(parent):
        missing.append(parent)
        above = os.path.dirname(parent)
        if above == parent:
            break
        parent = above
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIRECTORY_MODE)
        except FileExistsError:
            if os.path.isdir(directory):
                continue  # made by someone else meanwhile: theirs, left as it is
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory) from None
        # The umask can only take bits away, and here only the owner's own: a directory its
        # owner cannot enter would hold no log at all.
        if stat.S_IMODE(os.stat(directory).st_mode) != DIRECTORY_MODE:
            os.chmod(directory, DIRECTORY_MODE)

"""Opening the files the layers append to: created with mode 0600, never through a link.

The log file and the KVP pool sit in directories other users may write to (a pool directory
made world-writable, a log path in ``/tmp``): a symbolic link planted at the path would have a
root process append to, or create, whatever file it names. ``O_NOFOLLOW`` refuses it.
"""

from __future__ import annotations

import errno
import os

APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
SYMLINK_REFUSED = "it is a symbolic link, which is never followed"


def open_for_append(path: str) -> int:
    """A descriptor appending to ``path``, which is created with mode 0600 if missing.

    An ``OSError`` when it cannot be opened; for a symbolic link, live or dangling, one with
    ``errno.ELOOP`` whose ``strerror`` is ``SYMLINK_REFUSED``.
    """
    try:
        # The mode applies only when the file is created; umask can only narrow it.
        return os.open(path, APPEND_FLAGS, 0o600)
    except OSError as error:
        # ELOOP is also "too many links" on the way; only the last part is refused unfollowed.
        if error.errno == errno.ELOOP and os.path.islink(path):
            raise OSError(errno.ELOOP, SYMLINK_REFUSED, path) from None
        raise

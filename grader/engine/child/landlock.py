"""Landlock through raw syscalls: restrict a process's file access, TCP and signals.

Only allow-lists exist in Landlock: a ruleset grants read (and execute) below each ``read``
path, directory listing on each ``listed`` path, every right below each ``write`` path, device
use of each ``devices`` node, and nothing anywhere else; from ABI 4 no TCP bind or connect; from
ABI 6 no signals to, and no abstract UNIX sockets of, processes outside the sandbox's domain.
``ruleset`` builds a ruleset, ``enforce`` applies one to the calling process; a rule holds an
inode, not a path, so the fork server builds one for all its sandboxes where they share the
host's file system.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

# Syscall numbers: the same on every architecture with the unified syscall table.
SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1  # flag of landlock_create_ruleset: return the ABI version
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights (include/uapi/linux/landlock.h).
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
FS_ABI1 = (1 << 13) - 1

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

FILE_ONLY_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE
DEVICE = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]


def fs_rights(abi: int) -> int:
    """Every filesystem right the kernel's ABI knows (all are handled, so all are denied)."""
    rights = FS_ABI1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def ruleset(read: list[str], listed: list[str], write: list[str],
            devices: list[str], tcp: bool = True) -> tuple[int | None, str]:
    """A ruleset file descriptor with the allow-lists (``None`` where Landlock is unavailable),
    and a line saying what it holds or why it is unavailable. Paths that do not exist are
    skipped. ``tcp``: deny every TCP bind and connect too (not needed in a network namespace
    of the sandbox's own, where loopback reaches only the sandbox)."""
    if not sys.platform.startswith("linux") or platform.machine() == "alpha":
        return None, "unavailable: Landlock needs Linux"
    libc = _libc()
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(CREATE_RULESET_VERSION))
    if abi < 1:
        return None, "unavailable: the kernel has no Landlock"
    handled = fs_rights(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 and tcp else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(handled, net, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    fd = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        return None, f"unavailable: landlock_create_ruleset failed (errno {ctypes.get_errno()})"
    grants = ([(p, READ) for p in read] + [(p, FS_READ_DIR) for p in listed]
              + [(p, handled) for p in write] + [(p, DEVICE) for p in devices])
    for path, access in grants:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            access &= FILE_ONLY_RIGHTS
        rule = _PathBeneath(access & handled, target)
        libc.syscall(SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(RULE_PATH_BENEATH),
                     ctypes.byref(rule), ctypes.c_uint32(0))
        os.close(target)
    parts = ["files"] + (["tcp"] if net else []) + (["signals"] if scoped else [])
    return fd, f"landlock ABI {abi}: " + ", ".join(parts)


def enforce(fd: int) -> str | None:
    """Restrict this process (and its future children) to ruleset ``fd`` for good; return
    why that failed, or ``None``."""
    libc = _libc()
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return "PR_SET_NO_NEW_PRIVS failed"
    if libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
        return f"landlock_restrict_self failed (errno {ctypes.get_errno()})"
    return None

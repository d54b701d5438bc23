"""A private root for each sandbox: only what it may see, and its own /tmp, /dev/shm and /proc.

``build`` runs once in the fork server (which has its own user and mount namespaces): a tmpfs
holding read-only bind mounts of the view's paths, its symlinks, the allowed device nodes and
empty mountpoints, then made read-only itself, so that no sandbox can leave anything in it.
``enter`` runs in each sandbox's first process: a new mount and IPC namespace, fresh tmpfs on
/tmp and /dev/shm, the scratch folder on ``SCRATCH``, a fresh /proc of the sandbox's own PID
namespace (kernel knobs read-only, kernel memory and keys masked), then ``pivot_root`` into it
and the host's tree detached: the rest of the host is not merely unreadable, it is not there.
"""

from __future__ import annotations

import os

from . import linux

SCRATCH = "/sandbox"
TMPFS = ("/tmp", "/dev/shm")
PROC_READONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
PROC_MASKED = ("kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats")
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"))


def _make_parents(base: str, path: str) -> None:
    parent = base + os.path.dirname(path)
    real = os.path.realpath(parent)
    if real != base and not real.startswith(base + "/"):
        raise OSError(f"{path} would leave the sandbox's root through a symlink")
    os.makedirs(parent, mode=0o755, exist_ok=True)


def _bind_into(base: str, source: str, readonly: bool) -> None:
    """Bind ``source`` at the same path below ``base``, creating its mountpoint.

    A folder with mounts below it that this user namespace may not uncover (locked) is bound
    with those mounts, each made read-only in turn; ``/sys`` is a fresh sysfs of the fork
    server's network namespace instead (no host network devices, no cgroup mounts).
    """
    target = base + source
    _make_parents(base, source)
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        with open(target, "w"):
            pass
    if source == "/sys":
        try:
            linux.mount("sysfs", target, "sysfs", linux.MS_RDONLY | linux.MS_NOSUID
                        | linux.MS_NODEV | linux.MS_NOEXEC)
            return
        except OSError:
            pass
    try:
        linux.mount(source, target, None, linux.MS_BIND)
        points = [target]
    except OSError as exc:
        if exc.errno != 22:  # EINVAL: it has locked mounts below, which must come along
            raise
        linux.mount(source, target, None, linux.MS_BIND | linux.MS_REC)
        points = _mounts_below(target)
    for point in points if readonly else []:
        linux.mount(None, point, None, linux.MS_BIND | linux.MS_REMOUNT | linux.MS_RDONLY
                    | linux.MS_NOSUID | linux.MS_NODEV | linux.kept_flags(point))


def _mounts_below(target: str) -> list[str]:
    """Mount points at or below ``target`` in this mount namespace, outermost first."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == target or point.startswith(target + "/"):
                points.append(point)
    return sorted(set(points), key=len)


def _inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def build(base: str, view: dict) -> None:
    """Fill the empty folder ``base`` with the shared, read-only part of every sandbox's root."""
    linux.mount("tmpfs", base, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV,
                "mode=0755,size=16m,nr_inodes=65536")
    bound: list[str] = []
    for path in sorted(view["listed"]):
        if not _inside(path, bound):
            os.makedirs(base + path, mode=0o755, exist_ok=True)
    for path, target in sorted(view["links"]):
        if not _inside(path, bound) and not os.path.lexists(base + path):
            _make_parents(base, path)
            os.symlink(target, base + path)
    for path in sorted(view["read"]):
        if os.path.exists(path) and not _inside(path, bound):
            _bind_into(base, path, readonly=True)
            bound.append(path)
    os.makedirs(base + "/dev", mode=0o755, exist_ok=True)
    for device in view["devices"]:
        if os.path.exists(device):
            _bind_into(base, device, readonly=False)
    for name, target in DEV_LINKS:
        os.symlink(target, f"{base}/dev/{name}")
    for path in (*TMPFS, "/proc", SCRATCH):
        os.makedirs(base + path, mode=0o755, exist_ok=True)
    linux.mount(None, base, None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID
                | linux.MS_NODEV, "mode=0755")


def enter(base: str, scratch: str, tmpfs_bytes: int) -> None:
    """Move this process (the init of a new PID namespace) into its own copy of the root;
    ``tmpfs_bytes`` bounds each of /tmp and /dev/shm (their pages are memory)."""
    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWIPC)
    size = f"mode=1777,size={tmpfs_bytes},nr_inodes=65536"
    for path in TMPFS:
        # What the view holds below /tmp (a venv made there) goes on top of the fresh tmpfs.
        kept = {name: os.open(f"{base}{path}/{name}", os.O_PATH)
                for name in os.listdir(base + path)}
        linux.mount("tmpfs", base + path, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, size)
        for name, fd in kept.items():
            target = f"{base}{path}/{name}"
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.mkdir(target)
            else:
                open(target, "w").close()
            linux.mount(f"/proc/self/fd/{fd}", target, None, linux.MS_BIND | linux.MS_REC)
            os.close(fd)
    linux.bind(scratch, base + SCRATCH, readonly=False)
    linux.mount(None, base + SCRATCH, None, linux.MS_BIND | linux.MS_REMOUNT | linux.MS_NOSUID
                | linux.MS_NODEV | linux.kept_flags(scratch))
    proc = base + "/proc"
    linux.mount("proc", proc, "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    for name in PROC_READONLY:
        if os.path.exists(f"{proc}/{name}"):
            linux.bind(f"{proc}/{name}", f"{proc}/{name}", readonly=True)
    for name in PROC_MASKED:
        if os.path.isfile(f"{proc}/{name}"):
            linux.bind(base + "/dev/null", f"{proc}/{name}", readonly=True)
    os.chdir(base)
    linux.pivot_root(".", ".")
    linux.detach(".")
    os.chdir("/")


def own_user_namespace() -> None:
    """Move into a new user namespace that maps only this process's ids (``OSError`` if the
    kernel refuses).

    From then on the sandbox's mounts belong to a namespace it has no privilege in, and its
    processes, keys and ``RLIMIT_NPROC`` count are its own rather than the fork server's.
    """
    uid, gid = os.geteuid(), os.getegid()
    linux.unshare(linux.CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                       ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)

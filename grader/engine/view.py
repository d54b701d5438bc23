"""What a sandbox may see of the file system: one description for both isolation layers.

The view is an allow-list computed once per grading process from the running interpreter and
the course: the system's libraries and programs (``/usr``, ``/lib*``, ``/bin``, ``/sbin``),
what any local user may read in ``/etc``, the interpreter's prefixes and the sandbox's
``sys.path`` folders, the toolbox's module files, ``/sys``, a few device nodes. Hidden below
those roots, wherever the project is installed (editable, wheel, a system prefix, a
``--target`` folder): the protected packages (``Course.protected``, found by import), every
file of the project's distribution (``Course.distribution``, from its metadata) except the
toolbox's, anything in a ``sys.path`` folder named like them, the prefixes' dot-folders, and
whatever in ``/etc`` is not world-readable (``/etc/shadow``, private keys).

Landlock can only allow, so a root with something hidden below it is split: the folders on
the way to a hidden path are ``listed`` (their names visible) and every other entry is granted
whole (``read``); symlinks met on the way are kept as ``links``. The fork server binds exactly
this into each sandbox's private root and, where it cannot, gives the same lists to Landlock.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import site
import stat
import sys
import sysconfig
from dataclasses import dataclass, field
from functools import cache
from glob import glob
from pathlib import Path

from grader.engine.options import Course

SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/sys")
WORLD_READABLE = ("/etc",)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


@dataclass
class View:
    """Paths a sandbox may read whole, folders it may list, symlinks, device nodes, and the
    ``sys.path`` it imports from."""

    read: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    sys_path: list[str] = field(default_factory=list)

    def as_config(self) -> dict:
        """The view as the fork server receives it (JSON)."""
        return {"read": self.read, "listed": self.listed, "links": self.links,
                "devices": self.devices}


@cache
def toolbox_dir(package: str) -> Path:
    """The folder of the toolbox package, found without importing it."""
    return Path(importlib.util.find_spec(package).origin).parent


def toolbox_files(package: str) -> list[str]:
    """The toolbox's module files, which student code may read."""
    return sorted(str(p) for p in toolbox_dir(package).glob("*.py")
                  if p.name != "nbgrader_config.py")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _named_protected(entry: str, course: Course) -> bool:
    """Whether a ``sys.path`` folder's entry is named like the project's protected code."""
    stem = entry.split(".", 1)[0].split("-", 1)[0]
    dist = _normal(course.distribution) if course.distribution else None
    return (stem in course.protected or entry.startswith("__editable__")
            or bool(dist) and _normal(entry).startswith(dist))


def sandbox_sys_path(course: Course) -> list[str]:
    """The sandbox's ``sys.path``: the standard library, the interpreter's site folders (as this
    process has them, ``.pth`` additions included) and the toolbox's parent folder."""
    paths = sysconfig.get_paths()
    wanted = [paths[k] for k in ("stdlib", "platstdlib") if paths.get(k)]
    wanted += [p for p in sys.path if p.endswith("lib-dynload")]
    sites = [paths.get("purelib"), paths.get("platlib"), *site.getsitepackages()]
    sites += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    ordered = [p for p in sys.path if p in sites] + [p for p in sites if p not in sys.path]
    out: list[str] = []
    for path in [*wanted, *ordered, str(toolbox_dir(course.toolbox).parent)]:
        if path and os.path.isdir(path) and path not in out:
            out.append(path)
    return out


def protected_paths(course: Course, folders: list[str]) -> set[str]:
    """Where the protected packages and the distribution's files are (real paths)."""
    found: set[str] = set()
    for name in course.protected:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        found.update(spec.submodule_search_locations or [])
        if spec.has_location and spec.origin and not spec.submodule_search_locations:
            found.add(spec.origin)
    toolbox = os.path.realpath(toolbox_dir(course.toolbox))
    if course.distribution:
        try:
            dist = importlib.metadata.distribution(course.distribution)
        except importlib.metadata.PackageNotFoundError:
            dist = None
        for file in (dist.files or []) if dist else []:
            path = os.path.realpath(dist.locate_file(file))
            if not _under(path, toolbox):
                found.add(path)
        if dist is not None and hasattr(dist, "_path"):
            found.add(str(dist._path))
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        found.update(os.path.join(folder, e) for e in entries if _named_protected(e, course))
    return {os.path.realpath(p) for p in found}


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _unreadable(top: str) -> set[str]:
    """Everything below ``top`` that a local user other than its owner could not read."""
    hidden: set[str] = set()
    for folder, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                continue
            if stat.S_ISDIR(mode):
                readable = mode & 0o005 == 0o005
                if not readable:
                    dirs.remove(name)
            else:
                readable = stat.S_ISREG(mode) and mode & 0o004
            if not readable:
                hidden.add(path)
    return hidden


def _dot_entries(prefix: str) -> set[str]:
    try:
        return {os.path.join(prefix, e) for e in os.listdir(prefix) if e.startswith(".")}
    except OSError:
        return set()


def _links_along(path: str, links: list[tuple[str, str]]) -> str:
    """Record the symlinks on the way to ``path``; return its real path."""
    parts = Path(path).parts
    current = "/"
    for part in parts[1:]:
        current = os.path.join(current, part)
        if os.path.islink(current):
            links.append((current, os.readlink(current)))
            current = os.path.realpath(current)
    return os.path.realpath(path)


def _split(root: str, hidden: set[str], view: View) -> None:
    """Grant ``root`` whole, or list it and visit its entries where something is hidden below."""
    ancestors = {os.path.dirname(h) for h in hidden if _under(h, root)}
    for path in list(ancestors):
        while path != root and _under(path, root):
            path = os.path.dirname(path)
            ancestors.add(path)

    def visit(path: str) -> None:
        if path in hidden:
            return
        if os.path.islink(path):
            view.links.append((path, os.readlink(path)))
        elif path in ancestors:
            view.listed.append(path)
            for name in sorted(os.listdir(path)):
                visit(os.path.join(path, name))
        elif os.path.isdir(path) or os.path.isfile(path):
            view.read.append(path)

    visit(root)


@cache
def sandbox_view(course: Course) -> View:
    """The file system a sandbox of ``course`` sees (computed once per process)."""
    view = View(sys_path=sandbox_sys_path(course))
    toolbox = str(toolbox_dir(course.toolbox))
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    # The toolbox's parent is a root only as a site folder: a source checkout holds the rest
    # of the project (tests, the release, .git) next to the toolbox.
    checkout = os.path.dirname(toolbox)
    sites = {*site.getsitepackages(), *sysconfig.get_paths().values()}
    candidates = [*SYSTEM, *WORLD_READABLE, *prefixes,
                  *(p for p in view.sys_path if p != checkout or p in sites
                    or os.path.basename(p) in ("site-packages", "dist-packages"))]
    roots: list[str] = []
    for path in candidates:
        if os.path.lexists(path):
            real = _links_along(path, view.links)
            if os.path.exists(real) and real not in roots:
                roots.append(real)
    roots = [r for r in roots if not any(r != o and _under(r, o) for o in roots)]
    hidden = protected_paths(course, view.sys_path)
    hidden.add(os.path.realpath(toolbox))
    for prefix in prefixes:
        hidden |= _dot_entries(os.path.realpath(prefix))
    for top in WORLD_READABLE:
        hidden |= _unreadable(os.path.realpath(top))
    for root in sorted(roots):
        _split(root, hidden, view)
    real_toolbox = os.path.realpath(toolbox)
    view.listed += [p for p in (os.path.dirname(real_toolbox), real_toolbox)
                    if p not in view.listed]
    view.read += [os.path.realpath(f) for f in toolbox_files(course.toolbox)]
    view.devices = [d for d in (*DEVICES, *sorted(glob("/dev/nvidia*"))) if os.path.exists(d)]
    view.links = sorted(set(view.links))
    return view

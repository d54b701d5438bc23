"""However the project is installed, a submission reaches neither ``solutions`` nor ``grader``.

Three layouts, each graded by its own interpreter from outside the checkout: editable (the
development venv), a wheel installed in a fresh venv, and ``pip install --target`` into a
folder below the interpreter's prefix (which the sandbox may read). In each, a submission that
imports the protected packages, reads their files by path or reads the project's metadata
gets nothing, and the complete solution notebook still earns every point (of two exercises,
to keep the time down; the chapters are graded in full elsewhere).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, source_notebook

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

DRIVER = r'''
import importlib.util, json, os, sys
import grader
from grader.course import COURSE, grade
from grader.engine.options import Options
from grader.engine.sandbox import Sandbox

solutions = os.path.dirname(importlib.util.find_spec("solutions").origin)
paths = [os.path.join(solutions, "ch02.py"), os.path.join(solutions, "__init__.py"),
         os.path.join(os.path.dirname(grader.__file__), "checks", "ch02.py")]
probe = f"""
def probe():
    import importlib, importlib.metadata
    out = {{}}
    for module in ("solutions", "solutions.ch02", "grader", "grader.checks.ch02"):
        try:
            importlib.import_module(module)
            out[module] = "imported"
        except Exception as exc:
            out[module] = type(exc).__name__
    for path in {paths!r}:
        try:
            open(path, "rb").read(1)
            out[path] = "read"
        except OSError as exc:
            out[path] = type(exc).__name__
    try:
        importlib.metadata.distribution({COURSE.distribution!r}).read_text("RECORD")
        out["metadata"] = "read"
    except Exception as exc:
        out["metadata"] = type(exc).__name__
    return out
"""
with Sandbox([("1", probe)], "ch02", COURSE, Options()) as box:
    found = box.run({"op": "call", "name": "probe", "args": []}, "probe()").data["result"]
graded = ("normalize_by_sum", "f")
report = grade(sys.argv[1], "ch02", seed=1, exercises=graded)
print(json.dumps({"grader": grader.__file__, "solutions": solutions, "probe": found,
                  "scores": {e["name"]: [e["score"], e["max_score"]]
                             for e in report["exercises"] if e["name"] in graded},
                  "isolation": report["isolation"]}))
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project built as a wheel, from a copy (pip builds in the source folder)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("course", "grader", "solutions"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "source", "chapters"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "-w", str(work / "dist"), str(source)],
                   check=True, capture_output=True, timeout=300)
    return next((work / "dist").glob("*.whl"))


def fresh_venv(folder: Path) -> Path:
    """A venv without the project whose packages (torch, ...) come from the development venv.

    The development venv's site folder is added by a path line, so its ``.pth`` files (the
    editable install's finder) are not run there.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True,
                   capture_output=True, timeout=120)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True).stdout
    Path(site.strip(), "development.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def pip_install(python: Path, wheel: Path, *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", *extra, str(wheel)],
                   check=True, capture_output=True, timeout=300)


def run_driver(python: Path, cwd: Path, env: dict[str, str] | None = None) -> dict:
    notebook = source_notebook("ch02")
    out = subprocess.run([str(python), "-c", DRIVER, str(notebook)], capture_output=True,
                         text=True, timeout=600, cwd=cwd,
                         env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("layout", ["editable", "wheel", "target"])
def test_every_install_layout_hides_the_project(layout, wheel, tmp_path):
    env = None
    if layout == "editable":
        python = Path(sys.executable)
        where = ROOT
    else:
        python = fresh_venv(tmp_path / "venv")
        where = tmp_path / "venv"
        if layout == "wheel":
            pip_install(python, wheel)
        else:  # a folder below the interpreter's prefix, on sys.path through PYTHONPATH
            target = where / "lib" / "d2l-target"
            pip_install(python, wheel, "--target", str(target))
            env = {"PYTHONPATH": str(target)}
    work = tmp_path / "work"
    work.mkdir()
    result = run_driver(python, work, env)
    assert result["grader"].startswith(str(where)) and result["solutions"].startswith(str(where))
    assert "imported" not in result["probe"].values(), result["probe"]
    assert "read" not in result["probe"].values(), result["probe"]
    assert len(result["scores"]) == 2, result
    assert all(score == most for score, most in result["scores"].values()), result

"""A term's set-up in one step: exchange, gradebook with the roster's names, chapters released."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys

import pytest

from grader.release import COURSE
from grader.setup_course import SetupError, read_roster, setup_course
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("nbgrader")


def test_setup_course_imports_the_roster_and_releases(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment in ("ch02", "ch02_zh"):
        shutil.copytree(COURSE / "source" / assignment, course / "source" / assignment)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "s001,Ada,Lovelace,ada@example.org\ns002,Alan,Turing,\n")
    done = setup_course(roster, ["ch02"], course_root=course)
    assert done[-2:] == ["ch02 released", "ch02_zh released"] and "2 students" in done[1]
    exchange = course / "exchange"
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    assert (exchange / "d2l-course" / "outbound" / "ch02" / "ch02.ipynb").is_file()
    assert (exchange / "d2l-course" / "outbound" / "ch02_zh" / "ch02.ipynb").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        names = {(s.id, s.first_name, s.last_name) for s in gradebook.students}
        assert names == {("s001", "Ada", "Lovelace"), ("s002", "Alan", "Turing")}
        assert [a.name for a in gradebook.assignments] == ["ch02", "ch02_zh"]


def test_bad_rosters_and_chapters_say_why(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ada\n")
    with pytest.raises(SetupError, match="missing first_name, last_name, email"):
        read_roster(roster)
    roster.write_text("id,first_name,last_name,email\ns1,A,B,\ns1,C,D,\n")
    with pytest.raises(SetupError, match="more than once: s1"):
        read_roster(roster)
    with pytest.raises(SetupError, match="unknown chapters ch99"):
        setup_course(roster, ["ch99"], course_root=tmp_path)
    result = subprocess.run([sys.executable, "-m", "grader", "setup-course", "--roster",
                             str(roster)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1 and "more than once" in result.stderr

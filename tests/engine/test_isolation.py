"""What one submission can reach: not the host, not the project, not another submission.

Each test is an attack a red team tried, as a submission would write it. Where the kernel
refuses a layer, the report must say so and the attack that layer stops is skipped here; the
fallback tests force those refusals.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from grader.course import COURSE
from grader.engine import sandbox as engine_sandbox
from grader.engine.child import watch
from grader.engine.options import Limits, Options
from grader.engine.sandbox import Sandbox, SandboxDied, fork_server

FAST = Limits(load_seconds=8, call_seconds=4, memory_bytes=2 * 2**30, output_bytes=2**20)
pytestmark = pytest.mark.xdist_group("sandbox")


def sandbox(*cells: str, limits: Limits = FAST) -> Sandbox:
    return Sandbox([(str(i + 1), textwrap.dedent(c)) for i, c in enumerate(cells)], "ch03",
                   COURSE, Options(limits=limits))


def call(box: Sandbox, name: str, *args):
    return box.run({"op": "call", "name": name, "args": list(args)}, f"{name}(...)").data["result"]


def private_root(box: Sandbox) -> bool:
    box.ensure()
    return box.isolation["root"].startswith("private")


def test_host_unix_sockets_cannot_be_reached():
    folder = tempfile.mkdtemp(prefix="d2l-sock-")
    path = os.path.join(folder, "host.sock")
    name = f"\0d2l-test-{secrets.token_hex(4)}"
    listeners = []
    for address in (path, name):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(address)
        server.listen()
        server.setblocking(False)
        listeners.append(server)
    probe = f"""
    def probe():
        import socket
        out = {{}}
        for address in {[path, name]!r}:
            try:
                client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                client.connect(address)
                client.sendall(b"hello from the sandbox")
                out[repr(address)] = "delivered"
            except OSError as exc:
                out[repr(address)] = type(exc).__name__
        return out
    """
    try:
        with sandbox(probe) as box:
            if not private_root(box):
                pytest.skip(f"no private root here: {box.isolation['root']}")
            results = call(box, "probe")
        for server in listeners:
            with pytest.raises(BlockingIOError):
                server.accept()
    finally:
        for server in listeners:
            server.close()
        os.unlink(path)
        os.rmdir(folder)
    assert "delivered" not in results.values(), results


def _unreadable_etc() -> list[str]:
    """Files in /etc that this process can read but another local user could not."""
    found = []
    for folder, _, files in os.walk("/etc"):
        for name in files:
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and not mode & 0o004 and os.access(path, os.R_OK):
                found.append(path)
    return found


def test_host_processes_and_secret_files_stay_out_of_reach():
    marker = f"d2l-host-secret-{secrets.token_hex(4)}"
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
    secret_files = _unreadable_etc()
    probe = f"""
    def probe():
        import os
        seen, read = [], []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{{entry}}/cmdline", "rb") as f:
                    seen.append(f.read().decode(errors="replace"))
            except OSError:
                pass
        for path in {secret_files!r}:
            try:
                with open(path, "rb") as f:
                    f.read(1)
                read.append(path)
            except OSError:
                pass
        try:
            home = os.listdir(os.path.expanduser("~root"))
        except OSError:
            home = []
        return {{"marker": any({marker!r} in s for s in seen), "read": read, "home": home}}
    """
    try:
        with sandbox(probe) as box:
            results = call(box, "probe")
            isolation = box.isolation
    finally:
        host.kill()
        host.wait()
    assert not results["marker"], "a host process's command line reached the sandbox"
    assert results["read"] == [], results["read"]
    if isolation["root"].startswith("private"):
        prefixes = {sys.prefix, sys.base_prefix}
        assert all(any(p.startswith(os.path.join("/root", e)) for p in prefixes)
                   for e in results["home"]), results["home"]


def test_the_project_is_not_importable_readable_or_listed():
    import importlib.metadata

    files = [os.path.join(os.path.dirname(__import__("solutions").__file__), "ch03.py"),
             os.path.join(os.path.dirname(__import__("grader").__file__), "checks", "ch03.py")]
    dist = importlib.metadata.distribution(COURSE.distribution)
    files += [str(dist.locate_file(f)) for f in dist.files or []
              if "course" not in str(f).split("/")[0]][:20]
    probe = f"""
    def probe():
        import importlib, importlib.metadata
        out = {{}}
        for module in ("solutions", "solutions.ch03", "grader", "grader.checks.ch03"):
            try:
                importlib.import_module(module)
                out[module] = "imported"
            except Exception as exc:
                out[module] = type(exc).__name__
        for path in {files!r}:
            try:
                open(path, "rb").read(1)
                out[path] = "read"
            except OSError as exc:
                out[path] = type(exc).__name__
        try:
            importlib.metadata.distribution({COURSE.distribution!r})
            out["metadata"] = "read"
        except Exception as exc:
            out["metadata"] = type(exc).__name__
        import course
        out["toolbox"] = course.check.__name__
        return out
    """
    with sandbox(probe) as box:
        results = call(box, "probe")
    assert results.pop("toolbox") == "check"
    assert "imported" not in results.values() and "read" not in results.values(), results


SHM_KEY = 0xD21C0


def _writer(tag: str) -> str:
    return f"""
    def write():
        import ctypes, os
        from multiprocessing import shared_memory
        done = []
        for folder in ("/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), os.getcwd(),
                       os.environ.get("TMPDIR", "/tmp")):
            try:
                with open(os.path.join(folder, "{tag}"), "w") as f:
                    f.write("left behind")
                done.append(folder)
            except OSError:
                pass
        try:
            shared_memory.SharedMemory(name="{tag}", create=True, size=4096).buf[:4] = b"left"
            done.append("posix shm")
        except OSError:
            pass
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        ident = libc.shmget({SHM_KEY}, 4096, 0o1666)
        if ident >= 0:
            ctypes.memmove(libc.shmat(ident, None, 0), b"left", 4)
            done.append("sysv shm")
        return done
    """


def _reader(tag: str) -> str:
    return f"""
    def read():
        import ctypes, os
        from multiprocessing import shared_memory
        found = []
        for folder in ("/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), os.getcwd(),
                       os.environ.get("TMPDIR", "/tmp")):
            if os.path.exists(os.path.join(folder, "{tag}")):
                found.append(folder)
        try:
            shared_memory.SharedMemory(name="{tag}").close()
            found.append("posix shm")
        except OSError:
            pass
        if ctypes.CDLL(None).shmget({SHM_KEY}, 0, 0) >= 0:
            found.append("sysv shm")
        return found
    """


def test_nothing_one_submission_writes_reaches_the_next():
    tag = f"d2l-left-{secrets.token_hex(4)}"
    with sandbox(_writer(tag)) as box:
        written = call(box, "write")
        if not box.isolation["namespaces"].startswith("user"):
            pytest.skip(f"no IPC namespace here: {box.isolation['namespaces']}")
    with sandbox(_reader(tag)) as box:
        found = call(box, "read")
    libc = ctypes.CDLL(None)
    on_host = libc.shmget(SHM_KEY, 0, 0)
    if on_host >= 0:
        libc.shmctl(on_host, 0, None)  # IPC_RMID: do not leave it to the next run
    assert found == [], f"wrote {written}, the next submission found {found}"
    assert on_host < 0, "a System V segment outlived its sandbox"
    assert not os.path.exists(f"/dev/shm/{tag}") and not os.path.exists(f"/tmp/{tag}")


def test_a_sandbox_runs_at_most_its_number_of_processes():
    limit = 8
    spawn = """
    def spawn(n):
        import os, time
        started = 0
        for _ in range(n):
            try:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                started += 1
            except OSError:
                break
        time.sleep(1.5)
        return started
    """
    with sandbox(spawn, limits=FAST.replace(processes=limit)) as box:
        try:
            started = call(box, "spawn", 3 * limit)
        except SandboxDied as exc:
            assert f"more than {limit} processes" in str(exc)
        else:
            assert started < limit


def test_the_budget_is_the_cpu_time_of_all_the_processes():
    burn = """
    def burn():
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                while True:
                    pass
        time.sleep(3600)  # the caller itself uses no CPU
    """
    with sandbox(burn, limits=FAST.replace(call_seconds=2)) as box:
        with pytest.raises(SandboxDied, match="of CPU time"):
            call(box, "burn")


def test_a_busy_neighbour_costs_another_submission_nothing():
    hog = """
    import os
    for _ in range(8):
        if os.fork() == 0:
            while True:
                pass
    """
    work = """
    def work(n):
        total = 0
        for i in range(n):
            total += i * i
        return total
    """
    with sandbox(hog) as neighbour, sandbox(work, limits=FAST.replace(call_seconds=3)) as box:
        neighbour.ensure()
        assert call(box, "work", 2_000_000) == sum(i * i for i in range(2_000_000))
        server = neighbour._server
        first = server.usage(neighbour.pid)
        time.sleep(2.0)
        second = server.usage(neighbour.pid)
    used = second["cpu"] - first["cpu"]
    assert used <= 2.0 * engine_sandbox.CPU_SHARE + engine_sandbox.CPU_BURST + 0.5, used


def test_the_watch_holds_a_process_tree_to_its_share():
    script = textwrap.dedent("""
        import os
        for _ in range(3):
            if os.fork() == 0:
                break
        while True:
            pass
    """)
    spinner = subprocess.Popen([sys.executable, "-c", script])
    try:
        guard = watch.Watch(share=0.2, burst=0.1)
        guard.add(spinner.pid, init=False, tasks=10)
        time.sleep(0.3)
        guard.tick()
        first = watch.usage(spinner.pid).cpu
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            time.sleep(0.05)
            guard.tick()
        used = watch.usage(spinner.pid).cpu - first
    finally:
        watch.kill(guard.boxes[spinner.pid])
        spinner.wait()
    assert used < 2.0 * 0.25 + 0.1 + 4 * 0.1, used


def _descendants(pid: int) -> list[int]:
    return [p for p in watch.tree(pid) if p != pid]


def _forced(monkeypatch, prefix: tuple[str, ...] | None = None, drop_root: bool = False):
    """A fork server of its own that the kernel's refusals are simulated for."""
    monkeypatch.setattr(engine_sandbox, "_SERVERS", {})
    if prefix is not None:
        monkeypatch.setattr(engine_sandbox, "unshare_prefix", lambda: prefix)
    server = fork_server(COURSE)
    if drop_root:
        os.rmdir(os.path.join(server.base, "root"))  # before the server builds the root in it
    return server


def test_closing_kills_everything_and_removes_the_folders(monkeypatch):
    daemon = """
    def spawn():
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(0.05)
            os._exit(0)
        return 1
    """
    server = _forced(monkeypatch)
    with sandbox(daemon) as box:
        assert call(box, "spawn") == 1
        assert len(_descendants(server.proc.pid)) >= 2
    server.close()
    assert _descendants(server.proc.pid) == [] and not os.path.exists(server.base)


FALLBACK_PROBE = """
def probe():
    import os
    out = {}
    for key, folder in (("shm", "/dev/shm"), ("tmp", "/tmp"), ("cwd", os.getcwd())):
        try:
            with open(os.path.join(folder, "probe"), "w") as f:
                f.write("x")
            out[key] = "written"
        except OSError as exc:
            out[key] = type(exc).__name__
    for module in ("solutions", "grader"):
        try:
            __import__(module)
            out[module] = "imported"
        except Exception as exc:
            out[module] = type(exc).__name__
    try:
        open("/etc/shadow").read()
        out["shadow"] = "read"
    except OSError as exc:
        out["shadow"] = type(exc).__name__
    out["cmdlines"] = 0
    for entry in os.listdir("/proc"):
        try:
            open(f"/proc/{entry}/cmdline").read()
            out["cmdlines"] += entry.isdigit()
        except OSError:
            pass
    return out
"""


@pytest.mark.parametrize("refused", ["namespaces", "private root"])
def test_fallbacks_keep_working_and_say_so(monkeypatch, refused):
    if refused == "namespaces":
        server = _forced(monkeypatch, prefix=())
    elif not engine_sandbox.unshare_prefix():
        pytest.skip("unshare does not work here")
    else:
        server = _forced(monkeypatch, drop_root=True)
    try:
        with sandbox(FALLBACK_PROBE, "def ok(x):\n    return x + 1\n") as box:
            assert call(box, "ok", 1) == 2
            results = call(box, "probe")
            isolation = box.isolation
    finally:
        server.close()
    assert isolation["root"].startswith("host file system"), isolation
    assert "shared with the host" in isolation["root"], isolation
    assert isolation["namespaces"].startswith("unavailable") == (refused == "namespaces")
    if "landlock" not in isolation["files"]:
        pytest.skip(f"no Landlock here: {isolation['files']}")
    assert results["cwd"] == "written", results
    assert results["shm"] != "written" and results["tmp"] != "written", results
    assert results["solutions"] != "imported" and results["grader"] != "imported", results
    assert results["shadow"] != "read" and results["cmdlines"] == 0, results


def test_rlimit_nproc_is_set_where_the_count_is_the_sandboxs_own():
    with sandbox("def nproc():\n    import resource\n    return resource.getrlimit("
                 "resource.RLIMIT_NPROC)[0]\n") as box:
        box.ensure()
        own_count = "RLIMIT_NPROC" in box.isolation["processes"]
        limit = call(box, "nproc")
    assert (limit == FAST.processes) == own_count, (limit, box.isolation["processes"])


SUBREAPER = """
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: every orphan comes here

def children(pid):
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for task in tasks:
        try:
            found += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    return found

def tree(pid):
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children(found[-1])
    return found

command, kill_at = json.loads(sys.argv[1]), int(sys.argv[2])
grader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if kill_at:
    deadline = time.monotonic() + 300
    while len(tree(grader.pid)) < kill_at and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    grader.kill()
code = grader.wait()
left, deadline = [], time.monotonic() + 60  # clean-up may be slow on a loaded machine
while time.monotonic() < deadline:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    left = [p for p in tree(os.getpid()) if p != os.getpid()]
    if not left:
        break
    time.sleep(0.1)
names = []
for p in left:
    try:
        names.append(open(f"/proc/{p}/cmdline").read().replace("\\0", " ")[:120])
        os.kill(p, 9)  # a failing run leaves nothing behind either
    except OSError:
        pass
print(json.dumps({"code": code, "left": names}))
"""

DAEMON_CELL = """# %%
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.1)
    os._exit(0)
"""


def _after(command: list[str], kill_at: int, cwd) -> dict:
    """Run ``command`` below a subreaper; what of its processes is left once it ended."""
    import json

    out = subprocess.run([sys.executable, "-c", SUBREAPER, json.dumps(command), str(kill_at)],
                         capture_output=True, text=True, timeout=600, cwd=cwd,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("isolation", [True, False], ids=["isolated", "no-isolation"])
def test_nothing_outlives_a_grader_that_is_killed(tmp_path, isolation):
    submission = tmp_path / "student.py"
    submission.write_text(DAEMON_CELL + "# %%\ntime.sleep(600)\n")
    command = [sys.executable, "-m", "grader", "grade", str(submission), "--assignment", "ch02"]
    # grader, (unshare,) fork server, sandbox and its daemon: then kill the grader mid-grading
    processes = 5 if isolation and engine_sandbox.unshare_prefix() else 4
    result = _after(command + ([] if isolation else ["--no-isolation"]), processes, tmp_path)
    assert result["code"] == -9 and result["left"] == [], result


@pytest.mark.slow
def test_nothing_outlives_grade_all(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    for student in ("alice", "bob"):
        (folder / f"{student}.py").write_text(DAEMON_CELL)
    command = [sys.executable, "-m", "grader", "grade-all", str(folder), "--assignment", "ch02",
               "--workers", "1", "--out", str(tmp_path / "out"), "--csv",
               str(tmp_path / "grades.csv"), "--no-isolation"]  # daemons escape: the worst case
    result = _after(command, 0, tmp_path)
    assert result["code"] == 0 and result["left"] == [], result
    assert (tmp_path / "grades.csv").exists()

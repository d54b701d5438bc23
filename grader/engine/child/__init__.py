"""The sandbox's side of the engine: code that runs only inside the untrusted child process.

These modules import nothing but the standard library and torch. They are never imported from
files inside the sandbox: the grader reads their sources and sends them to a small bootstrap
(``boot.py``) that the fork server runs with ``python -I -S -B -c``, so the sandbox works the
same whatever way the project is installed, and cannot read the project's files.

- ``protocol``: length-prefixed ``torch.save`` frames on two pipes.
- ``seal``: resource limits, signals, the course's setup hooks, then ``landlock``.
- ``landlock``: file, TCP and signal isolation through the Landlock syscalls, with named flags.
- ``fromscratch``: run-time detection of the library ops an exercise reimplements (and of
  interference with it), ATen operator counts; ``operators``: the operators each
  forbidden name ends in; ``profiling``: reading the profiler's record of a call.
- ``objects``: the library of grader-supplied objects (layers from specs, trusted networks and
  functions, replays, swaps), also imported by checks in the grader's process.
- ``values``: grader-supplied objects built from specs; ``export``: what the student returned
  and the exceptions they raised, as bounded data the grader can read.
- ``loading``: running the submission's cells; ``calls``: the ``call``/``module``/``scenario`` ops.
- ``server``: the fork server and the request loop of one sandbox; ``root``: each sandbox's
  private root; ``watch``: CPU time, tasks and CPU share of each sandbox; ``linux``: the
  namespace, mount, prctl and capability calls.
"""

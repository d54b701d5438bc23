"""The sandbox's side of the engine: code that runs only inside the untrusted child process.

These modules import nothing but the standard library and torch. They are never imported from
files inside the sandbox: the grader reads their sources and sends them to a small bootstrap
(``boot.py``) that the fork server runs with ``python -I -S -B -c``, so the sandbox works the
same whatever way the project is installed, and cannot read the project's files.

- ``protocol``: length-prefixed ``torch.save`` frames on two pipes.
- ``seal``: resource limits, signals, the course's setup hooks, then ``landlock``.
- ``landlock``: file, TCP and signal isolation through the Landlock syscalls, with named flags.
- ``fromscratch``: run-time detection of the library ops an exercise reimplements.
- ``values``: grader-supplied objects built from specs, and export of anything the student returns.
- ``loading``: running the submission's cells; ``calls``: the ``call``/``module``/``scenario`` ops.
- ``server``: the fork server and the request loop of one sandbox.
"""

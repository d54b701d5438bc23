"""The grading engine, apart from any course: it learns the course's names from its caller.

- ``options``: ``Course`` (what the engine learns from its caller), ``Options`` and ``Limits``.
- ``sandbox``: the grader's side of the sandbox (fork server, limits, isolation, wire protocol);
  ``child``: the sandbox's side, which runs untrusted code and imports nothing from the project.
- ``submission``: reading notebooks and scripts into cells; ``scan``: the static from-scratch scan.
- ``plugin``: the pytest plugin (``student`` fixture, ``exercise`` marker, ``Exercise``);
  ``compare``: judging exported values with student-facing messages.
- ``report``: the report model and its writers (JSON, table, Gradescope, CSV).
- ``run``: ``grade`` one submission; ``batch``: a whole class in parallel.

Importing this package is cheap: nothing here imports torch or pytest until it is used.
"""

__version__ = "2.0.0"

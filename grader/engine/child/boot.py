# The fork server's bootstrap, run as ``python -I -S -B -c <this source>`` (it is not imported).
# Standard input carries JSON: the sandbox package's module sources and the server's config.
# The modules are created from those sources, so no project file is read here or later.
import ctypes
import importlib.abc
import importlib.util
import json
import signal
import sys

# Die with the grader from the first instant, before the slow torch import; the server replaces
# this with its own clean-up signal once it is up (PR_SET_PDEATHSIG = 1).
ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)

_PAYLOAD = json.loads(sys.stdin.buffer.read())
sys.stdin.close()
for _path in reversed(_PAYLOAD["config"]["sys_path"]):
    sys.path.insert(0, _path)


class _SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve the sandbox package's modules from the sources the grader sent."""

    def __init__(self, package: str, sources: dict):
        self.package = package
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.sources:
            return None
        is_package = fullname == self.package
        return importlib.util.spec_from_loader(fullname, self, is_package=is_package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        code = compile(self.sources[module.__spec__.name], f"<sandbox {module.__name__}>", "exec")
        exec(code, module.__dict__)  # noqa: S102 - the grader's own code


sys.meta_path.insert(0, _SourceFinder(_PAYLOAD["package"], _PAYLOAD["modules"]))
importlib.import_module(_PAYLOAD["package"] + ".server").main(_PAYLOAD["config"])

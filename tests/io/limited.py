"""Run a loader in a child process under a memory limit and a deadline, and report how it ended."""

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_RUNNER = """
import json, resource, sys, traceback
limit = {memory} * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
result = {{"ok": False}}
try:
{body}
    result = {{"ok": True}}
except BaseException as error:  # report every ending, the test decides which are acceptable
    result = {{"ok": False, "type": type(error).__name__, "mro": [c.__name__ for c in type(error).__mro__],
              "message": str(error)[:100000], "traceback": traceback.format_exc()[-4000:]}}
print("RESULT " + json.dumps(result), flush=True)
"""


def run_limited(body, memory_mb=1500, timeout=60):
    """Run ``body`` (Python statements) in a fresh interpreter limited to ``memory_mb`` of address space.

    Returns a dict: ``ok`` (no exception), else ``type``, ``mro`` (class names), ``message``,
    ``traceback``; or ``{"hang": True}`` when the deadline passed, ``{"crash": returncode}`` when the
    child died without reporting.
    """
    code = _RUNNER.format(memory=memory_mb, body=textwrap.indent(textwrap.dedent(body), "    "))
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "OPENBLAS_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"hang": True}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"crash": done.returncode, "stderr": done.stderr[-2000:]}

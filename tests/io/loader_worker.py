"""A child process that loads model folders and weights files on request, under a memory limit and a deadline.

The fuzz suite writes a hostile folder, sends its path (one JSON line on stdin:
``{"kind": "model" | "weights", "path": ...}``) and reads one JSON line back:
``{"ok": true}`` or ``{"ok": false, "type": ..., "message": ...}``. A case that takes longer
than the deadline ends with ``{"type": "Timeout"}``; a child that dies is the parent's to see.

    python -m tests.io.loader_worker MEMORY_MB SECONDS
"""

import json
import resource
import signal
import sys


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("the loader took longer than its deadline")


def main():
    memory_mb, seconds = int(sys.argv[1]), int(sys.argv[2])
    import shendu  # imported before the limit: NumPy and BLAS reserve their address space here

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        signal.alarm(seconds)
        try:
            if request["kind"] == "model":
                shendu.load_model(request["path"], with_metadata=True)
            else:
                shendu.load(request["path"])
            result = {"ok": True}
        except BaseException as error:  # every ending is reported; the test decides which are acceptable
            result = {"ok": False, "type": type(error).__name__, "message": str(error)[:20000]}
        finally:
            signal.alarm(0)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

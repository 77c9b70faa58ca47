"""Type checking in ``make test``: mypy passes on the package, on a user's program, and catches a user's mistakes.

shendu ships ``py.typed``; these runs check what a user's type checker sees: the package itself has 0
errors (pyproject.toml's [tool.mypy]), a typical PyTorch-style and Keras-style program checks clean,
and wrong argument types in common calls are reported on exactly the lines marked ``# error:``.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPING = os.path.join(ROOT, "tests", "typing")


def mypy(cache, *arguments):
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-warn-unused-configs",
                             *arguments], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_on_the_package_a_user_program_and_a_users_mistakes(tmp_path):
    assert os.path.exists(os.path.join(ROOT, "shendu", "py.typed"))
    code, output = mypy(tmp_path)  # the files and options of pyproject.toml
    assert code == 0 and "Success: no issues found" in output, output[-5000:]

    code, output = mypy(tmp_path, os.path.join(TYPING, "user_program.py"))
    assert code == 0, output[-5000:]

    misuse = os.path.join(TYPING, "misuse.py")
    code, output = mypy(tmp_path, misuse)
    with open(misuse, encoding="utf-8") as f:
        expected = {number for number, line in enumerate(f, 1) if "# error:" in line}
    reported = {int(n) for n in re.findall(r"misuse\.py:(\d+): error", output)}
    assert code == 1 and reported == expected, output

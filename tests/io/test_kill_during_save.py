"""A process killed with SIGKILL in the middle of a save leaves the previous file loadable."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import shendu
import shendu.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def _start(code):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, env=env, text=True)


def _wait_for(process, word):
    line = process.stdout.readline().strip()
    assert line == word, f"child said {line!r}, expected {word!r} (exit code {process.poll()})"


def _cleanup(process):
    process.kill()
    process.wait(timeout=30)
    process.stdout.close()


def _kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_sigkill_while_the_new_file_is_being_written_keeps_the_old_one(tmp_path):
    path = tmp_path / "weights.safetensors"
    # The child saves version 0, then starts saving version 1 and is frozen inside the save
    # (in the fsync of the fully written temporary file) until it is killed.
    child = _start(f"""
        import os, time, sys
        import shendu
        path = {str(path)!r}
        shendu.save({{"w": shendu.zeros(1000)}}, path)
        def frozen_fsync(fd):
            print("saving", flush=True)
            time.sleep(600)
        os.fsync = frozen_fsync
        print("ready", flush=True)
        shendu.save({{"w": shendu.ones(1000)}}, path)
    """)
    try:
        _wait_for(child, "ready")
        _wait_for(child, "saving")
        _kill(child)
    finally:
        _cleanup(child)
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert leftovers, "the kill should have interrupted the save after the temporary file was written"
    loaded = shendu.load(path)["w"].numpy()
    assert np.array_equal(loaded, np.zeros(1000, np.float32))


def test_sigkill_at_random_moments_of_a_save_loop_never_leaves_a_broken_file(tmp_path):
    path = tmp_path / "big.safetensors"
    child = _start(f"""
        import numpy as np
        import shendu
        path = {str(path)!r}
        arrays = [np.full(2_000_000, float(i), np.float32) for i in range(3)]
        shendu.save({{"w": arrays[0]}}, path)
        print("ready", flush=True)
        i = 0
        while True:
            i += 1
            shendu.save({{"w": arrays[i % 3]}}, path)
    """)
    rng = np.random.default_rng(0)
    try:
        _wait_for(child, "ready")
        for _ in range(4):
            time.sleep(float(rng.uniform(0.02, 0.15)))
            child.send_signal(signal.SIGSTOP)  # freeze, check the file on disk, continue
            values = shendu.load(path, as_numpy=True)["w"]
            assert values.shape == (2_000_000,) and values[0] in (0.0, 1.0, 2.0) and np.all(values == values[0])
            child.send_signal(signal.SIGCONT)
        time.sleep(float(rng.uniform(0.02, 0.15)))
        _kill(child)
    finally:
        _cleanup(child)
    values = shendu.load(path, as_numpy=True)["w"]
    assert values[0] in (0.0, 1.0, 2.0) and np.all(values == values[0])


def test_sigkill_during_save_model_keeps_the_previous_model(tmp_path):
    shendu.manual_seed(0)
    old = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    shendu.save_model(old, tmp_path / "model")
    child = _start(f"""
        import os, time
        import shendu, shendu.nn as nn
        calls = []
        real_fsync = os.fsync
        def frozen_fsync(fd):
            calls.append(fd)
            if len(calls) == 2:  # weights staged, config being staged
                print("saving", flush=True)
                time.sleep(600)
            real_fsync(fd)
        os.fsync = frozen_fsync
        shendu.manual_seed(1)
        new = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))  # another architecture
        shendu.save_model(new, {str(tmp_path / "model")!r})
    """)
    try:
        _wait_for(child, "saving")
        _kill(child)
    finally:
        _cleanup(child)
    loaded = shendu.load_model(tmp_path / "model")
    for (key, value), (key2, value2) in zip(old.state_dict().items(), loaded.state_dict().items()):
        assert key == key2 and np.array_equal(value.numpy(), value2.numpy())

"""A process killed with SIGKILL in the middle of a save leaves the previous file loadable."""

import os
import signal
import subprocess
import sys
import json
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


def _same_weights(model, loaded):
    for (key, value), (key2, value2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert key == key2 and np.array_equal(value.numpy(), value2.numpy()), key


def _freeze_at_rename(number):
    """Child code: os.replace freezes (after printing "saving") at its ``number``-th call."""
    return f"""
        import os, time
        real_replace = os.replace
        calls = []
        def frozen_replace(a, b):
            calls.append(b)
            if len(calls) == {number}:
                print("saving", flush=True)
                time.sleep(600)
            real_replace(a, b)
        os.replace = frozen_replace
    """


@pytest.mark.parametrize("renames_done", [0, 1, 2])
def test_sigkill_between_the_renames_of_save_model_leaves_the_committed_model(tmp_path, renames_done):
    # os.replace calls in a save: 1 = the commit marker (the commit point), 2..4 = the three files.
    shendu.manual_seed(0)
    shendu.save_model(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), tmp_path / "model", metrics={"v": 0})
    (tmp_path / "model" / "history.csv").write_text("epoch\n0\n")  # a file of the user's, never touched
    child = _start(f"""
        import shendu, shendu.nn as nn
        shendu.manual_seed(1)
        new = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))  # another architecture
        shendu.save(new.state_dict(), {str(tmp_path / "expected.safetensors")!r})
    """ + _freeze_at_rename(2 + renames_done) + f"""
        shendu.save_model(new, {str(tmp_path / "model")!r}, metrics={{"v": 1}})
    """)
    try:
        _wait_for(child, "saving")
        _kill(child)
    finally:
        _cleanup(child)
    # The commit point was passed: every reader sees the new model, whole, with its own metadata.
    loaded, info = shendu.load_model(tmp_path / "model", with_metadata=True)
    expected = shendu.load(tmp_path / "expected.safetensors")
    assert list(loaded.state_dict()) == list(expected)
    assert all(np.array_equal(loaded.state_dict()[k].numpy(), v.numpy()) for k, v in expected.items())
    assert info["metrics"] == {"v": 1.0}
    # The next save completes the old commit, then commits its own and leaves nothing behind.
    shendu.save_model(nn.Sequential(nn.Linear(4, 2)), tmp_path / "model", metrics={"v": 2})
    assert sorted(os.listdir(tmp_path / "model")) == ["config.json", "history.csv", "metadata.json", "model.safetensors"]
    assert shendu.load_model(tmp_path / "model", with_metadata=True)[1]["metrics"] == {"v": 2.0}


def test_sigkill_before_the_commit_point_leaves_the_previous_model_and_the_next_save_cleans_up(tmp_path):
    shendu.manual_seed(0)
    old = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    shendu.save_model(old, tmp_path / "model", metrics={"v": 0})
    child = _start(_freeze_at_rename(1) + f"""
        import shendu, shendu.nn as nn
        shendu.save_model(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2)), {str(tmp_path / "model")!r}, metrics={{"v": 1}})
    """)
    try:
        _wait_for(child, "saving")
        _kill(child)
    finally:
        _cleanup(child)
    leftovers = [name for name in os.listdir(tmp_path / "model") if name.endswith(".tmp")]
    assert len(leftovers) >= 3, "the three staged files (and the marker's temporary file) should be left by the kill"
    loaded, info = shendu.load_model(tmp_path / "model", with_metadata=True)
    _same_weights(old, loaded)
    assert info["metrics"] == {"v": 0.0}
    shendu.save_model(old, tmp_path / "model")
    assert not [name for name in os.listdir(tmp_path / "model") if name.endswith(".tmp")]


def test_a_temporary_file_of_a_running_writer_is_not_removed(tmp_path):
    import subprocess as sp

    sleeper = sp.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".w.safetensors.{sleeper.pid}-abc123.tmp"
        dead = tmp_path / ".w.safetensors.999999999-abc123.tmp"
        legacy = tmp_path / ".w.safetensors.k2j3h4g5.tmp"
        for path in (live, dead, legacy):
            path.write_bytes(b"x" * 1000)
        shendu.save({"w": shendu.zeros(2)}, tmp_path / "w.safetensors")
        assert live.exists() and not dead.exists() and not legacy.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_tampered_commit_marker_cannot_redirect_reads_or_renames(tmp_path):
    shendu.save_model(nn.Sequential(nn.Linear(4, 2)), tmp_path / "model")
    (tmp_path / "secret").write_text("{}")
    marker = tmp_path / "model" / ".shendu-commit.json"
    marker.write_text(json.dumps({"format": "shendu.commit", "files": {"config.json": "../secret"}}))
    with pytest.raises(shendu.io.ModelFormatError, match="bad entry"):
        shendu.load_model(tmp_path / "model")
    with pytest.raises(OSError, match="bad entry"):
        shendu.save_model(nn.Sequential(nn.Linear(4, 2)), tmp_path / "model")
    assert (tmp_path / "secret").read_text() == "{}"


TRAINING_CHILD = """
    import os, sys
    import numpy as np
    import shendu, shendu.nn as nn
    from shendu.train import Trainer, ModelCheckpoint
    folder = {folder!r}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    shendu.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    optimizer = shendu.optim.Adam(model.parameters(), lr=0.01)
    checkpoint = os.path.join(folder, "train.ckpt")
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                      callbacks=[ModelCheckpoint(os.path.join(folder, "best"), monitor="loss", save_best_only=False)])
    print("ready", flush=True)
    trainer.fit((x, y), epochs={epochs}, batch_size=32, verbose=0, seed=5, checkpoint=checkpoint,
                resume_from=checkpoint if os.path.exists(checkpoint) else None)
    shendu.save(model.state_dict(), os.path.join(folder, "final.safetensors"))
    print("done", flush=True)
"""


def test_training_killed_at_random_moments_resumes_bit_identically(tmp_path):
    import json as _json  # noqa: F401 - keeps this test's imports explicit

    kills = int(os.environ.get("SHENDU_KILLS", "5"))
    epochs = 100 + 8 * kills  # each run between two kills trains a few epochs: enough to go round
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    reference.mkdir()
    interrupted.mkdir()
    child = _start(TRAINING_CHILD.format(folder=str(reference), epochs=epochs))
    try:
        _wait_for(child, "ready")
        _wait_for(child, "done")
    finally:
        _cleanup(child)
    rng = np.random.default_rng(int(os.environ.get("SHENDU_KILL_SEED", "0")))
    killed = 0
    for _ in range(kills + 20):
        child = _start(TRAINING_CHILD.format(folder=str(interrupted), epochs=epochs))
        try:
            _wait_for(child, "ready")
            if killed < kills:
                time.sleep(float(rng.uniform(0.05, 0.3)))
                if child.poll() is None:
                    _kill(child)
                    killed += 1
                    # Every survivor loads: the training checkpoint and the ModelCheckpoint folder.
                    if (interrupted / "train.ckpt").exists():
                        shendu.load(interrupted / "train.ckpt")
                    if (interrupted / "best").exists():
                        shendu.load_model(interrupted / "best")
                    continue
            _wait_for(child, "done")
            break
        finally:
            _cleanup(child)
    assert killed == kills
    print(f"\nkill test: {killed} kills at random moments, every survivor loaded, resumed run bit-identical")
    expected, got = shendu.load(reference / "final.safetensors"), shendu.load(interrupted / "final.safetensors")
    for key in expected:
        assert np.array_equal(expected[key].numpy(), got[key].numpy()), key
    assert not [name for name in os.listdir(interrupted / "best") if name.endswith(".tmp") or name.startswith(".shendu-commit")]

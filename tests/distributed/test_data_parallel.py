"""Data-parallel training on real MPI processes (mpiexec -n 2 on 127.0.0.1's shared memory), against one process.

k steps on 2 processes, each with half of every global batch and gradients averaged, give the
weights of one process training on the whole global batches: to 1e-6 relative with SGD, within
float32 tolerance with Adam. The Trainer shards, averages and writes only on rank 0; resume works;
a process that dies or raises ends the job; models that differ are refused naming the parameter.
"""

import json

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.utils.data import DistributedSampler

from .mpi import require_mpi, run_mpi

pytestmark = pytest.mark.slow

COMMON = """
    import json, os, sys
    import numpy as np
    import shendu, shendu.nn as nn
    import shendu.distributed as dist
    from shendu.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = sys.argv[1]
"""


def _data(n=64, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int64)
    return x, y


def _model(seed):
    shendu.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def _single_process(optimizer_name, steps, batch):
    x, y = _data()
    model = _model(1)
    optimizer = getattr(shendu.optim, optimizer_name)(model.parameters(), lr=0.05)
    for step in range(steps):
        index = slice(step * batch, (step + 1) * batch)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(shendu.tensor(x[index])), shendu.tensor(y[index])).backward()
        optimizer.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


DDP_PROGRAM = COMMON + """
    from tests.distributed.test_data_parallel import _data, _model
    optimizer_name, steps, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    x, y = _data()
    model = DDP(_model(1 + rank))  # another start on rank 1: DDP gives it rank 0's weights
    optimizer = getattr(shendu.optim, optimizer_name)(model.parameters(), lr=0.05)
    half = batch // world
    for step in range(steps):
        start = step * batch + rank * half
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(shendu.tensor(x[start:start + half])), shendu.tensor(y[start:start + half])).backward()
        optimizer.step()
    if rank == 0:
        shendu.save(model.module.state_dict(), out)
"""


@pytest.mark.parametrize(("optimizer", "rtol", "atol"), [("SGD", 1e-6, 1e-7), ("Adam", 2e-5, 2e-6)])
def test_two_processes_with_half_batches_equal_one_with_the_whole_batch(tmp_path, optimizer, rtol, atol):
    require_mpi()
    steps, batch = 8, 8
    result = run_mpi(DDP_PROGRAM, args=[str(tmp_path / "w.safetensors"), optimizer, str(steps), str(batch)])
    assert result.returncode == 0, result.stderr[-3000:]
    got = shendu.load(tmp_path / "w.safetensors")
    expected = _single_process(optimizer, steps, batch)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key].numpy(), value, rtol=rtol, atol=atol, err_msg=key)


TRAINER_PROGRAM = COMMON + """
    from shendu.train import Trainer, CSVLogger
    from tests.distributed.test_data_parallel import _data, _model
    epochs, resume = int(sys.argv[2]), sys.argv[3] == "resume"
    x, y = _data(n=96)
    model = _model(1 + rank)
    trainer = Trainer(model, nn.CrossEntropyLoss(), shendu.optim.Adam(model.parameters(), lr=0.01), metrics=["accuracy"],
                      callbacks=[CSVLogger(os.path.join(out, f"log-{rank}.csv"))])
    checkpoint = os.path.join(out, "train.ckpt")
    history = trainer.fit((x, y), epochs=epochs, batch_size=8, validation_data=(x[:32], y[:32]), verbose=1, seed=3,
                          checkpoint=checkpoint, resume_from=checkpoint if resume else None)
    if rank == 0:
        shendu.save(model.state_dict(), os.path.join(out, "final.safetensors"))
    with open(os.path.join(out, f"history-{rank}.json"), "w") as handle:
        json.dump(history.history, handle)
"""


def _trainer_single(epochs):
    from shendu.train import Trainer

    x, y = _data(n=96)
    model = _model(1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), shendu.optim.Adam(model.parameters(), lr=0.01), metrics=["accuracy"])
    history = trainer.fit((x, y), epochs=epochs, batch_size=16, validation_data=(x[:32], y[:32]), verbose=0, seed=3)
    return model, history.history


def test_trainer_on_two_processes_equals_one_with_the_global_batch(tmp_path):
    require_mpi()
    result = run_mpi(TRAINER_PROGRAM, args=[str(tmp_path), "3", "fresh"])
    assert result.returncode == 0, result.stderr[-3000:]
    model, history = _trainer_single(3)
    got = shendu.load(tmp_path / "final.safetensors")
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(got[key].numpy(), value.numpy(), rtol=2e-5, atol=2e-6, err_msg=key)
    for rank in (0, 1):  # every process logs the same averaged numbers, equal to the single process's
        logged = json.loads((tmp_path / f"history-{rank}.json").read_text())
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(logged[key], history[key], rtol=1e-4, err_msg=key)
    # Only rank 0 ran the callback that writes a file, and printed the progress lines.
    assert (tmp_path / "log-0.csv").exists() and not (tmp_path / "log-1.csv").exists()
    assert result.stdout.count("epoch 3/3") + result.stderr.count("epoch 3/3") <= 1


def test_training_resumed_on_two_processes_equals_an_uninterrupted_run(tmp_path):
    require_mpi()
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir()
    parts.mkdir()
    assert run_mpi(TRAINER_PROGRAM, args=[str(whole), "4", "fresh"]).returncode == 0
    first = run_mpi(TRAINER_PROGRAM, args=[str(parts), "2", "fresh"])
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_mpi(TRAINER_PROGRAM, args=[str(parts), "4", "resume"])
    assert second.returncode == 0, second.stderr[-3000:]
    expected, got = shendu.load(whole / "final.safetensors"), shendu.load(parts / "final.safetensors")
    for key in expected:
        np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy(), err_msg=key)


def test_a_process_that_dies_ends_the_job(tmp_path):
    require_mpi()
    program = COMMON + """
    import signal, time
    t = shendu.ones(3)
    if rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    dist.all_reduce(t)   # rank 0 waits here for a partner that is gone
    time.sleep(600)
    """
    result = run_mpi(program, args=[str(tmp_path)], timeout=90)
    assert result.returncode != 0


def test_a_process_that_raises_aborts_every_process_with_a_message(tmp_path):
    require_mpi()
    program = COMMON + """
    t = shendu.ones(3)
    if rank == 1:
        raise ValueError("bad data on rank 1")
    dist.all_reduce(t)
    """
    result = run_mpi(program, args=[str(tmp_path)], timeout=90)
    assert result.returncode != 0
    assert "bad data on rank 1" in result.stderr and "rank 1 failed (ValueError); aborting every rank" in result.stderr


def test_models_that_differ_between_processes_are_refused_naming_the_parameter(tmp_path):
    require_mpi()
    program = COMMON + """
    model = nn.Sequential(nn.Linear(4, 3 if rank == 0 else 5))
    try:
        DDP(model)
    except dist.DistributedError as error:
        print(f"rank {rank}: {error}", flush=True)
    """
    result = run_mpi(program, args=[str(tmp_path)], timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    for rank in (0, 1):
        assert f"rank {rank}: the model differs between processes: parameter '0.weight' has shape (3, 4)" in result.stdout


def test_collectives_in_the_pytorch_dialect(tmp_path):
    require_mpi()
    program = COMMON + """
    t = shendu.tensor([float(rank + 1), 10.0])
    dist.all_reduce(t)
    assert t.tolist() == [3.0, 20.0], t
    m = shendu.tensor([float(rank)])
    dist.all_reduce(m, op=dist.ReduceOp.MAX)
    assert m.item() == 1.0
    a = shendu.tensor([float(rank)])
    dist.all_reduce(a, op=dist.ReduceOp.AVG)
    assert a.item() == 0.5
    b = shendu.tensor([7.0, 8.0]) if rank == 0 else shendu.zeros(2)
    dist.broadcast(b, src=0)
    assert b.tolist() == [7.0, 8.0]
    parts = [shendu.zeros(2) for _ in range(world)]
    dist.all_gather(parts, shendu.full((2,), float(rank)))
    assert [p.tolist() for p in parts] == [[0.0, 0.0], [1.0, 1.0]]
    dist.barrier()
    assert dist.is_initialized()
    dist.destroy_process_group()
    assert not dist.is_initialized() and dist.get_world_size() == 1
    print("ok", rank, flush=True)
    """
    result = run_mpi(program, args=[str(tmp_path)], timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("ok") == 2


def test_keras_fit_on_two_processes_equals_one_with_the_global_batch(tmp_path):
    require_mpi()
    program = COMMON + """
    from shendu import keras
    from tests.distributed.test_data_parallel import _data
    x, y = _data(n=64)
    shendu.manual_seed(5)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    if rank == 0:
        np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))
    """
    result = run_mpi(program, args=[str(tmp_path / "k.npy")], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    from shendu import keras

    x, y = _data(n=64)
    shendu.manual_seed(5)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    expected = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(np.load(tmp_path / "k.npy"), expected, rtol=1e-5, atol=1e-6)


# ----- without MPI ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "world", "drop_last"), [(10, 2, False), (10, 3, False), (10, 3, True), (7, 4, False), (3, 5, False)])
def test_distributed_sampler_covers_the_dataset_once_per_epoch(n, world, drop_last):
    dataset = list(range(n))
    for epoch in (0, 1):
        shares = []
        for rank in range(world):
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, seed=4, drop_last=drop_last)
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
            assert len(shares[-1]) == len(sampler)
        assert len({len(s) for s in shares}) == 1  # the same number of samples on every process
        seen = [i for share in shares for i in share]
        if drop_last:
            assert len(set(seen)) == len(seen) == (n // world) * world
        else:
            assert set(seen) == set(dataset) and len(seen) == -(-n // world) * world
    first = DistributedSampler(dataset, num_replicas=2, rank=0, seed=4)
    second = DistributedSampler(dataset, num_replicas=2, rank=0, seed=4)
    second.set_epoch(1)
    assert list(first) != list(second)  # set_epoch reshuffles


def test_distributed_sampler_checks_its_arguments():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_without_a_process_group_everything_is_a_single_process():
    import shendu.distributed as dist

    assert not dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    with pytest.raises(dist.DistributedError, match="has not been initialized"):
        dist.all_reduce(shendu.ones(2))
    with pytest.raises(dist.DistributedError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")




def test_shendu_train_nproc_2_trains_once_and_writes_once(tmp_path):
    require_mpi()
    import subprocess
    import sys

    from .mpi import ROOT

    out = tmp_path / "m"
    command = [sys.executable, "-m", "shendu.cli", "train", "--nproc", "2", "--set", "training.epochs=2",
               "--set", "data.limit=1000", "--set", "data.test_limit=300", "--out", str(out)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("saved to") == 1
    assert sum(line.startswith("accuracy:") for line in result.stdout.splitlines()) == 1
    assert sum(line.startswith("Epoch 2/2") for line in result.stdout.splitlines()) == 1
    history = (out / "history.csv").read_text().strip().splitlines()
    assert len(history) == 3  # a header and two epochs: one writer
    model, info = shendu.load_model(out, with_metadata=True)
    assert info["metrics"]["accuracy"] > 0.5


def test_mpiexec_started_shendu_train_joins_the_process_group(tmp_path):
    require_mpi()
    program = """
    import sys
    from shendu.cli import main
    sys.exit(main(["train", "--set", "training.epochs=1", "--set", "data.limit=400", "--set", "data.test_limit=100",
                   "--out", sys.argv[1], "--quiet"]))
    """
    result = run_mpi(program, args=[str(tmp_path / "m")], timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("saved to") == 1
    assert (tmp_path / "m" / "model.safetensors").exists()


def test_a_config_error_under_mpiexec_ends_every_process(tmp_path):
    require_mpi()
    program = """
    import sys
    from shendu.cli import main
    sys.exit(main(["train", "--set", "training.epochs=-1"]))
    """
    result = run_mpi(program, args=[], timeout=120)
    assert result.returncode == 2
    assert "training.epochs" in result.stderr


SYNC_BN_PROGRAM = COMMON + """
    from tests.distributed.test_data_parallel import _sync_bn_data, _sync_bn_model
    x, y = _sync_bn_data()
    model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(_sync_bn_model()))
    optimizer = shendu.optim.SGD(model.parameters(), lr=0.1)
    half = len(x) // world
    for step in range(4):
        optimizer.zero_grad()
        part = slice(rank * half, (rank + 1) * half)
        nn.functional.cross_entropy(model(shendu.tensor(x[part])), shendu.tensor(y[part])).backward()
        optimizer.step()
    if rank == 0:
        shendu.save(model.module.state_dict(), out)
"""


def _sync_bn_data():
    rng = np.random.default_rng(4)
    return rng.standard_normal((8, 2, 6, 6)).astype(np.float64) * 3 + 1, rng.integers(0, 3, 8)


def _sync_bn_model():
    shendu.manual_seed(2)
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)).double()


def test_sync_batchnorm_on_two_processes_equals_batchnorm_on_the_global_batch(tmp_path):
    require_mpi()
    result = run_mpi(SYNC_BN_PROGRAM, args=[str(tmp_path / "w.safetensors")], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    x, y = _sync_bn_data()
    model = _sync_bn_model()
    optimizer = shendu.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(4):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(shendu.tensor(x)), shendu.tensor(y)).backward()
        optimizer.step()
    got = shendu.load(tmp_path / "w.safetensors")
    for key, value in model.state_dict().items():  # weights and running statistics
        np.testing.assert_allclose(got[key].numpy(), value.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


def test_sync_batchnorm_alone_is_batchnorm():
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    plain, synced = nn.BatchNorm2d(3).double(), nn.SyncBatchNorm(3).double()
    np.testing.assert_array_equal(plain(shendu.tensor(x)).detach().numpy(), synced(shendu.tensor(x)).detach().numpy())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)))
    assert isinstance(converted[1], nn.SyncBatchNorm)
    converted64 = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3).double()))
    assert converted64[0].weight.dtype == shendu.float64 and converted64[0].running_var.dtype == shendu.float64

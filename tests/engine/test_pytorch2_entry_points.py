"""torch.compile, autocast/GradScaler, TorchScript and the precision/determinism switches: a PyTorch 2
training loop that uses them runs unchanged and gives the same numbers as without them."""

import numpy as np
import pytest

import shendu
import shendu.nn as nn


def _train(use_pytorch2_features):
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = shendu.optim.Adam(model.parameters(), lr=0.01)
    x, y = shendu.randn(16, 4), shendu.randint(0, 2, (16,))
    if use_pytorch2_features:
        shendu.set_float32_matmul_precision("high")
        shendu.use_deterministic_algorithms(True)
        model = shendu.compile(model, mode="reduce-overhead")
        scaler = shendu.amp.GradScaler()
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        if use_pytorch2_features:
            with shendu.autocast(device_type="cpu"):
                loss = nn.functional.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return losses


def test_a_pytorch_2_loop_runs_and_gives_the_eager_numbers():
    assert _train(True) == _train(False)
    assert shendu.get_float32_matmul_precision() == "high" and shendu.are_deterministic_algorithms_enabled()
    shendu.set_float32_matmul_precision("highest")
    shendu.use_deterministic_algorithms(False)


def test_compile_script_and_trace_return_what_they_are_given():
    model = nn.Linear(2, 2)
    assert shendu.compile(model) is model and shendu.jit.script(model) is model
    assert shendu.jit.trace(model, shendu.ones(1, 2)) is model

    @shendu.compile(fullgraph=True)
    def double(t):
        return t * 2

    assert double(shendu.ones(2)).tolist() == [2.0, 2.0]
    assert not shendu.compiler.is_compiling() and not shendu.jit.is_scripting()


def test_bad_arguments_and_torchscript_files_are_named(tmp_path):
    with pytest.raises(RuntimeError, match="Unrecognized mode=fastest"):
        shendu.compile(nn.Linear(2, 2), mode="fastest")
    with pytest.raises(ValueError, match="autocast: expected device_type to be one of cpu"):
        shendu.autocast(device_type="gpu")
    with pytest.raises(RuntimeError, match="expected 'highest', 'high' or 'medium'"):
        shendu.set_float32_matmul_precision("low")
    with pytest.raises(RuntimeError, match="TorchScript archives are not supported; save the model's weights"):
        shendu.jit.save(nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match="TorchScript archives hold code, which shendu does not run"):
        shendu.jit.load(tmp_path / "m.pt")
    assert np.isfinite(shendu.amp.GradScaler().get_scale())

"""Layers refuse inputs of another dtype, as PyTorch does, with a message naming both dtypes."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F

CASES = [
    ("Linear", lambda: nn.Linear(3, 2), lambda dtype: shendu.ones(4, 3, dtype=dtype), lambda: torch.nn.Linear(3, 2),
     lambda dtype: torch.ones(4, 3, dtype=dtype)),
    ("conv2d", lambda: nn.Conv2d(1, 2, 3), lambda dtype: shendu.ones(1, 1, 5, 5, dtype=dtype), lambda: torch.nn.Conv2d(1, 2, 3),
     lambda dtype: torch.ones(1, 1, 5, 5, dtype=dtype)),
    ("conv1d", lambda: nn.Conv1d(1, 2, 3), lambda dtype: shendu.ones(1, 1, 5, dtype=dtype), lambda: torch.nn.Conv1d(1, 2, 3),
     lambda dtype: torch.ones(1, 1, 5, dtype=dtype)),
    ("batch_norm", lambda: nn.BatchNorm1d(3), lambda dtype: shendu.ones(4, 3, dtype=dtype), lambda: torch.nn.BatchNorm1d(3),
     lambda dtype: torch.ones(4, 3, dtype=dtype)),
    ("layer_norm", lambda: nn.LayerNorm(3), lambda dtype: shendu.ones(4, 3, dtype=dtype), lambda: torch.nn.LayerNorm(3),
     lambda dtype: torch.ones(4, 3, dtype=dtype)),
]


@pytest.mark.parametrize(("name", "layer", "data", "torch_layer", "torch_data"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_a_float32_layer_refuses_another_dtype_as_pytorch_does(name, layer, data, torch_layer, torch_data, dtype):
    with pytest.raises(RuntimeError) as caught:
        layer()(data(getattr(shendu, dtype)))
    message = str(caught.value)
    assert message.startswith(f"{name}: input and weight must have the same dtype, but got shendu.{dtype} and shendu.float32")
    with pytest.raises(RuntimeError):
        torch_layer()(torch_data(getattr(torch, dtype)))


def test_prelu_refuses_a_float64_input_to_a_float32_weight():
    with pytest.raises(RuntimeError, match="prelu: input and weight must have the same dtype, but got shendu.float64 and shendu.float32"):
        nn.PReLU()(shendu.ones(2, dtype=shendu.float64))


def test_bool_input_to_linear_is_refused():
    with pytest.raises(RuntimeError, match="but got shendu.bool and shendu.float32"):
        nn.Linear(2, 2)(shendu.tensor([[True, False]]))


def test_functional_linear_refuses_a_mismatch_too():
    with pytest.raises(RuntimeError, match="linear: input and weight must have the same dtype"):
        F.linear(shendu.ones(2, 3, dtype=shendu.float64), shendu.ones(2, 3))


def test_matching_dtypes_work_in_both_precisions():
    layer = nn.Linear(3, 2)
    assert layer(shendu.ones(1, 3)).dtype == shendu.float32
    assert layer.double()(shendu.ones(1, 3, dtype=shendu.float64)).dtype == shendu.float64


def test_the_keras_dialect_still_casts_as_keras_documents():
    from shendu import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    out = model.predict(np.ones((4, 3), np.float64), verbose=0)
    assert out.dtype == np.float32 and out.shape == (4, 2)

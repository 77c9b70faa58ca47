"""Everyday PyTorch calls give the same values, dtype and shape in shendu (integer, bool and mixed inputs)."""

import numpy as np
import pytest
import torch

import shendu

CALLS = {
    "exp of list tensor": lambda m: m.exp(m.tensor([0.0, 1.0])),
    "sum keepdim negative dim": lambda m: m.ones(2, 3).sum(-1, keepdim=True),
    "mean over a tuple of dims": lambda m: m.ones(2, 3, 4).mean((0, 2)),
    "max of ints": lambda m: m.tensor([1, 5, 3]).max(),
    "argmax of ints": lambda m: m.tensor([[1, 5], [7, 3]]).argmax(1),
    "sum of a bool mask": lambda m: (m.tensor([[1.0, -1.0], [2.0, 3.0]]) > 0).sum(1),
    "abs of ints": lambda m: m.abs(m.tensor([-1, 2])),
    "neg of ints": lambda m: -m.tensor([1, 2]),
    "clamp of ints": lambda m: m.tensor([1, 5, 9]).clamp(2, 6),
    "int times bool": lambda m: m.tensor([1, 2]) * m.tensor([True, False]),
    "int to a float power": lambda m: m.tensor([1, 2]) ** 2.0,
    "int base, int exponents": lambda m: 2 ** m.tensor([3, 0]),
    "float floor-divided by int": lambda m: m.tensor([5.5]) // 2,
    "cat of ints": lambda m: m.cat([m.tensor([1]), m.tensor([2])]),
    "stack float64": lambda m: m.stack([m.tensor(np.ones(2)), m.tensor(np.zeros(2))]),
    "vector @ vector": lambda m: m.tensor([1.0, 2.0]) @ m.tensor([3.0, 4.0]),
    "max of ints along dim": lambda m: m.tensor([[1, 5], [7, 3]]).max(1).values,
    "sqrt of ints": lambda m: m.sqrt(m.tensor([4, 9])),
    "var of everything": lambda m: m.arange(6.0).var(),
    "biased std": lambda m: m.arange(6.0).std(unbiased=False),
    "logsumexp over a tuple": lambda m: m.arange(6.0).reshape(2, 3).logsumexp((0, 1)),
    "prod of ints": lambda m: m.tensor([2, 3]).prod(),
    "cumsum of ints": lambda m: m.tensor([2, 3]).cumsum(0),
    "squeeze a tuple of dims": lambda m: m.zeros(1, 2, 1).squeeze((0, 2)),
    "reshape with -1": lambda m: m.arange(6).reshape(3, -1),
    "expand ints": lambda m: m.tensor([[1], [2]]).expand(2, 3),
    "masked_fill with an int": lambda m: m.zeros(3).masked_fill(m.tensor([True, False, True]), 2),
    "int == float": lambda m: m.tensor([1, 2]) == 1.0,
    "float tensor + 0-d int": lambda m: m.ones(2) + m.tensor(3),
    "int tensor + 0-d float": lambda m: m.tensor([1, 2]) + m.tensor(1.5),
    "int32 + 0-d int64": lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(3),
    "int / float": lambda m: m.tensor([3]) / 2.0,
    "number - tensor": lambda m: 1 - m.tensor([0.25]),
    "number / int tensor": lambda m: 1 / m.tensor([2]),
    "where with numbers": lambda m: m.where(m.tensor([1.0, -1.0]) > 0, 1, 0),
    "min along dim": lambda m: m.tensor([[3.0, 1.0]]).min(dim=1).values,
    "uint8 image / 255": lambda m: m.tensor(np.array([0, 128, 255], np.uint8)) / 255,
    "uint8 image * 2": lambda m: m.tensor(np.array([0, 100], np.uint8)) * 2,
}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
def test_everyday_call_matches_torch(call):
    mine, theirs = call(shendu), call(torch)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.dtype.name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(
        np.asarray(mine.tolist(), dtype=float), np.asarray(theirs.tolist(), dtype=float), rtol=1e-6
    )


def test_a_zero_dimensional_tensor_formats_as_its_value_as_in_pytorch():
    import torch

    for value in (3.14159, 2.0, -1e-8):
        ours, theirs = shendu.tensor(value), torch.tensor(value)
        for spec in ("", ".2f", ".3e", ">10.4f"):
            assert format(ours, spec) == format(theirs, spec), spec
    assert f"{shendu.tensor(7)}" == f"{torch.tensor(7)}"
    assert f"{shendu.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(shendu.tensor([1.0, 2.0]), ".2f")
    assert str(shendu.Size([2, 3])) == "shendu.Size([2, 3])"


def test_a_shuffled_dataloader_over_an_empty_dataset_raises_as_pytorch():
    from shendu.utils.data import DataLoader

    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        DataLoader([], shuffle=True)
    assert list(DataLoader([], shuffle=False)) == []

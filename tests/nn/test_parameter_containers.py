"""ParameterList and ParameterDict as PyTorch's: registration, state_dict keys and order, training, errors."""

import numpy as np
import pytest
import torch

import shendu


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.zeros(3)])
            self.heads = lib.nn.ParameterDict({"mean": lib.nn.Parameter(lib.zeros(2)), "log_std": lib.zeros(2)})

        def forward(self, x):
            return (x * self.scales[0] + self.heads["mean"]) * self.heads["log_std"].exp() + self.scales[1][:2]

    return Net()


def test_the_same_state_dict_keys_order_and_gradients_as_pytorch():
    theirs, ours = _net(torch), _net(shendu)
    theirs.scales.append(torch.ones(1))
    ours.scales.append(shendu.ones(1))
    theirs.heads.update([("z", torch.nn.Parameter(torch.ones(1))), ("a", torch.nn.Parameter(torch.ones(1)))])
    ours.heads.update([("z", shendu.nn.Parameter(shendu.ones(1))), ("a", shendu.nn.Parameter(shendu.ones(1)))])
    assert list(ours.state_dict()) == list(theirs.state_dict())  # a plain dict's keys sorted, pairs kept in order
    ours.load_state_dict({k: shendu.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    theirs(torch.tensor(x)).sum().backward()
    ours(shendu.tensor(x)).sum().backward()
    for (name, a), (_, b) in zip(theirs.named_parameters(), ours.named_parameters()):
        expected = None if a.grad is None else a.grad.numpy()
        got = None if b.grad is None else b.grad.numpy()
        if expected is None:
            assert got is None, name
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=name)
    assert len(ours.scales) == 3 and "mean" in ours.heads and ours.heads.pop("a").shape == (1,)
    assert len(list(ours.parameters())) == 6 and isinstance(ours.scales[-1], shendu.nn.Parameter)
    assert "(0): Parameter containing: [shendu.float32 of size 2]" in repr(ours)


def test_bad_entries_are_named():
    with pytest.raises(TypeError, match="ParameterList.append: expected a Parameter or a Tensor, got int"):
        shendu.nn.ParameterList().append(3)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        shendu.nn.ParameterList([shendu.ones(1)])[5]
    with pytest.raises(TypeError, match="ParameterDict: expected a Parameter or a Tensor, got str"):
        shendu.nn.ParameterDict({"a": "b"})


def test_save_model_asks_for_the_state_dict_of_a_parameter_list(tmp_path):
    with pytest.raises(TypeError, match="cannot save ParameterList: .* save only its weights with shendu.save"):
        shendu.save_model(shendu.nn.ParameterList([shendu.ones(2)]), tmp_path / "m")

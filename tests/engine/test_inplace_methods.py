"""More in-place and construction methods, against PyTorch: the same results, and the same refusals."""

import numpy as np
import pytest
import torch

import shendu


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.scatter_(0, m.tensor([[0, 1, 2, 0]]), m.tensor([[9.0, 8.0, 7.0, 6.0]])),
        lambda m, x: x.scatter_(1, m.tensor([[1], [0], [3]]), value=5.0),
        lambda m, x: x.scatter_(1, m.tensor([[1, 1], [0, 2], [3, 3]]), m.ones(3, 2), reduce="add"),
        lambda m, x: x.index_fill_(1, m.tensor([0, 2]), -1.0), lambda m, x: x.fill_diagonal_(4.0),
        lambda m, x: x.unsqueeze_(1), lambda m, x: x[:1].clone().squeeze_(0), lambda m, x: x.exp_(), lambda m, x: x.abs_().sqrt_(),
        lambda m, x: x.abs_().log_(), lambda m, x: x.neg_(), lambda m, x: x.tanh_(), lambda m, x: x.sigmoid_(), lambda m, x: x.relu_(),
        lambda m, x: x.floor_(), lambda m, x: x.new_zeros(2, 3), lambda m, x: x.new_ones((2,)), lambda m, x: x.new_full((2, 2), 7.0),
        lambda m, x: x.new_tensor([1, 2]), lambda m, x: x.apply_(lambda v: v * 2 + 1),
    ],
)
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")  # PyTorch's own deprecation note
def test_methods_equal_pytorch(call):
    data = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours, theirs = call(shendu, shendu.tensor(data)), call(torch, torch.tensor(data))
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_the_datasets_tutorials_one_hot_target_transform():
    for y in (0, 3, 9):
        ours = shendu.zeros(10, dtype=shendu.float).scatter_(0, shendu.tensor(y), value=1)
        theirs = torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)
        assert ours.tolist() == theirs.tolist()


def test_in_place_methods_refuse_a_leaf_that_requires_grad():
    x = shendu.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being used in an in-place operation"):
        x.exp_()
    with shendu.no_grad():
        assert x.exp_().tolist() == pytest.approx([np.e] * 3)


def test_accelerator_and_backends_answer_for_a_cpu():
    device = shendu.accelerator.current_accelerator().type if shendu.accelerator.is_available() else "cpu"
    assert device == "cpu" and not shendu.backends.mps.is_available()
    shendu.backends.cudnn.benchmark = True  # accepted, changes nothing
    assert shendu.ones(2).ndimension() == 1 and shendu.ones(2).data_ptr() > 0


def test_grad_fn_can_be_walked_backwards_as_in_the_neural_networks_tutorial():
    net = shendu.nn.Sequential(shendu.nn.Linear(2, 3), shendu.nn.ReLU(), shendu.nn.Linear(3, 1))
    loss = shendu.nn.MSELoss()(net(shendu.randn(4, 2)), shendu.randn(4, 1))
    assert repr(loss.grad_fn).startswith("<MSEBackward0 object at 0x")
    linear = loss.grad_fn.next_functions[0][0]
    assert linear.name() == "LinearBackward0"
    relu, weight, bias = (fn for fn, _ in linear.next_functions)
    assert relu.name() == "ReLUBackward0" and weight.variable is net[2].weight and bias.variable is net[2].bias
    assert loss.grad_fn.next_functions[1] == (None, 0)  # the target does not require grad


def test_jacobian_and_hessian_equal_pytorch():
    x = np.array([1.0, -2.0, 0.5])

    def f(m):
        return lambda a: m.stack([a[0] * a[1], a.sin().sum() * a[2]])

    ours = shendu.autograd.functional.jacobian(f(shendu), shendu.tensor(x))
    theirs = torch.autograd.functional.jacobian(f(torch), torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = shendu.autograd.functional.hessian(lambda a: (a**3).sum() * a[0], shendu.tensor(x))
    theirs = torch.autograd.functional.hessian(lambda a: (a**3).sum() * a[0], torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_set_printoptions_as_pytorch():
    values = [[1.123456, 2.5], [3.0, 4.75]]
    try:
        shendu.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert repr(shendu.tensor(values)) == repr(torch.tensor(values))
    finally:
        shendu.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(shendu.tensor(values)) == repr(torch.tensor(values))

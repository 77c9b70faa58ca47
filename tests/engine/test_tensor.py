"""The Tensor's PyTorch surface: attributes, conversions, dtype rules, creation functions, seeding, devices."""

import math

import numpy as np
import pytest
import torch

import shendu

# ----- dtype rules -------------------------------------------------------------


def test_dtype_objects_exist_and_compare_with_numpy():
    assert shendu.float32 == np.float32 and shendu.float64 == np.float64
    assert shendu.int64 == np.int64 and shendu.bool == np.bool_
    assert shendu.float is shendu.float32 and shendu.double is shendu.float64 and shendu.long is shendu.int64
    assert repr(shendu.float32) == "shendu.float32"
    assert shendu.float32.is_floating_point and not shendu.int64.is_floating_point


@pytest.mark.parametrize(
    "data",
    [
        1.5,
        [1.0, 2.0],
        3,
        [1, 2],
        True,
        [True, False],
        np.array([1.0, 2.0]),
        np.array([1.0], np.float32),
        np.array([1, 2], np.int32),
        np.array(2.5),
    ],
    ids=repr,
)
def test_tensor_infers_the_same_dtype_as_torch(data):
    mine, theirs = shendu.tensor(data), torch.tensor(data)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert mine.tolist() == theirs.tolist()


def test_float64_numpy_array_stays_float64_and_python_floats_are_float32():
    assert shendu.tensor(np.zeros(3)).dtype == shendu.float64
    assert shendu.tensor([0.5]).dtype == shendu.float32
    assert shendu.from_numpy(np.zeros(3)).dtype == shendu.float64
    assert shendu.tensor(7).dtype == shendu.int64


def test_integer_division_gives_float32_like_torch():
    for a, b in [([3, 4], [2, 8]), (7, [2, 3])]:
        a_s, a_t = (shendu.tensor(a), torch.tensor(a)) if isinstance(a, list) else (a, a)
        mine, theirs = a_s / shendu.tensor(b), a_t / torch.tensor(b)
        assert mine.dtype == shendu.float32 and theirs.dtype == torch.float32
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
    assert (shendu.tensor([1, 2]) / 2).dtype == shendu.float32


PROMOTIONS = [
    (np.array([1, 2]), np.array([0.5, 1.5], np.float32)),
    (np.array([1, 2]), np.array([0.5, 1.5])),
    (np.array([1.0, 2.0], np.float32), np.array([0.5, 1.5])),
    (np.array([True, False]), np.array([1, 2])),
    (np.array([True, False]), np.array([1.0, 2.0], np.float32)),
    (np.array([1, 2], np.int32), np.array([1, 2])),
    (np.array([1, 2]), 2.5),
    (np.array([1.0, 2.0], np.float32), 2),
    (np.array([1.0, 2.0], np.float32), np.float64(2.0)),
    (np.array([1, 2]), 3),
    (np.array([True, False]), 2.0),
    (np.array([True, False]), True),
    (np.array([1, 2], np.int32), 3),
    (np.array(2.0), np.array([1.0], np.float32)),
]


@pytest.mark.parametrize("a,b", PROMOTIONS, ids=repr)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum"])
def test_mixed_dtype_promotion_matches_torch(op, a, b):
    if op == "sub" and (np.asarray(a).dtype == bool or np.asarray(b).dtype == bool):
        return  # torch forbids subtracting booleans
    if op == "maximum" and not isinstance(b, np.ndarray):
        return  # torch.maximum takes tensors only
    ta = torch.tensor(a)
    tb = torch.tensor(b) if isinstance(b, np.ndarray) else b
    sa = shendu.tensor(a)
    sb = shendu.tensor(b) if isinstance(b, np.ndarray) else b
    theirs = getattr(torch, op)(ta, tb)
    mine = getattr(shendu, op)(sa, sb)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
    reflected = getattr(shendu, op)(sb, sa) if op != "sub" else None
    if reflected is not None:
        assert reflected.dtype == mine.dtype


def test_gradients_of_mixed_precision_inputs_keep_each_input_dtype():
    a = shendu.tensor(np.ones(3, np.float32), requires_grad=True)
    b = shendu.tensor(np.ones(3, np.float64), requires_grad=True)
    out = a * b
    assert out.dtype == shendu.float64
    out.sum().backward()
    assert a.grad.dtype == shendu.float32 and b.grad.dtype == shendu.float64


# ----- attributes and conversions ----------------------------------------------


def test_item_numpy_tolist_float_int_len():
    x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x[1, 0].item() == 3.0 and isinstance(x[1, 0].item(), float)
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert float(x[0, 1]) == 2.0 and int(x[1, 1]) == 4 and len(x) == 2
    assert isinstance(shendu.tensor([3]).sum().item(), int)


def test_numpy_asarray_and_array_copy_semantics():
    x = shendu.tensor([1.0, 2.0])
    assert np.asarray(x) is x.numpy()
    copied = np.array(x, copy=True)
    copied[0] = 5.0
    assert x[0].item() == 1.0
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_numpy_shares_memory_and_requires_detach_when_grad_is_on():
    x = shendu.zeros(3)
    x.numpy()[0] = 1.0
    assert x[0].item() == 1.0
    y = shendu.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        y.numpy()
    assert y.detach().numpy().shape == (3,)


def test_data_is_a_detached_tensor_sharing_storage():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, shendu.Tensor) and not d.requires_grad and d.grad_fn is None
    d[0] = 10.0  # no error: .data is outside the graph, like torch
    assert x[0].item() == 10.0
    x.data = shendu.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad


def test_max_of_outputs_data_along_dim_1_as_in_the_seed_program():
    outputs = shendu.tensor([[0.1, 2.0, 0.3], [4.0, 0.5, 0.6]], requires_grad=True) * 2
    _, predicted = shendu.max(outputs.data, 1)
    assert predicted.tolist() == [1, 0]
    labels = shendu.tensor([1, 2])
    assert (predicted == labels).sum().item() == 1


def test_detach_clone_requires_grad_():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    z = shendu.zeros(2).requires_grad_()
    assert z.requires_grad and z.is_leaf
    assert z.requires_grad_(False) is z and not z.requires_grad


def test_zero_fill_and_in_place_arithmetic_under_no_grad():
    w = shendu.ones(3, requires_grad=True)
    with shendu.no_grad():
        w -= 0.5 * shendu.ones(3)
        w.mul_(2.0)
    assert w.tolist() == [1.0, 1.0, 1.0] and w.requires_grad and w.is_leaf
    (w * 3).sum().backward()
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="in-place"):
        w.zero_()


def test_in_place_methods_on_tensors_outside_the_graph_match_torch():
    t, s = torch.arange(6.0).reshape(2, 3), shendu.arange(6.0).reshape(2, 3)
    for tensor in (t, s):
        tensor.add_(1.0).mul_(2.0).sub_(1.0).div_(2.0)
        tensor.clamp_(0.0, 4.0)
        tensor.masked_fill_(tensor > 3.5, -1.0)
    np.testing.assert_array_equal(s.numpy(), t.numpy())
    s.fill_(2.5).copy_(shendu.tensor([1.0, 2.0, 3.0]))
    assert s.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_to_dtype_and_conversion_methods():
    x = shendu.tensor([1.5, -2.5])
    assert x.to(shendu.float64).dtype == shendu.float64
    assert x.double().dtype == shendu.float64 and x.double().float().dtype == shendu.float32
    assert x.long().tolist() == torch.tensor([1.5, -2.5]).long().tolist()
    assert x.bool().dtype == shendu.bool and x.int().dtype == shendu.int32
    assert x.to("cpu") is x and x.cpu() is x and x.to(x) is x
    assert x.to(shendu.float64, copy=True).dtype == shendu.float64
    assert x.type(shendu.float64).dtype == shendu.float64 and x.type() == "shendu.FloatTensor"


def test_double_of_a_leaf_carries_the_gradient_back_in_float32():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    (x.double() ** 2).sum().backward()
    assert x.grad.dtype == shendu.float32 and x.grad.tolist() == [2.0, 4.0]


def test_repr_looks_like_torch():
    for values in ([1.0, 2.0], [1.5, -2.25], 2.0, [[1, 2], [3, 4]], [True, False], [0.1234567, float("inf")]):
        assert repr(shendu.tensor(values)) == repr(torch.tensor(values))
    assert repr(shendu.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(shendu.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "dtype=shendu.float64" in repr(shendu.tensor(np.zeros(1)))
    assert "grad_fn=" in repr(shendu.tensor([1.0], requires_grad=True) * 2)


def test_pickle_and_deepcopy_keep_values_dtype_and_requires_grad_without_sharing():
    import copy
    import pickle

    x = shendu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = shendu.tensor(np.array([0.5, 0.5]))
    for clone in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert clone.tolist() == [1.0, 2.0] and clone.dtype == shendu.float64 and clone.requires_grad
        assert clone.grad.tolist() == [0.5, 0.5]
        with shendu.no_grad():
            clone[0] = 9.0
        assert x[0].item() == 1.0


def test_comparing_with_none_is_false_like_torch():
    x = shendu.ones(2)
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x in [None, x] and None not in [x]


def test_bool_of_one_element_and_ambiguity():
    assert bool(shendu.tensor([1.0])) and not bool(shendu.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(shendu.tensor([1.0, 2.0]))


def test_tensor_constructor_and_is_tensor():
    t = shendu.Tensor([[1.0, 2.0]])
    assert t.dtype == shendu.float32 and shendu.is_tensor(t) and not shendu.is_tensor([1.0])
    assert shendu.numel(t) == 2


def test_tensor_of_tensors_and_as_tensor():
    t = shendu.tensor([shendu.tensor(1.0), shendu.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]
    a = np.zeros(2, np.float32)
    shared = shendu.as_tensor(a)
    a[0] = 3.0
    assert shared[0].item() == 3.0
    copied = shendu.tensor(a)
    a[1] = 4.0
    assert copied[1].item() == 0.0


# ----- creation ----------------------------------------------------------------

CREATION = [
    ("zeros", lambda m: m.zeros(2, 3)),
    ("zeros tuple", lambda m: m.zeros((2, 3))),
    ("ones", lambda m: m.ones(4)),
    ("ones float64", lambda m: m.ones(2, dtype=m.float64)),
    ("full float", lambda m: m.full((2, 2), 1.5)),
    ("full int", lambda m: m.full((2,), 7)),
    ("full bool", lambda m: m.full((2,), True)),
    ("arange", lambda m: m.arange(5)),
    ("arange float", lambda m: m.arange(0, 1, 0.25)),
    ("arange start end", lambda m: m.arange(2, 7, 2)),
    ("arange dtype", lambda m: m.arange(3, dtype=m.float32)),
    ("linspace", lambda m: m.linspace(-1, 1, 5)),
    ("eye", lambda m: m.eye(3)),
    ("eye rect", lambda m: m.eye(2, 3)),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64))),
    ("ones_like", lambda m: m.ones_like(m.arange(3))),
    ("full_like", lambda m: m.full_like(m.zeros(2), 3.0)),
    ("empty shape", lambda m: m.zeros_like(m.empty(2, 3))),
]


@pytest.mark.parametrize("make", [c[1] for c in CREATION], ids=[c[0] for c in CREATION])
def test_creation_functions_match_torch(make):
    mine, theirs = make(shendu), make(torch)
    assert mine.shape == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["zeros", "ones", "rand", "randn", "empty"])
def test_creation_takes_dtype_and_requires_grad(name):
    t = getattr(shendu, name)(2, 3, dtype=shendu.float64, requires_grad=True)
    assert t.dtype == shendu.float64 and t.requires_grad and t.is_leaf and t.shape == (2, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: shendu.full((2, 3), 0.5, **kw),
        lambda **kw: shendu.arange(0, 3, 0.5, **kw),
        lambda **kw: shendu.linspace(0, 1, 4, **kw),
        lambda **kw: shendu.eye(3, **kw),
        lambda **kw: shendu.tensor([1, 2], **kw),
        lambda **kw: shendu.zeros_like(shendu.ones(2), **kw),
        lambda **kw: shendu.ones_like(shendu.ones(2), **kw),
        lambda **kw: shendu.full_like(shendu.ones(2), 3.0, **kw),
        lambda **kw: shendu.rand_like(shendu.ones(2), **kw),
        lambda **kw: shendu.randn_like(shendu.ones(2), **kw),
    ],
)
def test_other_creation_functions_take_dtype_and_requires_grad(make):
    t = make(dtype=shendu.float64, requires_grad=True)
    assert t.dtype == shendu.float64 and t.requires_grad and t.is_leaf
    (t * 2).sum().backward()
    assert t.grad is not None and t.grad.dtype == shendu.float64 and t.grad.shape == t.shape


def test_random_creation_shapes_ranges_and_dtypes():
    u = shendu.rand(1000)
    assert u.dtype == shendu.float32 and 0 <= u.min().item() and u.max().item() < 1
    n = shendu.randn(10000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    i = shendu.randint(3, 7, (1000,))
    assert i.dtype == shendu.int64 and set(i.tolist()) == {3, 4, 5, 6}
    assert sorted(shendu.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert shendu.rand_like(shendu.zeros(2, 2, dtype=shendu.float64)).dtype == shendu.float64
    assert shendu.randn_like(shendu.zeros(3)).shape == (3,)


def test_manual_seed_makes_every_random_function_reproducible():
    def draw():
        return [
            shendu.rand(3).tolist(),
            shendu.randn(2, 2).tolist(),
            shendu.randint(0, 10, (4,)).tolist(),
            shendu.randperm(6).tolist(),
        ]

    shendu.manual_seed(123)
    first = draw()
    shendu.manual_seed(123)
    assert draw() == first
    shendu.manual_seed(124)
    assert draw() != first
    assert shendu.initial_seed() == 124


def test_generator_objects_and_rng_state_round_trip():
    g = shendu.Generator().manual_seed(5)
    a = shendu.rand(3, generator=g).tolist()
    assert shendu.rand(3, generator=shendu.Generator().manual_seed(5)).tolist() == a
    state = shendu.get_rng_state()
    b = shendu.randn(3).tolist()
    shendu.set_rng_state(state)
    assert shendu.randn(3).tolist() == b


# ----- devices -----------------------------------------------------------------


def test_device_and_cuda_behave_like_torch_on_a_cpu_machine():
    assert shendu.cuda.is_available() is False and shendu.cuda.device_count() == 0
    x = shendu.zeros(2)
    assert x.device == shendu.device("cpu") and x.device.type == "cpu" and str(x.device) == "cpu"
    assert x.device == "cpu" and not x.is_cuda
    device = shendu.device("cuda" if shendu.cuda.is_available() else "cpu")
    assert x.to(device) is x
    assert shendu.zeros(2, device="cpu").device.type == "cpu"
    assert shendu.tensor([1.0], device=device).device == device


def test_asking_for_cuda_raises_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        shendu.device("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        shendu.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        shendu.zeros(2).to("cuda:0")


def test_import_shendu_does_not_load_the_heavy_subpackages():
    import subprocess
    import sys

    code = "import sys, shendu; print(sorted(m for m in sys.modules if m.startswith('shendu.') and m.split('.')[1] in ('nn','optim','train','keras','serve','io','vision')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pi_and_size_helpers():
    assert shendu.zeros(3, 4).size(0) * shendu.zeros(3, 4).size(1) == 12
    assert math.isclose(shendu.tensor(math.pi).item(), math.pi, rel_tol=1e-6)

"""Module, Parameter, Sequential, ModuleList, ModuleDict, Identity, Flatten, Unflatten."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
from tests.helpers import assert_close

ATOL, RTOL = 1e-5, 1e-4


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.scale = nn.Parameter(shendu.ones(1))
        self.register_buffer("steps", shendu.zeros(1))
        self.register_buffer("cache", shendu.zeros(2), persistent=False)
        self.blocks = nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3))
        self.plain = 42

    def forward(self, x):
        return self.blocks(self.fc1(x)) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 3)
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.blocks = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))

    def forward(self, x):
        return self.blocks(self.fc1(x)) * self.scale


def numpy_state(module):
    """A torch or shendu module's state_dict as NumPy arrays."""
    return OrderedDict((k, np.array(v.detach().numpy())) for k, v in module.state_dict().items())


# ----- registration and traversal ------------------------------------------------------
def test_attributes_register_parameters_buffers_and_children_in_torchs_order():
    net, ref = Net(), TorchNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in net.named_children()] == ["fc1", "blocks"]
    assert list(net.children()) == [net.fc1, net.blocks]
    assert list(net.modules())[0] is net and len(list(net.modules())) == 5
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert net.plain == 42 and "plain" not in net.state_dict()
    assert {"fc1", "scale", "steps", "blocks"} <= set(dir(net))


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # as torch


def test_number_of_parameters_of_the_seed_mlp():
    model = nn.Sequential(nn.Linear(784, 50), nn.Linear(50, 100), nn.Linear(100, 10))
    assert model.num_parameters() == 45_360
    model[0].requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 45_360 - 784 * 50 - 50


def test_reassigning_and_deleting_attributes():
    net = Net()
    with pytest.raises(TypeError, match=r"cannot assign Tensor as parameter 'scale' \(Parameter or None expected\)"):
        net.scale = shendu.ones(1)
    with pytest.raises(TypeError, match=r"cannot assign int as child module 'fc1' \(Module or None expected\)"):
        net.fc1 = 3
    net.scale = None
    assert net.scale is None and "scale" not in dict(net.named_parameters())
    net.fc1 = nn.Linear(4, 5)  # a new child replaces the old
    assert net.fc1.out_features == 5
    net.steps = np.arange(1.0)  # arrays assigned to a buffer become tensors
    assert isinstance(net.steps, shendu.Tensor)
    with pytest.raises(TypeError, match=r"cannot assign str as buffer 'steps'"):
        net.steps = "x"
    del net.blocks
    assert "blocks.0.weight" not in net.state_dict()
    with pytest.raises(AttributeError, match=r"'Net' object has no attribute 'blocks'"):
        net.blocks  # noqa: B018
    net.plain = nn.Parameter(shendu.zeros(2))  # a plain attribute can become a parameter
    assert "plain" in dict(net.named_parameters())


def test_registering_before_init_or_with_bad_names():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(shendu.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign Parameter 'w' before Module.__init__\(\) call"):
        Early()
    m = nn.Module()
    with pytest.raises(KeyError, match=r"buffer name must not contain"):
        m.register_buffer("a.b", shendu.zeros(1))
    with pytest.raises(KeyError, match=r"parameter name must not be empty"):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match=r"buffer name should be a string; got int"):
        m.register_buffer(3, shendu.zeros(1))
    with pytest.raises(KeyError, match=r"attribute 'train' already exists"):
        m.register_buffer("train", shendu.zeros(1))
    with pytest.raises(TypeError, match=r"cannot assign Tensor as parameter 'w'"):
        m.register_parameter("w", shendu.zeros(1))
    with pytest.raises(TypeError, match=r"Linear is not a Module subclass|int is not a Module subclass"):
        m.add_module("x", 5)
    with pytest.raises(TypeError, match=r"Module.__init__\(\) takes no arguments"):
        nn.Module(3)


def test_buffers_persistent_and_not():
    net = Net()
    assert "steps" in net.state_dict() and "cache" not in net.state_dict()
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    net.register_buffer("cache", shendu.ones(2))  # re-registered persistent
    assert "cache" in net.state_dict()
    net.register_buffer("empty", None)
    assert "empty" not in net.state_dict() and net.empty is None


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("blocks.0") is net.blocks[0]
    assert net.get_parameter("blocks.1.weight") is net.blocks[1].weight
    assert net.get_buffer("steps") is net.steps
    with pytest.raises(AttributeError, match=r"Sequential has no sub-module '7' \(looking up 'blocks.7'\)"):
        net.get_submodule("blocks.7")


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing the required \"forward\" function"):
        nn.Module()(shendu.zeros(1))


def test_forward_hooks_and_removal():
    layer = nn.Linear(2, 2)
    seen = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    y = layer(shendu.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy(), (3, 2)))
    assert seen == [(3, 2)]
    pre.remove()
    post.remove()
    layer(shendu.ones(3, 2))
    assert seen == [(3, 2)]


# ----- modes, gradients, apply, conversions ---------------------------------------------------
def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.blocks.train()
    assert net.blocks[0].training and not net.training
    with pytest.raises(ValueError, match=r"training mode is expected to be a bool; got str"):
        net.train("yes")


def test_train_calls_overridden_train_of_children():
    calls = []

    class Custom(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    nn.Sequential(Custom()).eval()
    assert calls == [False]


def test_zero_grad_and_requires_grad():
    net = Net()
    net(shendu.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.fc1.requires_grad_(False)
    net(shendu.randn(2, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.blocks[0].weight.grad is not None


def test_apply_visits_children_first_then_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    order = []
    assert model.apply(lambda m: order.append(type(m).__name__)) is model
    assert order == ["Linear", "Linear", "Sequential", "Sequential"]
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert all(np.all(m.weight.detach().numpy() == 0) for m in model.modules() if isinstance(m, nn.Linear))


@pytest.mark.parametrize("how", ["double", "to-dtype", "to-string", "to-numpy-dtype", "to-tensor", "to-keyword"])
def test_to_double_converts_floats_in_place(how):
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = net[0].weight
    convert = {
        "double": lambda: net.double(),
        "to-dtype": lambda: net.to(shendu.float64),
        "to-string": lambda: net.to("float64"),
        "to-numpy-dtype": lambda: net.to(np.float64),
        "to-tensor": lambda: net.to(shendu.zeros(1, dtype=shendu.float64)),
        "to-keyword": lambda: net.to(device="cpu", dtype=shendu.float64),
    }[how]
    assert convert() is net
    assert net[0].weight is weight  # same Parameter object: optimizers keep working
    assert all(p.dtype == shendu.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == shendu.float64
    assert net[1].num_batches_tracked.dtype == shendu.int64  # integer buffers are left alone
    assert net(shendu.randn(4, 3, dtype=shendu.float64)).dtype == shendu.float64
    net.float()
    assert all(p.dtype == shendu.float32 for p in net.parameters())


def test_to_device_and_bad_dtype():
    net = nn.Linear(2, 2)
    assert net.to("cpu") is net and net.cpu() is net
    with pytest.raises(RuntimeError, match=r"CUDA is not available"):
        net.to("cuda")
    with pytest.raises(TypeError, match=r"Module.to only accepts floating-point dtypes; got shendu.int64"):
        net.to(shendu.int64)


def test_deepcopy_gives_an_independent_model():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.fc1.weight is not net.fc1.weight
    x = shendu.randn(2, 4)
    np.testing.assert_array_equal(twin(x).detach().numpy(), net(x).detach().numpy())
    nn.init.zeros_(twin.fc1.weight)
    assert np.any(net.fc1.weight.detach().numpy() != 0)


def test_parameter_basics():
    p = nn.Parameter(shendu.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, shendu.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    assert not nn.Parameter(shendu.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match=r"only floating-point tensors can require gradients"):
        nn.Parameter(shendu.tensor([1, 2]))
    source = shendu.zeros(3)
    nn.Parameter(source)._array[0] = 5  # shares storage, as torch.nn.Parameter(t)
    assert source[0].item() == 5


# ----- state_dict ------------------------------------------------------------------------------
def test_state_dict_keys_match_torch_and_values_share_memory():
    net = Net()
    state = net.state_dict()
    assert list(state) == list(TorchNet().state_dict())
    assert not state["fc1.weight"].requires_grad
    net.fc1.weight.data = shendu.ones(3, 4)
    assert all(isinstance(v, shendu.Tensor) for v in state.values())
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_load_state_dict_from_numpy_and_shendu_tensors():
    source, target = Net(), Net()
    for state in (numpy_state(source), source.state_dict()):
        nn.init.zeros_(target.fc1.weight)
        result = target.load_state_dict(state)
        assert result.missing_keys == [] and result.unexpected_keys == []
        assert repr(result) == "<All keys matched successfully>"
        x = shendu.randn(2, 4)
        np.testing.assert_array_equal(target(x).detach().numpy(), source(x).detach().numpy())
    nn.init.ones_(source.fc1.weight)  # loading copied the values, no aliasing
    assert not np.all(target.fc1.weight.detach().numpy() == 1)


def test_load_state_dict_casts_dtype_and_assign_replaces_storage():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": np.eye(2), "bias": [1.0, 2.0]})
    assert layer.weight.dtype == shendu.float32
    np.testing.assert_array_equal(layer.bias.detach().numpy(), [1.0, 2.0])
    new = np.full((2, 2), 3.0, np.float32)
    layer.load_state_dict({"weight": new, "bias": np.zeros(2, np.float32)}, assign=True)
    assert layer.weight.detach().numpy() is not new and layer.weight[0, 0].item() == 3.0


def test_missing_and_unexpected_keys_are_listed():
    net = Net()
    state = numpy_state(net)
    del state["fc1.bias"]
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    assert isinstance(error.value, KeyError)
    assert str(error.value) == (
        "Error(s) in loading state_dict for Net:\n"
        '\tUnexpected key(s) in state_dict: "extra.weight".\n'
        '\tMissing key(s) in state_dict: "fc1.bias".'
    )
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra.weight"]
    missing, unexpected = result
    assert missing == ["fc1.bias"] and unexpected == ["extra.weight"]


def test_shape_mismatch_names_key_and_both_shapes_and_copies_nothing():
    net = Net()
    before = numpy_state(net)
    state = numpy_state(Net())
    state["blocks.0.weight"] = np.zeros((3, 5), np.float32)
    for strict in (True, False):
        with pytest.raises(ValueError) as error:
            net.load_state_dict(state, strict=strict)
        assert isinstance(error.value, RuntimeError)
        assert "size mismatch for blocks.0.weight: copying a param with shape (3, 5) from checkpoint, " in str(
            error.value
        )
        assert "the shape in current model is (3, 3)." in str(error.value)
    for key, value in numpy_state(net).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)  # all or nothing


def test_load_state_dict_rejects_non_arrays():
    with pytest.raises(TypeError, match=r"state_dict value for 'weight' has dtype <U3; expected a numeric array"):
        nn.Linear(1, 1).load_state_dict({"weight": np.array([["abc"]]), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match=r"expected a mapping for state_dict; got list"):
        nn.Linear(1, 1).load_state_dict([1, 2])


def test_state_dict_round_trip_with_torch_for_sequential():
    def build(lib):
        return lib.Sequential(lib.Linear(6, 8), lib.BatchNorm1d(8), lib.Dropout(0.3), lib.Linear(8, 3))

    theirs, mine = build(torch.nn), build(nn)
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    theirs.train()
    theirs(torch.tensor(x * 2 + 1))  # move the running statistics away from their defaults
    mine.load_state_dict(numpy_state(theirs))
    theirs.eval()
    mine.eval()
    assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL, "torch → shendu")
    # and back: shendu weights (re-initialised) into a fresh torch model
    for module in mine.modules():
        if isinstance(module, nn.Linear):
            module.reset_parameters()
    back = build(torch.nn).eval()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in numpy_state(mine).items()})
    assert_close(mine(shendu.tensor(x)), back(torch.tensor(x)), ATOL, RTOL, "shendu → torch")


def test_state_dict_round_trip_with_torch_for_a_custom_model():
    theirs, mine = TorchNet(), Net()
    mine.load_state_dict(numpy_state(theirs))
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL)


# ----- repr --------------------------------------------------------------------------------------
def test_print_model_matches_torch(capsys):
    def build(lib):
        return lib.Sequential(lib.Flatten(), lib.Linear(784, 500), lib.Dropout(0.2), lib.Linear(500, 10))

    print(build(nn))
    mine = capsys.readouterr().out
    print(build(torch.nn))
    assert mine == capsys.readouterr().out
    assert mine.splitlines()[1] == "  (0): Flatten(start_dim=1, end_dim=-1)"


def test_nested_and_container_reprs_match_torch():
    def build(lib):
        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.features = lib.Sequential(
                    OrderedDict([("fc", lib.Linear(4, 4)), ("norm", lib.LayerNorm(4)), ("id", lib.Identity())])
                )
                self.layers = lib.ModuleList([lib.Linear(4, 4) for _ in range(3)] + [lib.BatchNorm1d(4)])
                self.heads = lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.Unflatten(1, (2, 2))})
                self.empty = lib.ModuleList()

        return Model()

    assert repr(build(nn)) == repr(build(torch.nn))


def test_extra_repr_multiline_and_one_line():
    class Custom(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    class OneLine(nn.Module):
        def extra_repr(self):
            return "size=3"

    class TorchCustom(torch.nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    class TorchOneLine(torch.nn.Module):
        def extra_repr(self):
            return "size=3"

    assert repr(Custom()).replace("Custom", "X") == repr(TorchCustom()).replace("TorchCustom", "X")
    assert repr(OneLine()) == "OneLine(size=3)" == repr(TorchOneLine()).replace("Torch", "")
    assert repr(nn.Module()) == "Module()"


# ----- containers --------------------------------------------------------------------------------
def test_sequential_runs_its_modules_in_order():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    x = shendu.randn(5, 3)
    expected = model[1](model[0](x))
    np.testing.assert_allclose(model(x).detach().numpy(), expected.detach().numpy())


def test_sequential_from_ordered_dict_indexing_slicing_len():
    fc1, fc2, fc3 = nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 1)
    model = nn.Sequential(OrderedDict([("fc1", fc1), ("fc2", fc2), ("out", fc3)]))
    assert len(model) == 3 and list(model) == [fc1, fc2, fc3]
    assert model[0] is fc1 and model[-1] is fc3 and model.fc2 is fc2
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["fc1", "fc2"] and head[1] is fc2
    assert list(model.state_dict())[:2] == ["fc1.weight", "fc1.bias"]
    with pytest.raises(IndexError, match=r"index 3 is out of range for Sequential of length 3"):
        model[3]
    with pytest.raises(TypeError, match=r"Sequential: entry '1' is a int, not a Module"):
        nn.Sequential(nn.Identity(), 5)


def test_sequential_editing_renumbers_as_torch():
    def edit(lib):
        model = lib.Sequential(*[lib.Linear(1, 1) for _ in range(4)])
        del model[1]
        model.append(lib.Identity())
        model.insert(0, lib.Flatten())
        model.insert(-1, lib.Linear(2, 2))
        model[2] = lib.LayerNorm(1)
        model.extend([lib.Identity()])
        del model[0:2]
        return model

    mine, theirs = edit(nn), edit(torch.nn)
    assert list(mine._modules) == list(theirs._modules)
    assert repr(mine) == repr(theirs)
    popped = mine.pop(0)
    assert isinstance(popped, nn.LayerNorm) and len(mine) == len(theirs) - 1


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(layers.parameters())) == 6 and len(layers) == 3
    layers.append(nn.Identity())
    layers += [nn.Linear(2, 2)]
    layers.insert(1, nn.Flatten())
    assert [type(m).__name__ for m in layers] == ["Linear", "Flatten", "Linear", "Linear", "Identity", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[1]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    layers[0] = nn.Identity()
    assert isinstance(layers[0], nn.Identity) and isinstance(layers.pop(), nn.Linear)
    x = shendu.randn(1, 2)
    for layer in layers:
        x = layer(x)
    assert x.shape == (1, 2)
    combined = layers + nn.ModuleList([nn.Identity()])
    assert len(combined) == len(layers) + 1
    with pytest.raises(TypeError, match=r"is not a Module subclass"):
        layers.append("relu")
    with pytest.raises(IndexError):
        layers[10]


def test_module_dict_registers_and_behaves_like_a_dict():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    assert list(heads) == ["cls", "box"] and "cls" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    heads.update([("extra", nn.Identity())])
    heads["norm"] = nn.LayerNorm(4)
    assert list(heads.keys()) == ["cls", "box", "extra", "norm"]
    assert isinstance(heads.pop("extra"), nn.Identity)
    del heads["norm"]
    assert [k for k, _ in heads.items()] == ["cls", "box"] and len(list(heads.values())) == 2
    heads.clear()
    assert len(heads) == 0
    with pytest.raises(TypeError, match=r"expects a mapping or \(name, module\) pairs"):
        heads.update([1, 2])


def test_identity_flatten_unflatten():
    x = shendu.randn(2, 3, 4, 5, requires_grad=True)
    assert nn.Identity(54, unused="x")(x) is x
    for kwargs in (dict(), dict(start_dim=0), dict(start_dim=2), dict(start_dim=1, end_dim=2)):
        y = nn.Flatten(**kwargs)(x)
        assert y.shape == torch.nn.Flatten(**kwargs)(torch.zeros(2, 3, 4, 5)).shape
    y = nn.Flatten()(x)
    y.sum().backward()
    assert x.grad.shape == (2, 3, 4, 5)
    z = nn.Unflatten(1, (3, 20))(y)
    assert z.shape == (2, 3, 20)
    np.testing.assert_array_equal(z.detach().numpy(), x.detach().numpy().reshape(2, 3, 20))
    assert nn.Unflatten(1, (-1, 4))(y).shape == (2, 15, 4)
    with pytest.raises(ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(7, 7\)\) got input of shape \(2, 60\)"):
        nn.Unflatten(1, (7, 7))(y)

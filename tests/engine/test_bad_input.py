"""Mistakes users make get a clear error of the right type that names what was expected and what was received."""

import numpy as np
import pytest

import shendu


@pytest.mark.parametrize(
    "a_shape,b_shape",
    [((3, 4), (5, 2)), ((4,), (3,)), ((2, 3, 4), (2, 5, 6)), ((2, 3, 4), (3, 4, 2))],
    ids=str,
)
def test_matmul_shape_mismatch_is_a_value_error_naming_both_shapes(a_shape, b_shape):
    a, b = shendu.ones(*a_shape), shendu.ones(*b_shape)
    with pytest.raises(ValueError, match=rf"matmul: .*{a_shape}.*{b_shape}".replace("(", r"\(").replace(")", r"\)")):
        a @ b


def test_matmul_of_a_scalar_is_a_value_error():
    with pytest.raises(ValueError, match=r"at least 1 dimension.*\(\).*\(3,\)"):
        shendu.matmul(shendu.tensor(2.0), shendu.ones(3))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "eq", "lt"])
def test_broadcasting_mismatch_is_a_value_error_naming_both_shapes(op):
    a, b = shendu.ones(3, 4), shendu.ones(2, 4)
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(2, 4\).*not broadcastable"):
        getattr(shendu, op)(a, b)


def test_broadcasting_mismatch_through_operators_and_where():
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        shendu.ones(3) + shendu.ones(4)
    with pytest.raises(ValueError, match=r"where: .*\(3,\).*\(4,\)"):
        shendu.where(shendu.ones(3) > 0, shendu.ones(3), shendu.ones(4))


def test_backward_on_a_non_scalar_without_gradient_says_so():
    y = shendu.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\).*gradient="):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = shendu.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        y.backward(shendu.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        shendu.ones(2).sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda: shendu.tensor([1, 2], requires_grad=True),
        lambda: shendu.arange(3).requires_grad_(),
        lambda: shendu.zeros(2, dtype=shendu.int64, requires_grad=True),
    ],
)
def test_requires_grad_on_an_integer_tensor_is_a_type_error(make):
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients; got dtype shendu.int64"):
        make()


def test_requires_grad_false_on_a_non_leaf_is_refused():
    y = shendu.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


@pytest.mark.parametrize("bad", ["float33", "complex64", object, 3])
def test_unknown_dtype_is_a_type_error_listing_the_known_ones(bad):
    with pytest.raises(TypeError, match=r"unknown dtype .*expected one of .*float32"):
        shendu.zeros(2, dtype=bad)
    with pytest.raises(TypeError, match="unknown dtype"):
        shendu.ones(2).to(dtype=bad)


def test_unsupported_data_is_a_type_error():
    with pytest.raises(TypeError, match="cannot make a tensor"):
        shendu.tensor(["a", "b"])
    with pytest.raises(TypeError, match="from_numpy expects a numpy.ndarray; got list"):
        shendu.from_numpy([1.0])


@pytest.mark.parametrize("bad", ["tpu", "gpu:0", "mps"])
def test_unknown_device_is_a_clear_runtime_error(bad):
    with pytest.raises(RuntimeError, match=rf"unknown device '{bad}'; expected 'cpu'"):
        shendu.device(bad)
    with pytest.raises(RuntimeError, match="unknown device"):
        shendu.zeros(2, device=bad)
    with pytest.raises(RuntimeError, match="unknown device"):
        shendu.ones(2).to(bad)
    with pytest.raises(RuntimeError, match="unknown device"):
        shendu.zeros_like(shendu.ones(2), device=bad)
    with pytest.raises(RuntimeError, match="unknown device"):
        shendu.tensor([1.0], device=bad)


def test_creation_with_bad_sizes():
    with pytest.raises(ValueError, match=r"sizes must be non-negative integers; got \(2, -1\)"):
        shendu.zeros(2, -1)
    with pytest.raises(ValueError, match="sizes must be non-negative integers"):
        shendu.ones(2.5)
    with pytest.raises(ValueError, match="step must be nonzero"):
        shendu.arange(0, 3, 0)
    with pytest.raises(TypeError, match="missing required argument 'size'"):
        shendu.randint(0, 3)
    with pytest.raises(TypeError, match="manual_seed expects an int; got str"):
        shendu.manual_seed("42")


def test_reshape_and_view_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"shape \[4, 4\] is invalid for input of shape \(2, 3\) \(6 elements\)"):
        shendu.ones(2, 3).reshape(4, 4)
    with pytest.raises(ValueError, match="invalid"):
        shendu.ones(2, 3).view(-1, -1)
    with pytest.raises(ValueError, match="invalid"):
        shendu.ones(2, 3).view(-1, 4)


def test_shape_op_misuse():
    x = shendu.ones(2, 3)
    with pytest.raises(ValueError, match=r"permute: got 3 dims"):
        x.permute(0, 1, 2)
    with pytest.raises(ValueError, match="repeat a dimension"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"dimension out of range.*got 5"):
        x.transpose(0, 5)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\).*\(2, 3\) outside dimension 0"):
        shendu.cat([x, shendu.ones(2, 4)])
    with pytest.raises(ValueError, match=r"stack expects each tensor to be equal size"):
        shendu.stack([x, shendu.ones(3, 2)])
    with pytest.raises(ValueError, match=r"cannot be broadcast to \(4, 3\)"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match=r"sizes \[1, 1\] sum to 2"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match="non-empty"):
        shendu.cat([])


def test_index_out_of_range_names_the_shape():
    x = shendu.ones(2, 3)
    with pytest.raises(IndexError, match=r"out of range for a tensor of shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match="must be long, int or bool"):
        x[shendu.tensor([0.5])]
    with pytest.raises(IndexError, match="gather: index out of range"):
        shendu.gather(x, 1, shendu.tensor([[0, 3]]))


def test_indexing_helpers_reject_wrong_dtypes():
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        shendu.ones(2).masked_fill(shendu.tensor([1, 0]), 0.0)
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        shendu.gather(shendu.ones(2, 2), 1, shendu.ones(2, 2))
    with pytest.raises(TypeError, match="one_hot is only applicable to index tensors"):
        shendu.one_hot(shendu.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="class value 3 is out of range for num_classes=3"):
        shendu.one_hot(shendu.tensor([0, 3]), 3)


def test_item_of_a_multi_element_tensor():
    with pytest.raises(ValueError, match=r"only one-element tensors can be converted to Python scalars; got shape"):
        shendu.ones(3).item()


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = shendu.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being used in an in-place operation"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="in-place"):
        w.add_(1.0)


def test_in_place_method_on_a_graph_node_is_refused_instead_of_corrupting_gradients():
    y = shendu.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"part of a graph \(grad_fn=MulBackward\).*out-of-place"):
        y.add_(1.0)
    y += 1.0  # the operator form rebinds y to a new node, which is always correct
    y.sum().backward()


def test_integer_in_place_true_division_is_refused_like_torch():
    x = shendu.tensor([2, 4])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        x /= 2


def test_assigning_a_grad_of_the_wrong_shape():
    w = shendu.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assigned grad has shape .*\[2\].* but the tensor has shape"):
        w.grad = shendu.ones(2)


def test_dim_argument_out_of_range_for_reductions_and_softmax():
    with pytest.raises(IndexError, match="dimension out of range"):
        shendu.ones(2, 3).max(dim=2)
    with pytest.raises(IndexError, match="dimension out of range"):
        shendu.softmax(shendu.ones(2, 3), dim=3)
    with pytest.raises(IndexError, match="dimension out of range"):
        shendu.ones(2, 3).argmax(dim=-3)


def test_clamp_without_bounds():
    with pytest.raises(ValueError, match="at least one of min and max"):
        shendu.clamp(shendu.ones(2))


def test_numpy_float64_tensor_stays_usable_after_errors():
    x = shendu.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError):
        x + shendu.ones(4)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]

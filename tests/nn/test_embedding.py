"""Embedding against PyTorch: lookup, gradients with repeated indices, padding, from_pretrained, bad input."""

import numpy as np
import pytest
import torch

import shendu
from shendu import nn
from shendu.nn import functional as F
from tests.helpers import assert_close, copy_torch_weights

# repeated indices (3 and 0 several times) exercise the gradient accumulation
INDICES = np.array([[3, 0, 7, 3], [0, 0, 9, 3], [1, 3, 5, 0]], dtype=np.int64)


def _pair(num, dim, **kwargs):
    t_emb = torch.nn.Embedding(num, dim, **kwargs)
    return t_emb, copy_torch_weights(t_emb, nn.Embedding(num, dim, **kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 0},
        {"padding_idx": -1},
        {"scale_grad_by_freq": True},
        {"max_norm": 1.0},
        {"max_norm": 2.0, "norm_type": 1.0},
    ],
    ids=["plain", "padding", "negative_padding", "scale_grad_by_freq", "max_norm", "max_norm_l1"],
)
def test_embedding_matches_torch(kwargs):
    t_emb, s_emb = _pair(10, 6, **kwargs)
    t_out, s_out = t_emb(torch.tensor(INDICES)), s_emb(shendu.tensor(INDICES))
    assert s_out.shape == (3, 4, 6) and s_out.dtype == shendu.float32
    assert_close(s_out, t_out, 1e-6, 1e-5, "lookup")
    probe = np.random.default_rng(0).uniform(-1, 1, size=(3, 4, 6)).astype(np.float32)
    (t_out * torch.tensor(probe)).sum().backward()
    (s_out * shendu.tensor(probe)).sum().backward()
    assert_close(s_emb.weight.grad, t_emb.weight.grad, 1e-6, 1e-5, "weight gradient")
    assert_close(s_emb.weight, t_emb.weight, 1e-6, 1e-5, "weight after max_norm renormalisation")


def test_gradient_accumulates_over_many_repeats():
    rng = np.random.default_rng(1)
    indices = np.minimum(rng.zipf(1.5, size=(16, 40)), 49).astype(np.int64)  # heavy repeats, as text
    t_emb, s_emb = _pair(50, 8, padding_idx=1)
    t_emb(torch.tensor(indices)).pow(2).sum().backward()
    s_emb(shendu.tensor(indices)).pow(2).sum().backward()
    assert_close(s_emb.weight.grad, t_emb.weight.grad, 1e-5, 1e-5)


def test_gradient_of_a_long_run_of_one_index_matches_torch():
    # pre-padded text: index 0 thousands of times a batch (its rows are summed by one matmul), others a few times
    rng = np.random.default_rng(2)
    indices = rng.integers(1, 30, size=(32, 100))
    indices[:, :75] = 0
    t_emb, s_emb = _pair(30, 8)
    upstream = rng.standard_normal((32, 100, 8)).astype(np.float32)
    t_emb(torch.tensor(indices)).backward(torch.tensor(upstream))
    s_emb(shendu.tensor(indices)).backward(shendu.tensor(upstream))
    assert_close(s_emb.weight.grad, t_emb.weight.grad, 1e-4, 1e-5)


def test_functional_embedding_matches_torch():
    weight = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    t_w, s_w = torch.tensor(weight, requires_grad=True), shendu.tensor(weight, requires_grad=True)
    t_out = torch.nn.functional.embedding(torch.tensor(INDICES), t_w, padding_idx=3)
    s_out = F.embedding(shendu.tensor(INDICES), s_w, padding_idx=3)
    assert_close(s_out, t_out, 0, 0)
    t_out.sum().backward()
    s_out.sum().backward()
    assert_close(s_w.grad, t_w.grad, 0, 0)


def test_embedding_gradcheck_float64():
    emb = nn.Embedding(5, 3, dtype=shendu.float64)
    indices = shendu.tensor([[0, 4, 0], [2, 2, 1]])
    assert shendu.autograd.gradcheck(lambda w: F.embedding(indices, w) ** 2, [emb.weight])


def test_int32_indices_and_scalar_index():
    emb = nn.Embedding(10, 4)
    assert_close(emb(shendu.tensor(INDICES.astype(np.int32))), emb.weight.detach().numpy()[INDICES], 0, 0)
    assert emb(shendu.tensor(7)).shape == (4,)


def test_padding_row_is_zero_at_init_and_gets_no_gradient():
    emb = nn.Embedding(10, 4, padding_idx=2)
    assert np.all(emb.weight.detach().numpy()[2] == 0)
    emb(shendu.tensor([[2, 2, 5]])).sum().backward()
    assert np.all(emb.weight.grad.numpy()[2] == 0)
    assert np.all(emb.weight.grad.numpy()[5] == 1)


def test_default_init_is_standard_normal():
    values = nn.Embedding(512, 512).weight.detach().numpy()
    assert abs(values.mean()) < 0.05
    assert abs(values.var() - 1) < 0.05


def test_from_pretrained_is_frozen_by_default():
    matrix = np.array([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]], dtype=np.float32)
    emb = nn.Embedding.from_pretrained(shendu.tensor(matrix))
    assert not emb.weight.requires_grad
    assert emb.num_embeddings == 2 and emb.embedding_dim == 3
    assert_close(emb(shendu.tensor([1])), matrix[[1]], 0, 0)
    out = emb(shendu.tensor([0, 1]))
    assert not out.requires_grad
    matrix[0, 0] = 100.0
    assert emb.weight.detach().numpy()[0, 0] == 1.0, "from_pretrained copies the matrix"


def test_from_pretrained_unfrozen_trains_and_keeps_padding_values():
    matrix = np.arange(12, dtype=np.float64).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(matrix, freeze=False, padding_idx=0)
    assert emb.weight.requires_grad and emb.weight.dtype == shendu.float64
    assert_close(emb.weight, torch.nn.Embedding.from_pretrained(torch.tensor(matrix), padding_idx=0).weight, 0, 0)
    emb(shendu.tensor([0, 3, 3])).sum().backward()
    assert_close(emb.weight.grad, [[0, 0, 0], [0, 0, 0], [0, 0, 0], [2, 2, 2]], 0, 0)


def test_state_dict_round_trip_with_torch():
    s_emb = nn.Embedding(7, 3, padding_idx=1)
    t_emb = torch.nn.Embedding(7, 3, padding_idx=1)
    t_emb.load_state_dict({k: torch.tensor(v.numpy()) for k, v in s_emb.state_dict().items()})
    back = copy_torch_weights(t_emb, nn.Embedding(7, 3))
    idx = np.array([[0, 1, 6]])
    assert_close(back(shendu.tensor(idx)), t_emb(torch.tensor(idx)), 0, 0)
    assert_close(s_emb(shendu.tensor(idx)), t_emb(torch.tensor(idx)), 0, 0)


def test_repr_matches_torch():
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == repr(torch.nn.Embedding(10, 3, padding_idx=0))
    assert repr(nn.Embedding(10, 3, max_norm=1.0)) == repr(torch.nn.Embedding(10, 3, max_norm=1.0))


@pytest.mark.parametrize("bad", [10, -1, 25])
def test_out_of_range_index_names_index_and_range(bad):
    emb = nn.Embedding(10, 3)
    with pytest.raises(
        IndexError, match=rf"Embedding\(num_embeddings=10\) got index {bad}, out of range .*valid: 0..9"
    ):
        emb(shendu.tensor([[1, bad, 2]]))
    with pytest.raises(IndexError, match=rf"embedding got index {bad}"):
        F.embedding(shendu.tensor([bad]), emb.weight)


def test_float_indices_are_a_type_error():
    with pytest.raises(TypeError, match=r"expects integer indices \(int64 or int32\); got dtype float32"):
        nn.Embedding(10, 3)(shendu.tensor([1.0, 2.0]))


@pytest.mark.parametrize(
    "build, error, message",
    [
        (
            lambda: nn.Embedding(0, 3),
            ValueError,
            "num_embeddings must be a positive integer. Received: num_embeddings=0",
        ),
        (lambda: nn.Embedding(5, -2), ValueError, "embedding_dim must be a positive integer"),
        (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "padding_idx must be within num_embeddings=5"),
        (lambda: nn.Embedding(5, 2, sparse=True), ValueError, "sparse gradients are not supported"),
        (lambda: nn.Embedding.from_pretrained(np.zeros(3, np.float32)), ValueError, r"must be 2-D; got shape \(3,\)"),
        (lambda: nn.Embedding.from_pretrained(np.zeros((3, 2), np.int64)), TypeError, "must be floating point"),
    ],
)
def test_invalid_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()

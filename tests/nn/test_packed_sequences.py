"""shendu.nn.utils.rnn against torch.nn.utils.rnn: padding, packing, and RNN/LSTM/GRU over packed batches
(every layout), with the same outputs, final states and gradients."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
from shendu.nn.utils import rnn

TORCH_RNN = torch.nn.utils.rnn


def _sequences(lengths, features=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, features)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_equals_torch(batch_first, padding_side):
    arrays = _sequences([2, 5, 3])
    ours = rnn.pad_sequence([shendu.tensor(a) for a in arrays], batch_first=batch_first, padding_value=-1.0, padding_side=padding_side)
    theirs = TORCH_RNN.pad_sequence([torch.tensor(a) for a in arrays], batch_first=batch_first, padding_value=-1.0,
                                    padding_side=padding_side)  # fmt: skip
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_unpack_round_trip_as_torch(batch_first):
    arrays = _sequences([4, 4, 2, 1])
    padded = TORCH_RNN.pad_sequence([torch.tensor(a) for a in arrays], batch_first=batch_first)
    theirs = TORCH_RNN.pack_padded_sequence(padded, [4, 4, 2, 1], batch_first=batch_first)
    ours = rnn.pack_padded_sequence(shendu.tensor(padded.numpy()), [4, 4, 2, 1], batch_first=batch_first)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist() and ours.sorted_indices is None
    back, lengths = rnn.pad_packed_sequence(ours, batch_first=batch_first, padding_value=7.0, total_length=6)
    expected, expected_lengths = TORCH_RNN.pad_packed_sequence(theirs, batch_first=batch_first, padding_value=7.0, total_length=6)
    np.testing.assert_array_equal(back.numpy(), expected.numpy())
    assert lengths.tolist() == expected_lengths.tolist()


def test_unsorted_batches_keep_their_order():
    arrays = _sequences([2, 5, 3])
    ours = rnn.pack_sequence([shendu.tensor(a) for a in arrays], enforce_sorted=False)
    theirs = TORCH_RNN.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    assert ours.unsorted_indices.tolist() == theirs.unsorted_indices.tolist()
    for got, expected in zip(rnn.unpack_sequence(ours), arrays):
        np.testing.assert_array_equal(got.numpy(), expected)


def test_unsorted_lengths_with_enforce_sorted_raise_pytorchs_error():
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"):
        rnn.pack_padded_sequence(shendu.zeros(5, 3, 2), [2, 5, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        rnn.pack_padded_sequence(shendu.zeros(5, 2, 2), [5, 0])
    with pytest.raises(ValueError, match="Expected `len\\(lengths\\)` to be equal to batch_size"):
        rnn.pack_padded_sequence(shendu.zeros(5, 2, 2), [5])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("layers", "bidirectional", "batch_first"), [(1, False, False), (2, True, True), (2, False, True), (1, True, False)])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_over_packed_batches_equal_torch(mode, layers, bidirectional, batch_first, with_state):
    torch.manual_seed(0)
    reference = getattr(torch.nn, mode)(3, 4, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).double()
    ours = getattr(nn, mode)(3, 4, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).double()
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    lengths = [2, 5, 3, 5]
    arrays = [a.astype(np.float64) for a in _sequences(lengths)]
    padded = np.stack([np.pad(a, ((0, 5 - len(a)), (0, 0))) for a in arrays], axis=0 if batch_first else 1)
    x_t = torch.tensor(padded, requires_grad=True)
    x_s = shendu.tensor(padded, requires_grad=True)
    packed_t = TORCH_RNN.pack_padded_sequence(x_t, lengths, batch_first=batch_first, enforce_sorted=False)
    packed_s = rnn.pack_padded_sequence(x_s, lengths, batch_first=batch_first, enforce_sorted=False)
    state_shape = (layers * (2 if bidirectional else 1), 4, 4)
    states = [np.random.default_rng(k).standard_normal(state_shape) for k in range(2 if mode == "LSTM" else 1)]
    if with_state:
        hx_t = tuple(torch.tensor(s) for s in states) if mode == "LSTM" else torch.tensor(states[0])
        hx_s = tuple(shendu.tensor(s) for s in states) if mode == "LSTM" else shendu.tensor(states[0])
    else:
        hx_t = hx_s = None
    out_t, h_t = reference(packed_t, hx_t)
    out_s, h_s = ours(packed_s, hx_s)
    assert isinstance(out_s, rnn.PackedSequence)
    np.testing.assert_allclose(out_s.data.detach().numpy(), out_t.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    finals_t, finals_s = (h_t, h_s) if mode == "LSTM" else ((h_t,), (h_s,))
    for a, b in zip(finals_s, finals_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    padded_t, _ = TORCH_RNN.pad_packed_sequence(out_t, batch_first=batch_first)
    padded_s, _ = rnn.pad_packed_sequence(out_s, batch_first=batch_first)
    weights = np.random.default_rng(9).standard_normal(padded_t.shape)
    ((padded_t * torch.tensor(weights)).sum() + sum(f.sum() for f in finals_t)).backward()
    ((padded_s * shendu.tensor(weights)).sum() + sum(f.sum() for f in finals_s)).backward()
    np.testing.assert_allclose(x_s.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    ours_params = dict(ours.named_parameters())
    for name, param in reference.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), param.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_a_packed_lstm_ignores_what_lies_in_the_padding():
    lstm = nn.LSTM(3, 4, batch_first=True)
    arrays = _sequences([2, 4])
    padded = np.stack([np.pad(a, ((0, 4 - len(a)), (0, 0))) for a in arrays])
    other = padded.copy()
    other[0, 2:] = 1e6  # garbage where the first sequence has ended
    h_a = lstm(rnn.pack_padded_sequence(shendu.tensor(padded), [2, 4], batch_first=True, enforce_sorted=False))[1][0]
    h_b = lstm(rnn.pack_padded_sequence(shendu.tensor(other), [2, 4], batch_first=True, enforce_sorted=False))[1][0]
    np.testing.assert_array_equal(h_a.detach().numpy(), h_b.detach().numpy())

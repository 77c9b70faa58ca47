"""MultiheadAttention, TransformerEncoder(Layer) and scaled_dot_product_attention against PyTorch, with copied
weights: the same state_dict keys, outputs and float64 gradients, every mask kind and layout."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F


def _copy(reference, ours):
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    assert list(ours.state_dict()) == list(reference.state_dict())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "padding", "both", "causal"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_equals_pytorch(batch_first, mask_kind, average):
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    _copy(reference, ours)
    rng = np.random.default_rng(1)
    shape_q, shape_k = ((3, 4, 8), (3, 6, 8)) if batch_first else ((4, 3, 8), (6, 3, 8))
    q, k, v = rng.standard_normal(shape_q), rng.standard_normal(shape_k), rng.standard_normal(shape_k)
    masks = {"attn_mask": None, "key_padding_mask": None, "is_causal": False}
    if mask_kind in ("bool", "both"):
        masks["attn_mask"] = rng.random((4, 6)) < 0.3
    if mask_kind == "float":
        masks["attn_mask"] = rng.standard_normal((4, 6))
    if mask_kind in ("padding", "both"):
        padding = np.zeros((3, 6), bool)
        padding[1, 4:] = True
        masks["key_padding_mask"] = padding
    if mask_kind == "causal":
        q, k, v = q, q.copy(), q.copy()
        masks["attn_mask"] = np.triu(np.ones((4, 4), bool), 1)
    tensors_t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    tensors_s = [shendu.tensor(a, requires_grad=True) for a in (q, k, v)]
    kwargs_t = {key: (torch.tensor(val) if isinstance(val, np.ndarray) else val) for key, val in masks.items() if key != "is_causal"}
    kwargs_s = {key: (shendu.tensor(val) if isinstance(val, np.ndarray) else val) for key, val in masks.items() if key != "is_causal"}
    out_t, weights_t = reference(*tensors_t, average_attn_weights=average, **kwargs_t)
    out_s, weights_s = ours(*tensors_s, average_attn_weights=average, **kwargs_s)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights_s.detach().numpy(), weights_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(out_t.shape))
    (out_t * torch.tensor(g)).sum().backward()
    (out_s * shendu.tensor(g)).sum().backward()
    for a, b in zip(tensors_s, tensors_t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
    ours_params = dict(ours.named_parameters())
    for name, param in reference.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), param.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_unbatched_attention_equals_pytorch():
    torch.manual_seed(0)
    reference, ours = torch.nn.MultiheadAttention(8, 4).double(), nn.MultiheadAttention(8, 4).double()
    _copy(reference, ours)
    x = np.random.default_rng(2).standard_normal((5, 8))
    out_t, w_t = reference(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    out_s, w_s = ours(shendu.tensor(x), shendu.tensor(x), shendu.tensor(x))
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w_s.detach().numpy(), w_t.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_equals_pytorch(batch_first, norm_first, activation):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, 0.0, activation=activation, batch_first=batch_first, norm_first=norm_first)
    reference = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False).double()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, 0.0, activation=activation, batch_first=batch_first,
                                                            norm_first=norm_first), 2, norm=nn.LayerNorm(16)).double()  # fmt: skip
    _copy(reference, ours)
    x = np.random.default_rng(0).standard_normal((3, 5, 16) if batch_first else (5, 3, 16))
    padding = np.zeros((3, 5), bool)
    padding[2, 3:] = True
    causal = np.triu(np.ones((5, 5), bool), 1)
    xt, xs = torch.tensor(x, requires_grad=True), shendu.tensor(x, requires_grad=True)
    yt = reference(xt, mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(padding))
    ys = ours(xs, mask=shendu.tensor(causal), src_key_padding_mask=shendu.tensor(padding))
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-11)
    yt.sum().backward()
    ys.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["plain", "causal", "bool", "float"])
def test_scaled_dot_product_attention_equals_pytorch(kind):
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((2, 3, 4, 8)), rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 6, 8))
    kwargs_t, kwargs_s = {}, {}
    if kind == "causal":
        k, v = q.copy(), q.copy()
        kwargs_t = kwargs_s = {"is_causal": True}
    elif kind == "bool":
        mask = rng.random((4, 6)) > 0.3
        mask[:, 0] = True
        kwargs_t, kwargs_s = {"attn_mask": torch.tensor(mask)}, {"attn_mask": shendu.tensor(mask)}
    elif kind == "float":
        mask = rng.standard_normal((4, 6))
        kwargs_t, kwargs_s = {"attn_mask": torch.tensor(mask)}, {"attn_mask": shendu.tensor(mask)}
    expected = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), **kwargs_t)
    got = F.scaled_dot_product_attention(shendu.tensor(q), shendu.tensor(k), shendu.tensor(v), **kwargs_s)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_a_small_transformer_classifier_trains():
    shendu.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.1, batch_first=True), 1)
    head = nn.Linear(8, 2)
    optimizer = shendu.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=0.01)
    x = shendu.randn(32, 5, 8)
    y = (x[:, :, 0].sum(dim=1) > 0).long()
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(head(encoder(x).mean(dim=1)), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's own note about its fast path
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_the_encoder_decoder_transformer_equals_pytorch(batch_first, norm_first):
    torch.manual_seed(0)
    kwargs = dict(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32, dropout=0.0,
                  batch_first=batch_first, norm_first=norm_first)  # fmt: skip
    reference, ours = torch.nn.Transformer(**kwargs).double(), nn.Transformer(**kwargs).double()
    _copy(reference, ours)
    rng = np.random.default_rng(5)
    src = rng.standard_normal((2, 6, 16) if batch_first else (6, 2, 16))
    tgt = rng.standard_normal((2, 4, 16) if batch_first else (4, 2, 16))
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mask_s = nn.Transformer.generate_square_subsequent_mask(4, dtype=shendu.float64)
    np.testing.assert_array_equal(mask_s.numpy(), mask_t.numpy())
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    st, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    ss, ts = shendu.tensor(src, requires_grad=True), shendu.tensor(tgt, requires_grad=True)
    yt = reference(st, tt, tgt_mask=mask_t, src_key_padding_mask=torch.tensor(padding), memory_key_padding_mask=torch.tensor(padding))
    ys = ours(ss, ts, tgt_mask=mask_s, src_key_padding_mask=shendu.tensor(padding), memory_key_padding_mask=shendu.tensor(padding))
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-11)
    yt.sum().backward()
    ys.sum().backward()
    np.testing.assert_allclose(ss.grad.numpy(), st.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ts.grad.numpy(), tt.grad.numpy(), rtol=1e-8, atol=1e-10)

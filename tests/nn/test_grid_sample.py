"""F.affine_grid and F.grid_sample (spatial transformers) against PyTorch, values and gradients in float64."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import gradcheck

CASES = [(mode, padding, corners) for mode in ("bilinear", "nearest") for padding in ("zeros", "border", "reflection")
         for corners in (False, True)]  # fmt: skip


@pytest.mark.parametrize(("mode", "padding_mode", "align_corners"), CASES)
def test_grid_sample_equals_pytorch_with_gradients(mode, padding_mode, align_corners):
    rng = np.random.default_rng(0)
    x, grid = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.4, 1.4, (2, 4, 7, 2))  # points outside the image too
    grid[0, 0, 0] = [1.0, -1.0]  # exactly on the edges
    weights = rng.standard_normal((2, 3, 4, 7))
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    expected = torch.nn.functional.grid_sample(tx, tg, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    (expected * torch.tensor(weights)).sum().backward()
    sx, sg = shendu.tensor(x, requires_grad=True), shendu.tensor(grid, requires_grad=True)
    out = F.grid_sample(sx, sg, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    (out * shendu.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(sg.grad.numpy(), tg.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_passes_a_float64_gradient_check(padding_mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 4, 5))
    grid = rng.uniform(-0.9, 0.9, (1, 3, 3, 2))  # away from pixel boundaries, where the derivative jumps
    gradcheck(lambda a, g: F.grid_sample(a, g, padding_mode=padding_mode, align_corners=False), None,
              inputs=[x, grid])  # fmt: skip


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_equals_pytorch_and_is_differentiable(align_corners):
    theta = np.random.default_rng(2).standard_normal((2, 2, 3))
    expected = torch.nn.functional.affine_grid(torch.tensor(theta), (2, 3, 5, 6), align_corners=align_corners)
    got = F.affine_grid(shendu.tensor(theta), (2, 3, 5, 6), align_corners=align_corners)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-14)
    gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=align_corners), None, inputs=[theta])


def test_the_spatial_transformer_tutorials_network_trains_as_in_pytorch():
    """PyTorch's "Spatial Transformer Networks" tutorial's localisation net, same weights: same losses for 3 steps.

    The tutorial starts from the identity transform; here it starts near it, so that no sampling point
    sits exactly on a pixel centre, where bilinear sampling's derivative jumps and float32 rounding
    (which differs between the libraries' matrix products) would pick either side.
    """

    def build(lib):
        class STN(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.localization = lib.nn.Sequential(lib.nn.Conv2d(1, 8, kernel_size=7), lib.nn.MaxPool2d(2, stride=2),
                                                      lib.nn.ReLU(True), lib.nn.Conv2d(8, 10, kernel_size=5),
                                                      lib.nn.MaxPool2d(2, stride=2), lib.nn.ReLU(True))  # fmt: skip
                self.fc_loc = lib.nn.Sequential(lib.nn.Linear(10 * 3 * 3, 32), lib.nn.ReLU(True), lib.nn.Linear(32, 3 * 2))
                self.fc_loc[2].weight.data.zero_()
                self.fc_loc[2].bias.data.copy_(lib.tensor([0.93, 0.051, 0.013, -0.042, 0.91, 0.021], dtype=lib.float))
                self.head = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(28 * 28, 10))

            def forward(self, x):
                xs = self.localization(x).view(-1, 10 * 3 * 3)
                theta = self.fc_loc(xs).view(-1, 2, 3)
                grid = lib.nn.functional.affine_grid(theta, x.size(), align_corners=False)
                return lib.nn.functional.log_softmax(self.head(lib.nn.functional.grid_sample(x, grid, align_corners=False)), dim=1)

        return STN()

    torch.manual_seed(0)
    reference, model = build(torch), build(shendu)
    model.load_state_dict({k: shendu.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(3)
    x, y = rng.random((16, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 16)
    theirs, ours = torch.optim.SGD(reference.parameters(), lr=0.05), shendu.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(3):
        for lib, net, optimizer in ((torch, reference, theirs), (shendu, model, ours)):
            optimizer.zero_grad()
            loss = lib.nn.functional.nll_loss(net(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            optimizer.step()
            if lib is torch:
                expected = loss.item()
            else:
                assert loss.item() == pytest.approx(expected, rel=1e-4)
    assert isinstance(model.fc_loc[2], nn.Linear)


def test_bad_arguments_are_named():
    x, grid = shendu.zeros(1, 1, 4, 4), shendu.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear' or 'nearest', but got: 'bicubic'"):
        F.grid_sample(x, grid, mode="bicubic")
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, grid, padding_mode="wrap")
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(shendu.zeros(2, 1, 4, 4), grid)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(shendu.zeros(1, 3, 3), (1, 1, 4, 4))
    with pytest.raises(ValueError, match="only 4-D sizes"):
        F.affine_grid(shendu.zeros(1, 2, 3), (1, 1, 2, 4, 4))

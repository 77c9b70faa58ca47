"""Example 5: seed 000's MNIST MLP (784-500-10), one epoch on the embedded digits."""

import shendu
from examples import mnist_mlp


def test_one_epoch_learns_digits_and_saves_a_loadable_checkpoint(tmp_path, capsys):
    path = tmp_path / "model.ckpt"
    result = mnist_mlp.main(["--fast", "--checkpoint", str(path)])
    assert result["accuracy"] > 0.85
    assert result["losses"][-1] < result["losses"][0] / 3
    assert "Accuracy of the network on the 2000 test images" in capsys.readouterr().out
    state = shendu.load(str(path))
    assert state["fc1.weight"].shape == (500, 784) and state["fc2.weight"].shape == (10, 500)

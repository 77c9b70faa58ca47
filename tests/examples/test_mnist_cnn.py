"""Example 7: seed 004's CNN in the Keras dialect, one epoch on 1,000 digits."""

from examples import mnist_cnn


def test_cnn_learns_from_a_thousand_digits(capsys):
    result = mnist_cnn.main(["--fast"])
    assert result["accuracy"] > 0.6  # chance is 0.1
    assert result["model"].count_params() == 34_826  # 320 + 18,496 + 16,010, as Keras counts them
    assert "test accuracy" in capsys.readouterr().out

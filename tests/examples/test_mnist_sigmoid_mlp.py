"""Example 6: seed 003's 784-50-100-10 sigmoid network: 45,360 parameters, learning on the digits."""

from examples import mnist_sigmoid_mlp


def test_parameter_count_is_the_articles():
    assert mnist_sigmoid_mlp.count_parameters(mnist_sigmoid_mlp.build_model()) == 45_360


def test_three_epochs_pass_eighty_five_percent(capsys):
    result = mnist_sigmoid_mlp.main(["--fast"])
    assert result["parameters"] == 45_360
    assert result["accuracy"] > 0.85
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]
    assert "45,360" in capsys.readouterr().out

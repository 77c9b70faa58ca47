"""shendu.explain: seed 001's worked example, number by number, from the autograd engine."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
from shendu import explain


@pytest.fixture
def worked():
    return explain.explain_step(explain.worked_example_network(), [0.05, 0.10], [0.01, 0.99], lr=0.5)


def test_forward_values_and_loss_of_the_worked_example(worked):
    assert worked.neuron("h1").net == pytest.approx(0.3775, abs=1e-12)
    assert worked.neuron("h1").out == pytest.approx(0.593269992, abs=1e-9)
    assert worked.neuron("h2").out == pytest.approx(0.596884378, abs=1e-9)
    assert worked.outputs == pytest.approx([0.75136507, 0.77292847], abs=1e-8)
    assert worked.loss == pytest.approx(0.298371109, abs=1e-9)


def test_output_weight_chain_rule_factors(worked):
    w5 = worked.weight("w5")
    assert w5.grad_out == pytest.approx(0.74136507, abs=1e-9)  # ∂E/∂out(o1) = -(target - out)
    assert w5.local == pytest.approx(0.186815602, abs=1e-9)  # ∂out/∂net = out(1 - out)
    assert w5.dnet_dw == pytest.approx(0.593269992, abs=1e-9)  # ∂net/∂w5 = out(h1)
    assert w5.grad == pytest.approx(0.082167041, abs=1e-9)
    assert w5.grad_out * w5.local * w5.dnet_dw == pytest.approx(w5.grad, rel=1e-12)
    grads = [worked.weight(f"w{i}").grad for i in range(5, 9)]
    assert grads == pytest.approx([0.082167041, 0.0826676285, -0.0226025404, -0.0227402422], abs=1e-9)


def test_hidden_neuron_gathers_the_error_of_both_outputs(worked):
    h1 = worked.neuron("h1")
    (o1, g1, d1), (o2, g2, d2) = h1.contributions
    assert (o1, o2) == ("o1", "o2")
    assert g1 == pytest.approx(0.138498562, abs=1e-9) and d1 == pytest.approx(0.40)
    assert g2 == pytest.approx(-0.0380982365, abs=1e-9) and d2 == pytest.approx(0.50)
    assert h1.grad_out == pytest.approx(0.036350306, abs=1e-9)
    assert h1.local == pytest.approx(0.241300709, abs=1e-9)
    assert worked.weight("w1").grad == pytest.approx(0.000438568, abs=1e-9)


def test_updated_weights_and_error_after_the_update(worked):
    new = [worked.weight(f"w{i}").new_value for i in range(1, 9)]
    expected = [0.149780716, 0.19956143, 0.24975114, 0.29950229, 0.35891648, 0.408666186, 0.511301270, 0.561370121]
    assert new == pytest.approx(expected, abs=1e-8)
    assert worked.loss_after == pytest.approx(0.29102777, abs=1e-8)
    assert {s.name for s in worked.weights} == {f"w{i}" for i in range(1, 9)}  # the fixed biases are not trained


def test_printed_derivation_shows_each_product_with_its_numbers(worked):
    text = str(worked)
    assert "∂E/∂w5 = ∂E/∂out(o1) · ∂out(o1)/∂net(o1) · ∂net(o1)/∂w5" in text
    assert "= 0.741365070 × 0.186815602 × 0.593269992 = 0.082167041" in text
    assert "= 0.138498562 × 0.400000000 + -0.038098237 × 0.500000000 = 0.036350306" in text
    assert "w5 = 0.400000000 - 0.5 × 0.082167041 = 0.358916480" in text
    assert "E = ½ Σ (target - out)² = 0.298371109" in text
    assert "engine's .grad" not in text  # every product agreed with the parameter's gradient


def _torch_copy(model):
    layers = []
    for module in model:
        if isinstance(module, nn.Linear):
            linear = torch.nn.Linear(module.in_features, module.out_features, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(module.weight.detach().numpy().copy()))
                linear.bias.copy_(torch.from_numpy(module.bias.detach().numpy().copy()))
            layers.append(linear)
        else:
            layers.append({"Tanh": torch.nn.Tanh(), "Softmax": torch.nn.Softmax(dim=-1), "ReLU": torch.nn.ReLU()}[type(module).__name__])
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize(
    "sizes, activation, output_activation, loss, target",
    [
        ((2, 3, 1), "tanh", None, "half_sse", [0.3]),
        ((3, 4, 3), "relu", "softmax", "categorical_crossentropy", [0.0, 1.0, 0.0]),
    ],
)
def test_products_agree_with_pytorch_gradients(sizes, activation, output_activation, loss, target):
    model = explain.build_network(sizes, activation, output_activation=output_activation)
    reference = _torch_copy(model)
    x = np.linspace(-0.8, 0.9, sizes[0])
    step = explain.explain_step(model, x.tolist(), target, lr=0.1, loss=loss)
    out = reference(torch.tensor(x).reshape(1, -1))
    t = torch.tensor(target, dtype=torch.float64).reshape(1, -1)
    error = 0.5 * ((t - out) ** 2).sum() if loss == "half_sse" else -(t * out.log()).sum()
    error.backward()
    expected = np.concatenate(
        [np.concatenate([m.weight.grad.numpy().ravel()]) for m in reference if isinstance(m, torch.nn.Linear)]
    )
    weights = [s for s in step.weights if s.name.startswith("w")]
    assert [s.grad for s in weights] == pytest.approx(expected.tolist(), abs=1e-12)
    assert [s.product for s in weights] == pytest.approx(expected.tolist(), abs=1e-12)
    biases = np.concatenate([m.bias.grad.numpy() for m in reference if isinstance(m, torch.nn.Linear)])
    assert [s.grad for s in step.weights if s.name.startswith("b(")] == pytest.approx(biases.tolist(), abs=1e-12)
    assert step.loss == pytest.approx(error.item(), abs=1e-12)
    if output_activation == "softmax":
        assert "softmax couples the outputs" in str(step)


def test_graph_renders_as_svg_and_html(worked, tmp_path):
    svg = worked.to_svg()
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "W: w5..w8" in texts and "Linear" in texts and "Sigmoid" in texts and "E (loss)" in texts
    assert "grad [0.08217, 0.08267, -0.0226, -0.02274]" in texts  # the gradient the engine left on W (w5..w8)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}line"))) == len(worked.graph.edges)
    path = worked.save_graph(tmp_path / "step.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "∂E/∂w5" in page


def test_graph_of_any_tensor_is_layered_from_leaves_to_root():
    a = shendu.tensor([1.0, 2.0], requires_grad=True)
    b = shendu.tensor([3.0, 4.0], requires_grad=True)
    loss = (a * b).sum()
    graph = explain.graph_of(loss, names={id(a): "a", id(b): "b", id(loss): "loss"})
    by_label = {n.label: n for n in graph.nodes.values()}
    assert by_label["a"].layer < by_label["Mul"].layer < by_label["Sum"].layer < by_label["loss"].layer
    loss.backward()
    assert by_label["a"].grad.tolist() == [3.0, 4.0]


def test_cli_prints_the_worked_example_and_writes_the_graph(capsys, tmp_path):
    assert explain.main(["--graph", str(tmp_path / "g.svg")]) == 0
    out = capsys.readouterr().out
    assert "= 0.741365070 × 0.186815602 × 0.593269992 = 0.082167041" in out
    assert "E after the update = 0.291027774" in out
    assert ET.parse(tmp_path / "g.svg").getroot().tag.endswith("svg")


def test_cli_other_network_and_usage_errors(capsys):
    assert explain.main(["--network", "2-5-1", "--input", "1,0", "--target", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "∂E/∂w15" in out and "b(o1)" in out
    assert explain.main(["--network", "2-2-2", "--weights", "1,2,3"]) == 2
    assert "expected 8 weights" in capsys.readouterr().err


def test_rejects_models_it_cannot_explain():
    with pytest.raises(ValueError, match="at most"):
        explain.explain_step(nn.Sequential(nn.Linear(20, 10)), [0.0] * 20, [0.0] * 10)
    with pytest.raises(TypeError, match="nn.Sequential"):
        explain.explain_step(nn.Linear(2, 1), [0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="one sample"):
        explain.explain_step(explain.worked_example_network(), [[0.0, 1.0], [1.0, 0.0]], [0.01, 0.99])
    with pytest.raises(ValueError, match="Linear layer before"):
        explain.explain_step(nn.Sequential(nn.Sigmoid(), nn.Linear(2, 1)), [0.0, 1.0], [1.0])


def test_gradients_left_by_an_earlier_step_do_not_leak_in():
    model = explain.worked_example_network()
    (0.5 * (model(shendu.tensor([[1.0, 1.0]], dtype=shendu.float64)) ** 2).sum()).backward()  # stale .grad
    step = explain.explain_step(model, [0.05, 0.10], [0.01, 0.99], update=False)
    assert step.weight("w5").grad == pytest.approx(0.082167041, abs=1e-9)
    assert step.weight("w5").value == 0.40 and np.isnan(step.weight("w5").new_value)

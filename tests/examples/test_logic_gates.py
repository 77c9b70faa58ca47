"""Example 2: the threshold neuron as AND/OR, XOR impossible for it, learned by a 2-5-1 network."""

from examples import logic_gates


def test_threshold_neuron_computes_and_and_or():
    assert logic_gates.truth_table((0.5, 0.5), 0.7) == [0, 0, 0, 1]
    assert logic_gates.truth_table((0.5, 0.5), 0.3) == [0, 1, 1, 1]


def test_no_neuron_of_the_grid_computes_xor():
    counts, total = logic_gates.grid_search_gates(steps=21)
    assert total == 21**3
    assert counts["AND"] > 0 and counts["OR"] > 0
    assert counts["XOR"] == 0


def test_perceptron_rule_learns_and_or_but_not_xor():
    for gate in ("AND", "OR"):
        history, _, _ = logic_gates.perceptron(gate)
        assert history[-1] == 4
    history, _, _ = logic_gates.perceptron("XOR", passes=50)
    assert len(history) == 50 and max(history) < 4


def test_main_runs_and_the_2_5_1_network_learns_xor(capsys):
    result = logic_gates.main(["--fast"])
    assert [int(o >= 0.5) for o in result["xor_mlp"]] == [0, 1, 1, 0]
    assert max(abs(o - t) for o, t in zip(result["xor_mlp"], [0, 1, 1, 0])) < 0.2
    assert "0 compute XOR" in capsys.readouterr().out

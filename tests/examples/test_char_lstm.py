"""Example 9: a character-level LSTM on English fortunes: beats counting characters, then writes."""

import shutil

import pytest

from examples import char_lstm


def test_lstm_beats_the_unigram_baseline_and_generates(capsys):
    try:
        char_lstm.load_corpus()
    except FileNotFoundError:
        if shutil.which("apt-get") is None:
            pytest.skip("Debian's fortune files need apt-get")
        raise
    result = char_lstm.main(["--fast"])
    assert result["val_loss"] < result["unigram_baseline"] < result["initial_loss"]
    assert result["sample"].startswith("The ") and len(result["sample"]) > 100
    assert "a fortune written by the network" in capsys.readouterr().out

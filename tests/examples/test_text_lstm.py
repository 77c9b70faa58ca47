"""Example 8: Embedding → LSTM(32) → softmax identifying the language of Debian's fortunes."""

import shutil

import pytest

from examples import text_lstm


def _fortunes_or_skip():
    try:
        text_lstm.load_fortunes(per_language=1)
    except FileNotFoundError:
        if shutil.which("apt-get") is None:
            pytest.skip("Debian's fortune files need apt-get")
        raise


def test_read_fortune_file_splits_on_percent_lines(tmp_path):
    path = tmp_path / "f"
    path.write_text("first one\n%\nsecond\nline\n%\n", encoding="utf-8")
    assert text_lstm.read_fortune_file(path) == ["first one", "second\nline"]


def test_lstm_identifies_languages_well_above_chance(capsys):
    _fortunes_or_skip()
    result = text_lstm.main(["--fast"])
    assert result["accuracy"] > 0.5  # five languages: chance is 0.2
    assert set(result["per_language"]) == {"English", "German", "Spanish", "Italian", "Portuguese"}
    assert "held-out fortunes" in capsys.readouterr().out

"""Tokenizer and pad_sequences with Keras semantics; the character vocabulary."""

import numpy as np
import pytest

from shendu.text import (
    CharVocab, Tokenizer, next_token_windows, pad_sequences, text_to_word_sequence, tokenizer_from_json,
)  # fmt: skip

SENTENCES = ["I love my dog", "I love my cat", "You love my dog!", "Do you think my dog is amazing?"]


def test_word_index_ranks_by_frequency_with_ties_in_first_seen_order():
    tokenizer = Tokenizer(num_words=100)
    tokenizer.fit_on_texts(SENTENCES[:3])
    assert tokenizer.word_index == {"love": 1, "my": 2, "i": 3, "dog": 4, "cat": 5, "you": 6}
    assert tokenizer.index_word[4] == "dog" and tokenizer.document_count == 3
    assert list(tokenizer.word_counts.items()) == [("i", 2), ("love", 3), ("my", 3), ("dog", 2), ("cat", 1), ("you", 1)]
    assert tokenizer.word_docs["my"] == 3


def test_oov_token_takes_index_one_and_replaces_unknown_words():
    # The TensorFlow course's example, with Keras' published output.
    tokenizer = Tokenizer(num_words=100, oov_token="<OOV>")
    tokenizer.fit_on_texts(SENTENCES)
    assert tokenizer.word_index == {
        "<OOV>": 1, "my": 2, "love": 3, "dog": 4, "i": 5, "you": 6, "cat": 7, "do": 8, "think": 9, "is": 10,
        "amazing": 11,
    }  # fmt: skip
    assert tokenizer.texts_to_sequences(["i really love my dog", "my dog loves my manatee"]) == [
        [5, 1, 3, 2, 4],
        [2, 4, 1, 2, 1],
    ]


def test_num_words_keeps_only_indices_below_it():
    tokenizer = Tokenizer(num_words=3)
    tokenizer.fit_on_texts(SENTENCES[:3])
    assert len(tokenizer.word_index) == 6  # the index keeps every word...
    assert tokenizer.texts_to_sequences(["i love my dog"]) == [[1, 2]]  # ...sequences only num_words - 1 of them
    with_oov = Tokenizer(num_words=3, oov_token="?")
    with_oov.fit_on_texts(SENTENCES[:3])
    assert with_oov.texts_to_sequences(["i love my dog"]) == [[1, 2, 1, 1]]
    assert with_oov.sequences_to_texts([[2, 1, 5, 0]]) == ["love ? ? ?"]
    assert tokenizer.sequences_to_texts([[2, 1, 5]]) == ["my love"]


def test_filters_lower_split_and_char_level():
    assert text_to_word_sequence("Hello, World!  It's\tfine.") == ["hello", "world", "it's", "fine"]
    tokenizer = Tokenizer(lower=False, split=",", filters="")
    tokenizer.fit_on_texts(["A,b,A"])
    assert tokenizer.word_index == {"A": 1, "b": 2}
    chars = Tokenizer(char_level=True)
    chars.fit_on_texts(["abca"])
    assert chars.word_index == {"a": 1, "b": 2, "c": 3}
    assert chars.texts_to_sequences(["cab"]) == [[3, 1, 2]]


def test_texts_to_matrix_modes():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(["a a b", "b c"])
    np.testing.assert_array_equal(tokenizer.texts_to_matrix(["a a b"], mode="count"), [[0, 2, 1, 0]])
    np.testing.assert_array_equal(tokenizer.texts_to_matrix(["a c"], mode="binary"), [[0, 1, 0, 1]])
    np.testing.assert_allclose(tokenizer.texts_to_matrix(["a a b"], mode="freq"), [[0, 2 / 3, 1 / 3, 0]])


def test_tokenizer_misuse_is_reported():
    with pytest.raises(RuntimeError, match="not fitted yet; call fit_on_texts"):
        Tokenizer().texts_to_sequences(["hello"])
    with pytest.raises(TypeError, match=r"list of texts; got a single str. Wrap it in a list"):
        Tokenizer().fit_on_texts("hello world")
    with pytest.raises(TypeError, match="texts as strings"):
        Tokenizer().fit_on_texts([42])
    with pytest.raises(ValueError, match="num_words should be a positive integer"):
        Tokenizer(num_words=0)


def test_tokenizer_json_round_trip():
    tokenizer = Tokenizer(num_words=5, oov_token="<OOV>")
    tokenizer.fit_on_texts(SENTENCES)
    restored = tokenizer_from_json(tokenizer.to_json())
    assert restored.word_index == tokenizer.word_index and restored.num_words == 5
    assert restored.texts_to_sequences(SENTENCES) == tokenizer.texts_to_sequences(SENTENCES)


def test_pad_sequences_keras_documented_cases():
    sequences = [[1], [2, 3], [4, 5, 6]]
    out = pad_sequences(sequences)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequences, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequences, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequences, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequences, maxlen=2, truncating="post"), [[0, 1], [2, 3], [4, 5]])


def test_pad_sequences_edge_cases_and_errors():
    assert pad_sequences([[], [1, 2]]).tolist() == [[0, 0], [1, 2]]
    floats = pad_sequences([[0.5]], maxlen=3, dtype="float32", value=np.nan)
    assert np.isnan(floats[0, :2]).all() and floats[0, 2] == 0.5
    assert pad_sequences([np.ones((2, 3))], maxlen=3).shape == (1, 3, 3)
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="found a string at position 0"):
        pad_sequences(["abc"])
    with pytest.raises(ValueError, match="Found non-iterable at position 1"):
        pad_sequences([[1], 2])


def test_char_vocab_encodes_and_decodes_text_for_generation():
    vocab = CharVocab.from_text("hello world")
    assert vocab.itos == [" ", "d", "e", "h", "l", "o", "r", "w"] and len(vocab) == 8
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 2, 4, 4, 5]
    assert vocab.decode(ids) == "hello"
    with pytest.raises(ValueError, match="character 'z' at position 2 is not in the vocabulary"):
        vocab.encode("hez")
    forgiving = CharVocab.from_text("ab", unknown="?")
    assert forgiving.decode(forgiving.encode("abz")) == "ab?"
    assert CharVocab.from_config(vocab.get_config()).itos == vocab.itos
    with pytest.raises(ValueError, match="index 9 is out of range"):
        vocab.decode([9])


def test_next_token_windows_shift_targets_by_one():
    x, y = next_token_windows(np.arange(6), length=3, step=2)
    assert x.tolist() == [[0, 1, 2], [2, 3, 4]] and y.tolist() == [[1, 2, 3], [3, 4, 5]]
    with pytest.raises(ValueError, match="too short"):
        next_token_windows([1, 2], length=2)

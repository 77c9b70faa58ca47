"""``keras.preprocessing.text``: :class:`Tokenizer` and friends (shendu.text, Keras semantics)."""

from ...text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]

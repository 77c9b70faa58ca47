"""Text to integer sequences (the Keras dialect): :class:`Tokenizer`, :func:`pad_sequences`, and a
character vocabulary for text generation.

Example:
    >>> tokenizer = Tokenizer(num_words=10000)
    >>> tokenizer.fit_on_texts(train_texts)
    >>> x = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=100)
"""

from .sequence import next_token_windows, pad_sequences
from .tokenizer import DEFAULT_FILTERS, Tokenizer, text_to_word_sequence, tokenizer_from_json
from .vocab import CharVocab

__all__ = [
    "Tokenizer", "text_to_word_sequence", "tokenizer_from_json", "pad_sequences", "next_token_windows", "CharVocab",
    "DEFAULT_FILTERS",
]  # fmt: skip

"""Turning texts into integer sequences with a word index, as Keras' ``Tokenizer``.

Index 0 is reserved (for padding). Words are indexed by descending frequency, ties in the order
first seen; with ``oov_token`` that token takes index 1. ``num_words`` caps what the sequences
contain: only indices below ``num_words`` are kept (the ``num_words - 1`` most frequent words);
other words are dropped, or replaced by the OOV index when there is one. ``word_index`` itself
always holds every word seen.

Example:
    >>> tokenizer = Tokenizer(num_words=100, oov_token="<OOV>")
    >>> tokenizer.fit_on_texts(["I love my dog", "I love my cat", "You love my dog!"])
    >>> tokenizer.word_index
    {'<OOV>': 1, 'love': 2, 'my': 3, 'i': 4, 'dog': 5, 'cat': 6, 'you': 7}
    >>> tokenizer.texts_to_sequences(["my dog loves my manatee"])
    [[3, 5, 1, 3, 1]]
"""

import json
import math
import numbers
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["Tokenizer", "text_to_word_sequence", "tokenizer_from_json", "DEFAULT_FILTERS"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Split a text into words: lower-case it, turn every ``filters`` character into ``split``, split, drop empties.

    Example:
        >>> text_to_word_sequence("Hello, World!")
        ['hello', 'world']
    """
    if not isinstance(input_text, str):
        raise TypeError(f"text_to_word_sequence expects a string; got {type(input_text).__name__}")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def _check_texts(texts, who):
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"{who} expects a list of texts; got a single {type(texts).__name__}. Wrap it in a list: [text]"
        )
    if not hasattr(texts, "__iter__"):
        raise TypeError(f"{who} expects a list of texts; got {type(texts).__name__}")


class Tokenizer:
    """A word (or character) index built from texts, and the conversions it allows.

    Args:
        num_words: keep only the ``num_words - 1`` most frequent words in sequences and matrices.
            Defaults to None (all words).
        filters: characters removed from texts (each becomes a separator). Defaults to the ASCII
            punctuation plus tab and newline.
        lower: lower-case texts first. Defaults to True.
        split: the word separator. Defaults to ``' '``.
        char_level: every character is a token. Defaults to False.
        oov_token: a token (index 1) that stands for words not in the index (or beyond ``num_words``)
            in ``texts_to_sequences``. Defaults to None (such words are dropped).
        analyzer: a function ``text -> tokens`` replacing the built-in word split.

    Attributes:
        word_index: token -> index (from 1). index_word: index -> token.
        word_counts: token -> occurrences (ordered by first appearance).
        word_docs: token -> number of texts containing it. document_count: texts seen.
    """

    def __init__(
        self,
        num_words=None,
        filters=DEFAULT_FILTERS,
        lower=True,
        split=" ",
        char_level=False,
        oov_token=None,
        analyzer=None,
        document_count=0,
    ):
        if num_words is not None and (
            isinstance(num_words, bool) or not isinstance(num_words, numbers.Integral) or num_words < 1
        ):
            raise ValueError(f"num_words should be a positive integer or None; got num_words={num_words!r}")
        if not isinstance(split, str) or not split:
            raise ValueError(f"split should be a non-empty string; got split={split!r}")
        self.num_words = None if num_words is None else int(num_words)
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.document_count = document_count
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self._fitted = False

    # ----- fitting -----------------------------------------------------------------------------
    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer expects texts as strings (or lists of tokens); got {type(text).__name__}")
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower, split=self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens) and rebuild the index."""
        _check_texts(texts, "fit_on_texts")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            for token in set(tokens):
                self.word_docs[token] += 1
        self._build_index()

    def fit_on_sequences(self, sequences):
        """Count in how many sequences each index occurs (for ``sequences_to_matrix(mode='tfidf')``)."""
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1
        self._fitted = True

    def _build_index(self):
        # sort is stable: equal counts keep their first-seen order
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in ranked]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {index: word for word, index in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})
        self._fitted = True

    def _check_fitted(self, who):
        if not self._fitted:
            raise RuntimeError(f"Tokenizer.{who}: the tokenizer is not fitted yet; call fit_on_texts(texts) first")

    def _kept(self, index, oov):
        """``index`` if it is a known word's index below ``num_words``; otherwise the OOV index (None without one)."""
        if index is not None and not (self.num_words and index >= self.num_words):
            return index
        return oov

    # ----- texts <-> sequences ---------------------------------------------------------------------
    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (see the module docstring for ``num_words`` and ``oov_token``)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Like :meth:`texts_to_sequences`, one text at a time."""
        self._check_fitted("texts_to_sequences")
        _check_texts(texts, "texts_to_sequences")
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            kept = (self._kept(self.word_index.get(token), oov) for token in self._tokens(text))
            yield [index for index in kept if index is not None]

    def sequences_to_texts(self, sequences):
        """Each sequence of indices back to a text (tokens joined by spaces); unknown indices as for ``texts_to_sequences``."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        self._check_fitted("sequences_to_texts")
        _check_texts(sequences, "sequences_to_texts")
        oov = self.word_index.get(self.oov_token)
        for sequence in sequences:
            indices = np.asarray(sequence).reshape(-1).tolist()
            kept = (self._kept(index if index in self.index_word else None, oov) for index in indices)
            words = [self.index_word[index] for index in kept if index is not None]
            yield " ".join(words)

    # ----- matrices --------------------------------------------------------------------------------
    def texts_to_matrix(self, texts, mode="binary"):
        """A (texts, num_words) matrix: ``'binary'`` presence, ``'count'``, ``'freq'`` or ``'tfidf'``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A (sequences, num_words) float64 matrix of the indices in each sequence (Keras' formulas)."""
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"mode should be 'binary', 'count', 'tfidf' or 'freq'; got mode={mode!r}")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (num_words) or fit the tokenizer on some data first")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode")
        matrix = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            if not len(sequence):
                continue
            counts = defaultdict(int)
            for index in sequence:
                if index < width:
                    counts[index] += 1
            for index, count in counts.items():
                if mode == "count":
                    matrix[row, index] = count
                elif mode == "freq":
                    matrix[row, index] = count / len(sequence)
                elif mode == "binary":
                    matrix[row, index] = 1
                else:
                    tf = 1 + math.log(count)
                    idf = math.log(1 + self.document_count / (1 + self.index_docs.get(index, 0)))
                    matrix[row, index] = tf * idf
        return matrix

    # ----- saving ----------------------------------------------------------------------------------
    def get_config(self):
        """Everything needed to rebuild the tokenizer, as plain data (JSON-serialisable)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": list(self.word_counts.items()),
            "word_docs": list(self.word_docs.items()),
            "index_docs": [[int(k), v] for k, v in self.index_docs.items()],
            "word_index": list(self.word_index.items()),
            "fitted": self._fitted,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild a tokenizer from :meth:`get_config`'s output."""
        config = dict(config)
        tables = {name: config.pop(name, []) for name in ("word_counts", "word_docs", "index_docs", "word_index")}
        fitted = config.pop("fitted", bool(tables["word_index"]))
        tokenizer = cls(**config)
        tokenizer.word_counts = OrderedDict((w, c) for w, c in tables["word_counts"])
        tokenizer.word_docs = defaultdict(int, {w: c for w, c in tables["word_docs"]})
        tokenizer.index_docs = defaultdict(int, {int(i): c for i, c in tables["index_docs"]})
        tokenizer.word_index = {w: int(i) for w, i in tables["word_index"]}
        tokenizer.index_word = {i: w for w, i in tokenizer.word_index.items()}
        tokenizer._fitted = fitted
        return tokenizer

    def to_json(self, **kwargs):
        """The configuration as a JSON string (keyword arguments go to ``json.dumps``)."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)

    def __repr__(self):
        return f"Tokenizer(num_words={self.num_words}, oov_token={self.oov_token!r}, words={len(self.word_index)})"


def tokenizer_from_json(json_string):
    """Rebuild a :class:`Tokenizer` from :meth:`Tokenizer.to_json`."""
    data = json.loads(json_string)
    if data.get("class_name") != "Tokenizer":
        raise ValueError(f"not a Tokenizer's JSON (class_name={data.get('class_name')!r})")
    return Tokenizer.from_config(data["config"])

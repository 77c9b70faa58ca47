"""Language identification data from Debian's fortune files (SPEC §2): short texts in five languages.

English from ``fortunes``, German from ``fortunes-de``, Spanish from ``fortunes-es``, Italian from
``fortunes-it`` and Portuguese from ``fortunes-br``; ``make`` installs them (``apt-get``).
"""

import os
import zlib

import numpy as np

ROOT = "/usr/share/games/fortunes"
SOURCES = {
    "en": [os.path.join(ROOT, name) for name in (
        "computers", "cookie", "definitions", "fortunes", "humorists", "people", "platitudes", "politics", "science",
        "wisdom", "work", "miscellaneous", "men-women", "education", "law", "love", "food", "kids", "sports",
    )],
    "de": [os.path.join(ROOT, "de", name) for name in ("zitate", "witze", "unfug", "sprueche", "regeln", "woerterbuch")],
    "es": [os.path.join(ROOT, "es", name) for name in (
        "refranes.fortunes", "sabiduria.fortunes", "varios.fortunes", "sentimientos.fortunes", "humanos.fortunes",
        "arte.fortunes", "vida.fortunes", "poder.fortunes",
    )],
    "it": [os.path.join(ROOT, "it", name) for name in ("italia", "norm", "paolotedeschi", "luke", "leggi", "zuse")],
    "pt": [os.path.join(ROOT, "brasil")],
}  # fmt: skip


def available():
    """True when every language has at least one fortune file on this machine."""
    return all(any(os.path.isfile(p) for p in paths) for paths in SOURCES.values())


def _read(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return [" ".join(entry.split()) for entry in text.split("\n%\n")]


def load(per_language=1500, min_chars=20, max_chars=400, seed=0):
    """(texts, labels, language names): ``per_language`` fortunes of each language, shuffled."""
    rng = np.random.default_rng(seed)
    texts, labels, languages = [], [], sorted(SOURCES)
    for index, language in enumerate(languages):
        entries = []
        for path in SOURCES[language]:
            if os.path.isfile(path):
                entries += [e for e in _read(path) if min_chars <= len(e) <= max_chars and not e.startswith("%")]
        entries = sorted(set(entries))
        chosen = rng.permutation(len(entries))[:per_language]
        texts += [entries[i] for i in chosen]
        labels += [index] * len(chosen)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], np.asarray(labels)[order], languages


def char_trigram_embeddings(word_index, num_words, dim=64):
    """A fixed, label-free word-vector table (a stand-in for pre-trained vectors): each word is the normalised
    sum of random vectors of its character trigrams, so words that share spelling share direction. Row 0
    (padding) is zero."""
    matrix = np.zeros((num_words, dim), dtype=np.float32)
    for word, index in word_index.items():
        if index >= num_words:
            continue
        padded = f"<{word}>"
        vector = np.zeros(dim)
        for i in range(len(padded) - 2):
            vector += np.random.default_rng(zlib.crc32(padded[i : i + 3].encode())).standard_normal(dim)
        norm = np.linalg.norm(vector)
        matrix[index] = vector / norm if norm else vector
    return matrix

"""Text classification with Embedding → LSTM(32) → Dense(softmax) (seed 004), in the Keras dialect:
which language is a fortune cookie written in?

The data are real: Debian's fortune files (``apt-get install fortunes fortunes-de fortunes-es
fortunes-it fortunes-br``) in English, German, Spanish, Italian and (Brazilian) Portuguese. As in
seed 004, a ``Tokenizer(num_words=10000)`` turns each text into word indices,
``pad_sequences(maxlen=100)`` makes them one length, and the model is
``Input → Embedding → LSTM(32) → Dense(num_classes, softmax)`` compiled with Adam and categorical
cross-entropy, trained with ``validation_split=0.2``, then measured on held-out fortunes.
(Seed 004 loads a pre-trained, frozen embedding matrix; offline, the embedding here is learned.)

With 1,000 fortunes per language and 3 epochs it identifies the language of about 97 % of the
held-out fortunes (chance: 20 %).

Run: ``python -m examples.text_lstm [--per-language N] [--epochs N]``.
"""

import argparse
import glob
import os
import sys

import numpy as np

FORTUNES = "/usr/share/games/fortunes"
LANGUAGES = {  # language: (glob patterns under FORTUNES, Debian package)
    "English": (["*.u8"], "fortunes"),
    "German": (["de/*.u8"], "fortunes-de"),
    "Spanish": (["es/*.u8"], "fortunes-es"),
    "Italian": (["it/*.u8"], "fortunes-it"),
    "Portuguese": (["brasil"], "fortunes-br"),
}
NOT_PROSE = ("ascii", "art", "banner")  # pictures made of characters, not language


def read_fortune_file(path):
    """The fortunes of one file (separated by lines holding a single ``%``), stripped, non-empty."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [block.strip() for block in text.replace("\r\n", "\n").split("\n%\n") if block.strip()]


def load_fortunes(per_language=1000, min_chars=40, root=FORTUNES, seed=0):
    """``(texts, labels, language names)``: ``per_language`` random fortunes of each language.

    Raises:
        FileNotFoundError: a language's files are missing, naming the Debian package to install.
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, (language, (patterns, package)) in enumerate(LANGUAGES.items()):
        paths = sorted(
            p for pattern in patterns for p in glob.glob(os.path.join(root, pattern))
            if not any(word in os.path.basename(p) for word in NOT_PROSE)
        )  # fmt: skip
        fortunes = [t for p in paths for t in read_fortune_file(p) if len(t) >= min_chars]
        if not fortunes:
            raise FileNotFoundError(f"no {language} fortunes under {root}: apt-get install {package}")
        chosen = rng.choice(len(fortunes), size=min(per_language, len(fortunes)), replace=False)
        texts += [fortunes[i] for i in chosen]
        labels += [label] * len(chosen)
    return texts, np.array(labels), list(LANGUAGES)


def run(per_language=1000, epochs=3, maxlen=100, num_words=10000, embedding_dim=32, seed=0, verbose=2):
    import shendu
    from shendu.keras import Model
    from shendu.keras.layers import LSTM, Dense, Embedding, Input
    from shendu.keras.preprocessing.sequence import pad_sequences
    from shendu.keras.preprocessing.text import Tokenizer
    from shendu.keras.utils import to_categorical

    shendu.manual_seed(seed)
    texts, labels, languages = load_fortunes(per_language, seed=seed)
    order = np.random.default_rng(seed).permutation(len(texts))
    n_test = len(texts) // 5
    test, training = order[:n_test], order[n_test:]
    train_texts, test_texts = [texts[i] for i in training], [texts[i] for i in test]

    # 初始化Tokenizer, 转换文本为序列, 填充或截断 (as seed 004)
    tokenizer = Tokenizer(num_words=num_words)
    tokenizer.fit_on_texts(train_texts)
    x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=maxlen)
    x_test = pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=maxlen)
    num_classes = len(languages)
    y_train = to_categorical(labels[training], num_classes)
    y_test = to_categorical(labels[test], num_classes)

    # 构建模型 (the model of seed 004)
    input_layer = Input(shape=(maxlen,))
    embedding_layer = Embedding(min(num_words, len(tokenizer.word_index) + 1), embedding_dim)(input_layer)
    l_lstm = LSTM(32)(embedding_layer)
    output_layer = Dense(num_classes, activation="softmax")(l_lstm)
    model = Model(inputs=input_layer, outputs=output_layer)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2, verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    per_language = {
        language: float(np.mean(predicted[labels[test] == k] == k)) for k, language in enumerate(languages)
    }
    examples = [
        (test_texts[i].split("\n")[0][:60], languages[predicted[i]], languages[labels[test][i]]) for i in range(5)
    ]
    return {
        "accuracy": float(accuracy), "loss": float(loss), "per_language": per_language, "history": history.history,
        "examples": examples, "n_train": len(training), "n_test": len(test),
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=1000, help="fortunes per language (default 1000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="200 fortunes per language, 5 epochs, maxlen 40")
    args = parser.parse_args(argv)
    if args.fast:
        result = run(200, 5, maxlen=40, seed=args.seed)
    else:
        result = run(args.per_language, args.epochs, seed=args.seed)
    print(f"language of {result['n_test']:,} held-out fortunes: {100 * result['accuracy']:.1f} % right "
          f"(trained on {result['n_train']:,}; chance 20 %)")  # fmt: skip
    print("  " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in result["per_language"].items()))
    for text, guess, truth in result["examples"]:
        print(f"  {text!r}: {guess} ({'right' if guess == truth else 'wrong: ' + truth})")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

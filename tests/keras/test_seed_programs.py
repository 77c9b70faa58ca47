"""Seed 004's Keras programs, run with only their import lines changed (and smaller data/epochs to stay fast).

The full figures (3 epochs on all 8,000 embedded digits; the language-identification run) are in the
issue's closing note; these tests check that the programs run unchanged and learn.
"""

import shutil

import numpy as np
import pytest

import shendu
from tests.keras import fortunes


def test_seed_004_cnn_program_runs_unchanged_and_learns(capsys):
    # ---- seed 004, "数据预处理", imports changed from tensorflow.keras to shendu.keras ----
    from shendu.keras.datasets import mnist
    from shendu.keras.utils import to_categorical

    # 加载MNIST数据集
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    # 数据预处理
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # 调整数据维度
    x_train = x_train.reshape(-1, 28, 28, 1)
    x_test = x_test.reshape(-1, 28, 28, 1)
    # 一热编码目标变量
    y_train = to_categorical(y_train, 10)
    y_test = to_categorical(y_test, 10)
    # ---- test only: a subset, to stay fast ----
    x_train, y_train, x_test, y_test = x_train[:1600], y_train[:1600], x_test[:400], y_test[:400]
    # ---- seed 004, "设计和训练简单的CNN" ----
    from shendu.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from shendu.keras.models import Sequential

    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=1, batch_size=32, validation_data=(x_test, y_test))
    # ---- checks ----
    assert "Epoch 1/1" in capsys.readouterr().out
    assert history.history["val_accuracy"][-1] > 0.7  # chance is 0.1; 3 epochs on all digits give 96.9%
    assert model.count_params() == 320 + 18496 + 16010


@pytest.fixture(scope="module")
def language_data():
    if not fortunes.available():
        if shutil.which("apt-get") is None:
            pytest.skip("no apt-get on this machine to install Debian's fortune files")
        pytest.fail("Debian's fortune files are missing: run `make test` (its set-up installs fortunes, fortunes-de, "
                    "fortunes-es, fortunes-it and fortunes-br)")  # fmt: skip
    return fortunes.load(per_language=250)


def test_seed_004_text_pipeline_runs_unchanged_on_language_identification(language_data):
    shendu.manual_seed(0)
    texts, label_ids, languages = language_data
    # ---- seed 004, "词嵌入与文本表示", imports changed ----
    from shendu.keras.preprocessing.sequence import pad_sequences
    from shendu.keras.preprocessing.text import Tokenizer

    # 初始化Tokenizer
    tokenizer = Tokenizer(num_words=10000)
    tokenizer.fit_on_texts(texts)
    # 转换文本为序列
    sequences = tokenizer.texts_to_sequences(texts)
    # 对序列填充或截断,使所有序列长度相等
    padded_sequences = pad_sequences(sequences, maxlen=100)
    # ---- the values the seed leaves to the reader ----
    from shendu.keras.utils import to_categorical

    maxlen, embedding_dim, num_classes = 100, 32, len(languages)
    labels = to_categorical(label_ids, num_classes)
    # (the seed's tf.keras.applications.xlnet.get_embedding_matrix() does not exist in Keras; a fixed,
    # label-free table of character-trigram vectors stands in for pre-trained word vectors)
    embedding_matrix = fortunes.char_trigram_embeddings(tokenizer.word_index, len(tokenizer.word_index) + 1,
                                                        embedding_dim)  # fmt: skip
    # ---- seed 004, "使用预训练的模型", `import tensorflow as tf` changed ----
    import shendu as tf

    input_layer = tf.keras.layers.Input(shape=(maxlen,))
    embedding_layer = tf.keras.layers.Embedding(len(tokenizer.word_index) + 1,
                                                embedding_dim,
                                                weights=[embedding_matrix],
                                                input_length=maxlen,
                                                trainable=False)(input_layer)  # fmt: skip
    l_lstm = tf.keras.layers.LSTM(32)(embedding_layer)
    output_layer = tf.keras.layers.Dense(num_classes, activation="softmax")(l_lstm)
    model = tf.keras.Model(inputs=input_layer, outputs=output_layer)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(padded_sequences, labels, epochs=4, batch_size=32, validation_split=0.2, verbose=0)
    # ---- checks: it learns to tell five languages apart (chance: 0.2), on the held-out last 20% ----
    assert history.history["val_accuracy"][-1] > 0.5
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(model.layers[1].get_weights()[0], embedding_matrix)  # frozen


def test_seed_004_grid_search_fragment_reports_best_params():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    from shendu.keras.layers import Dense
    from shendu.keras.models import Sequential
    from shendu.keras.optimizers import get as get_optimizer
    from shendu.keras.wrappers import KerasClassifier

    digits = load_digits()
    x_train, y_train = (digits.data[:240] / 16).astype("float32"), digits.target[:240]

    def create_model(optimizer="adam", activation="relu", learning_rate=0.001):
        model = Sequential([Dense(16, activation=activation, input_shape=(64,)), Dense(10, activation="softmax")])
        opt = get_optimizer(optimizer)
        opt.learning_rate = learning_rate
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    model = KerasClassifier(build_fn=create_model, epochs=2, batch_size=32, verbose=0)
    # ---- seed 004, "超参数调整与网格搜索" ----
    from sklearn.model_selection import GridSearchCV

    parameters = {
        "optimizer": ["adam", "rmsprop"],
        "activation": ["relu", "tanh"],
        "learning_rate": [0.001, 0.01],
    }
    grid_search = GridSearchCV(estimator=model, param_grid=parameters, cv=3, verbose=1)
    grid_search.fit(x_train, y_train)
    # ---- checks ----
    assert set(grid_search.best_params_) == {"optimizer", "activation", "learning_rate"}
    assert len(grid_search.cv_results_["params"]) == 8
    assert grid_search.best_score_ > 0.3  # ten classes, two short epochs on 160 samples per fold
    assert grid_search.best_estimator_.predict(x_train[:5]).shape == (5,)

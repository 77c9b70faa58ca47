"""A user's program, type-checked against shendu's hints by tests/test_typing.py (never run)."""

import numpy as np

import shendu
import shendu.nn as nn
import shendu.optim as optim
from shendu import keras
from shendu.train import Trainer


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x: shendu.Tensor) -> shendu.Tensor:
        return self.body(x)


def train_step(model: Net, x: shendu.Tensor, y: shendu.Tensor, optimizer: optim.Optimizer) -> float:
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer.zero_grad()
    loss: shendu.Tensor = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.item())


model = Net().train()
x = shendu.randn(8, 1, 28, 28)
y = shendu.randint(0, 10, (8,))
adam = optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
sgd = optim.SGD([{"params": model.body.parameters(), "lr": 0.1}], momentum=0.9, nesterov=True)
value: float = train_step(model, x, y, adam)
total: shendu.Tensor = (x * 2 + 1).sum(dim=1).mean()
rows: tuple[shendu.Tensor, ...] = x.split(4)
array: np.ndarray = total.detach().numpy()
names = [name for name, _ in model.named_parameters()]
state = model.state_dict()
model.load_state_dict(state)
shendu.save(state, "model.safetensors")
history = Trainer(model, nn.CrossEntropyLoss(), adam).fit((x.numpy(), y.numpy()), epochs=1, batch_size=4)
losses: list = history.history["loss"]

keras_model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
keras_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
keras_history = keras_model.fit(np.zeros((4, 784)), np.zeros(4), epochs=1, batch_size=2, verbose=0)

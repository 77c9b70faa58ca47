# A variable-length sequence classifier in the usual PyTorch style: pad_sequence, pack_padded_sequence,
# an LSTM, the final hidden state; whole-model save and load.
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

out = sys.argv[1]
torch.manual_seed(0)
# Task: is the sum of a sequence of +-1 steps positive? Lengths 3..12.
sequences, labels = [], []
for i in range(256):
    n = int(torch.randint(3, 13, (1,)).item())
    steps = torch.randint(0, 2, (n, 1)).float() * 2 - 1
    sequences.append(steps)
    labels.append(int(steps.sum().item() > 0))
labels = torch.tensor(labels)
lengths = torch.tensor([len(s) for s in sequences])
padded = pad_sequence(sequences, batch_first=True)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 16, batch_first=True, bidirectional=True)
        self.head = nn.Linear(32, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, (h_n, c_n) = self.lstm(packed)
        unpacked, _ = pad_packed_sequence(output, batch_first=True)
        assert unpacked.shape[1] == int(lengths.max())
        return self.head(torch.cat([h_n[0], h_n[1]], dim=1))


model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(30):
    for start in range(0, 256, 32):
        optimizer.zero_grad()
        logits = model(padded[start : start + 32], lengths[start : start + 32])
        loss = loss_fn(logits, labels[start : start + 32])
        loss.backward()
        optimizer.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
torch.save(model.state_dict(), out)
model = Classifier()
model.load_state_dict(torch.load(out))
model.eval()
with torch.no_grad():
    accuracy = (model(padded, lengths).argmax(1) == labels).float().mean().item()
print(f"training accuracy {accuracy:.3f}")
print("RESULT", accuracy)

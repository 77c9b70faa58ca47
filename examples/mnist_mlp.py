"""Handwritten digits with the fully connected network of seed 000: 784-500-10, ReLU, cross-entropy.

The seed's PyTorch program, line for line, with only its imports changed (``torch`` → ``shendu``,
``torchvision`` → ``shendu.vision``) and its data offline: the 10,000 real MNIST digits embedded in
shendu (8,000 to train, 2,000 to test) instead of a download. ``--data mnist --root DIR`` reads
(or, with ``--download``, fetches) the full MNIST as the seed does.

Hyper-parameters as in the seed: Adam, learning rate 0.001, batch 100, 5 epochs. On the full
MNIST this network reaches about 98 %; on the embedded digits (7.5 times less training data)
it reaches about 96-97 % on the 2,000 test digits.

The trained weights are saved as in the seed (``torch.save(model.state_dict(), 'model.ckpt')``),
in the safetensors format.

Run: ``python -m examples.mnist_mlp [--epochs N] [--checkpoint PATH]``.
"""

import argparse
import sys

import shendu as torch
import shendu.nn as nn
import shendu.vision as torchvision
import shendu.vision.transforms as transforms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data", choices=["embedded", "mnist"], default="embedded")
    parser.add_argument("--root", default="../../data", help="MNIST folder for --data mnist (the seed's root)")
    parser.add_argument("--download", action="store_true", help="download MNIST into --root (--data mnist)")
    parser.add_argument("--checkpoint", default="model.ckpt", help="where to save the weights (default model.ckpt)")
    parser.add_argument("--fast", action="store_true", help="1 epoch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    # Device configuration
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    # Hyper-parameters
    input_size = 784
    hidden_size = 500
    num_classes = 10
    num_epochs = 1 if args.fast else args.epochs
    batch_size = 100
    learning_rate = 0.001

    # MNIST dataset: the embedded digits offline, or the full set as in the seed
    if args.data == "embedded":
        train_dataset = torchvision.datasets.EmbeddedDigits(train=True, transform=transforms.ToTensor())
        test_dataset = torchvision.datasets.EmbeddedDigits(train=False, transform=transforms.ToTensor())
    else:
        train_dataset = torchvision.datasets.MNIST(
            root=args.root, train=True, transform=transforms.ToTensor(), download=args.download
        )
        test_dataset = torchvision.datasets.MNIST(root=args.root, train=False, transform=transforms.ToTensor())

    # Data loader
    train_loader = torch.utils.data.DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(dataset=test_dataset, batch_size=batch_size, shuffle=False)

    # Fully connected neural network with one hidden layer
    class NeuralNet(nn.Module):
        def __init__(self, input_size, hidden_size, num_classes):
            super().__init__()
            self.fc1 = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.fc2 = nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            out = self.fc1(x)
            out = self.relu(out)
            out = self.fc2(out)
            return out

    model = NeuralNet(input_size, hidden_size, num_classes).to(device)

    # Loss and optimizer
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    # Train the model
    total_step = len(train_loader)
    losses = []
    for epoch in range(num_epochs):
        for i, (images, labels) in enumerate(train_loader):
            # Move tensors to the configured device
            images = images.reshape(-1, 28 * 28).to(device)
            labels = labels.to(device)

            # Forward pass
            outputs = model(images)
            loss = criterion(outputs, labels)

            # Backward and optimize
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

            if (i + 1) % 20 == 0:
                print(f"Epoch [{epoch + 1}/{num_epochs}], Step [{i + 1}/{total_step}], Loss: {loss.item():.4f}")

    # Test the model
    with torch.no_grad():
        correct = 0
        total = 0
        for images, labels in test_loader:
            images = images.reshape(-1, 28 * 28).to(device)
            labels = labels.to(device)
            outputs = model(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()

        print(f"Accuracy of the network on the {total} test images: {100 * correct / total} %")

    # Save the model checkpoint (模型检测点: the parameters, to load later and predict without retraining)
    torch.save(model.state_dict(), args.checkpoint)
    return {"accuracy": correct / total, "losses": losses, "checkpoint": args.checkpoint}


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/python3
"""PyTorch twin of dtrain's built-in `charlstm`: the same data split, network, initialization,
loss, optimizer, batch and number of steps, so dtrain's bits per character can be read against
a reference implementation.

Needs Debian's python3-torch; run it with Debian's /usr/bin/python3:

  /usr/bin/python3 bench/charlstm_torch_twin.py --data corpus.txt --epochs 5 --batch-size 32

What it mirrors (README, "Text: character-level language models"):
- the file is read as bytes; the vocabulary is its distinct bytes, sorted; it is cut from the
  start into non-overlapping sequences of T + 1 = 101 bytes (the ragged end dropped); the last
  max(1, N/20) sequences are the test set, the max(1, N/20) before them the validation set;
- Embedding(V, 64) -> LSTM(256) over every step -> Linear(256, V) per step; PyTorch's gate order
  (i, f, g, o) is dtrain's; the initialization is dtrain's: embedding U(-0.05, 0.05), Glorot
  uniform weights (fan_in, fan_out = 4H for the LSTM's two matrices), zero biases except the
  forget gate's 1 (PyTorch's second LSTM bias is kept at zero);
- softmax cross-entropy averaged over all B x T positions; Adam (beta 0.9/0.999, epsilon 1e-7,
  dtrain's) at lr 0.002; a fresh shuffle every epoch; the ragged last batch dropped, so the
  steps per epoch are floor(train / B) as in dtrain's sampler.
The shuffle order and the random initial values differ from dtrain's (another generator).

Prints one JSON line per epoch ({"event":"epoch","epoch":E,"train_bpc":..,"val_bpc":..,
"epoch_seconds":..,"steps":..}) and a final {"event":"final","test_bpc":..,"test_loss":..}.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn

SEQ_LEN = 100


def load_splits(path):
    data = np.fromfile(path, dtype=np.uint8)
    vocabulary = np.unique(data)
    ids = np.searchsorted(vocabulary, data).astype(np.int64)
    length = SEQ_LEN + 1
    n = len(ids) // length
    if n < 3:
        raise SystemExit(f"{path}: {len(ids)} bytes, expected at least {3 * length}")
    seqs = torch.from_numpy(ids[: n * length].reshape(n, length))
    held_out = max(1, n // 20)
    train = n - 2 * held_out
    return seqs[:train], seqs[train:train + held_out], seqs[train + held_out:], len(vocabulary)


def glorot_(weight, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(weight, -limit, limit)


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=64, units=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, units, batch_first=True)
        self.logits = nn.Linear(units, vocab)
        with torch.no_grad():
            nn.init.uniform_(self.embed.weight, -0.05, 0.05)
            glorot_(self.lstm.weight_ih_l0, embed, 4 * units)
            glorot_(self.lstm.weight_hh_l0, units, 4 * units)
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_ih_l0[units:2 * units] = 1.0  # forget gate, as dtrain's LSTM
            self.lstm.bias_hh_l0.zero_()
            glorot_(self.logits.weight, units, vocab)
            self.logits.bias.zero_()

    def forward(self, x):
        h, _ = self.lstm(self.embed(x))  # zero state at the start of every sequence
        return self.logits(h)


def mean_loss(model, seqs, batch=256):
    """Mean cross-entropy (nats) over every position of every sequence."""
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            s = seqs[i:i + batch]
            logits = model(s[:, :-1])
            total += nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), s[:, 1:].reshape(-1), reduction="sum").item()
            count += s[:, 1:].numel()
    return total / count


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="the text file dtrain was given (text:FILE)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32, help="dtrain's GLOBAL batch (charlstm: 32)")
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    train, val, test, vocab = load_splits(a.data)
    model = CharLSTM(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-7)
    steps_per_epoch = len(train) // a.batch_size
    ln2 = math.log(2.0)
    start = time.time()
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        order = torch.randperm(len(train))
        loss_sum = 0.0
        model.train()
        for step in range(steps_per_epoch):
            s = train[order[step * a.batch_size:(step + 1) * a.batch_size]]
            logits = model(s[:, :-1])
            loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), s[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        seconds = time.time() - t0
        model.eval()
        print(json.dumps({"event": "epoch", "epoch": epoch, "steps": steps_per_epoch,
                          "train_bpc": loss_sum / steps_per_epoch / ln2,
                          "val_bpc": mean_loss(model, val) / ln2, "epoch_seconds": seconds,
                          "samples_per_sec": steps_per_epoch * a.batch_size / seconds}),
              flush=True)
    test_loss = mean_loss(model, test)
    print(json.dumps({"event": "final", "test_loss": test_loss, "test_bpc": test_loss / ln2,
                      "vocabulary": vocab, "train_sequences": len(train),
                      "seconds": time.time() - start}), flush=True)


if __name__ == "__main__":
    main()

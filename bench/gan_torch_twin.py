#!/usr/bin/python3
"""PyTorch twin of dtrain's built-in `gan`: the same networks, losses, optimizer and data, so
the samples dtrain's recipe gives can be told apart from what an implementation gets wrong.

Needs Debian's python3-torch and dataset-fashion-mnist; run it with Debian's /usr/bin/python3:

  OMP_NUM_THREADS=1 /usr/bin/python3 bench/gan_torch_twin.py --epochs 20 --out twin.png
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/gan_torch_twin.py --epochs 20 --sigmoid   # [0, 1] images

Prints one JSON line per epoch ({"event":"epoch","epoch":E,"d_loss":..,"g_loss":..}, as
dtrain's metrics file) and writes a 10x10 PNG grid of samples, like dtrain's
samples-epoch-E.png, for the two to be compared side by side.
"""
import argparse
import gzip
import json
import struct
import zlib

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def read_images(path, count):
    data = gzip.open(path).read()
    n, rows, cols = struct.unpack(">III", data[4:16])
    pixels = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    return torch.from_numpy(pixels[:count].astype(np.float32) / 255.0)


def write_png(path, grid):
    """Grayscale PNG from a float array in [0, 1] (no PIL on a bare Debian)."""
    height, width = grid.shape
    pixels = (np.clip(grid, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raw = b"".join(b"\0" + pixels[r].tobytes() for r in range(height))

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) +
                chunk(b"IEND", b""))


def train_epoch(g, d, opt_g, opt_d, x, b, noise):
    """One epoch of dtrain's GAN step over x in a random order, batches of b (the tail that
    does not fill one is dropped): D on real -> 1 and on G(z) -> 0 (two passes), then G's
    non-saturating loss through the updated D. Returns the mean d_loss and g_loss."""
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
    order = torch.randperm(len(x))
    steps = len(x) // b
    d_sum = g_sum = 0.0
    for s in range(steps):
        real = x[order[s * b:(s + 1) * b]]
        fake = g(torch.randn(b, noise))
        d_loss = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(d(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_sum += d_loss.item()
        g_sum += g_loss.item()
    return d_sum / steps, g_sum / steps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--train-size", type=int, default=55000, help="dtrain holds out the last 5,000")
    p.add_argument("--sigmoid", action="store_true", help="sigmoid generator, images in [0, 1]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="gan-twin.png")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)

    x = read_images(DATA, a.train_size)
    if not a.sigmoid:
        x = 2.0 * x - 1.0  # the tanh generator's range (dtrain: image_range MINUS_ONE_TO_ONE)
    g = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784),
                      nn.Sigmoid() if a.sigmoid else nn.Tanh())
    d = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    for m in list(g) + list(d):
        if isinstance(m, nn.Linear):  # dtrain's default initialization
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    fixed = torch.randn(100, 64)
    for epoch in range(1, a.epochs + 1):
        d_loss, g_loss = train_epoch(g, d, opt_g, opt_d, x, a.batch_size, 64)
        print(json.dumps({"event": "epoch", "epoch": epoch, "d_loss": d_loss, "g_loss": g_loss}),
              flush=True)
    with torch.no_grad():
        images = g(fixed).numpy()
    if not a.sigmoid:
        images = (images + 1.0) / 2.0
    write_png(a.out, images.reshape(10, 10, 28, 28).transpose(0, 2, 1, 3).reshape(280, 280))


if __name__ == "__main__":
    main()

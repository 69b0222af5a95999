#!/usr/bin/python3
"""PyTorch twin of dtrain's built-in `gan` (the DCGAN of models/gan.pbtxt): the same layers,
initialization, losses, optimizer, batch and data, so that what the recipe gives can be told
apart from what dtrain's implementation would get wrong.

Needs Debian's python3-torch and dataset-fashion-mnist; run it with Debian's /usr/bin/python3:

  /usr/bin/python3 bench/dcgan_torch_twin.py --epochs 10 --batch-size 64 --width 1 \
      --samples-dir twin/       # --width 2: the tutorials' channels (generator 128-64, D 64-128)

Prints one JSON line per epoch ({"event":"epoch","epoch":E,"d_loss":..,"g_loss":..}, as
dtrain's metrics file) and, at each epoch in --sample-epochs, writes samples-epoch-E.npy
(--samples generated images in [0, 1], [N, 28, 28, 1] float32, the generator in evaluation
mode: running batchnorm statistics, as dtrain eval judges) and samples-epoch-E.png (the first
100 as a 10x10 grid). bench/dcgan_vs_torch.sh judges the .npy files with the same classifier
checkpoint that `dtrain eval --classifier` uses.

Layout: PyTorch computes NCHW and dtrain NHWC; the dense layer's 7x7xC output is read as a
grid in each framework's own order, which changes which weight feeds which pixel, not the
network's distribution at initialization or what it can learn.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn

from gan_torch_twin import DATA, read_images, train_epoch, write_png


class Grid(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.channels = channels

    def forward(self, x):
        return x.view(x.shape[0], self.channels, 7, 7)


def networks(width, noise):
    g1, g2 = 64 * width, 32 * width  # generator: 7x7 grid channels, then 14x14
    d1, d2 = 32 * width, 64 * width  # discriminator: 14x14, then 7x7
    # dtrain's batchnorm: momentum 0.9 of the old value (PyTorch's 0.1), epsilon 1e-5.
    g = nn.Sequential(nn.Linear(noise, 7 * 7 * g1, bias=False), Grid(g1),
                      nn.BatchNorm2d(g1, momentum=0.1, eps=1e-5), nn.ReLU(),
                      nn.ConvTranspose2d(g1, g2, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(g2, momentum=0.1, eps=1e-5), nn.ReLU(),
                      nn.ConvTranspose2d(g2, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, d1, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(d1, d2, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(d2, momentum=0.1, eps=1e-5), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(7 * 7 * d2, 1))
    for m in list(g) + list(d):
        # dtrain's default initialization: Glorot uniform over fan_in = k*k*in and
        # fan_out = k*k*out (PyTorch's xavier_uniform_ computes the same fans), zero biases.
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return g, d


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--width", type=int, default=1, help="1: models/gan.pbtxt; 2: twice the channels")
    p.add_argument("--train-size", type=int, default=55000, help="dtrain holds out the last 5,000")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--sample-epochs", default="", help="comma-separated; default: the last")
    p.add_argument("--samples-dir", default=".")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    sample_epochs = {int(e) for e in a.sample_epochs.split(",") if e} or {a.epochs}
    os.makedirs(a.samples_dir, exist_ok=True)

    x = 2.0 * read_images(DATA, a.train_size).view(-1, 1, 28, 28) - 1.0  # the tanh range
    noise = 100
    g, d = networks(a.width, noise)
    # dtrain's Adam: epsilon 1e-7; the recipe's lr 2e-4 and beta1 0.5.
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    judge_noise = torch.randn(a.samples, noise, generator=torch.Generator().manual_seed(a.seed + 1))
    for epoch in range(1, a.epochs + 1):
        g.train()
        d.train()
        # As dtrain's GAN task (gan_torch_twin.train_epoch): each discriminator pass, real and
        # fake, normalizes with its own batch statistics.
        d_loss, g_loss = train_epoch(g, d, opt_g, opt_d, x, a.batch_size, noise)
        print(json.dumps({"event": "epoch", "epoch": epoch, "d_loss": d_loss, "g_loss": g_loss}),
              flush=True)
        if epoch in sample_epochs:
            g.eval()
            with torch.no_grad():
                images = ((g(judge_noise) + 1.0) / 2.0).clamp(0.0, 1.0).numpy()
            stem = os.path.join(a.samples_dir, f"samples-epoch-{epoch}")
            np.save(stem + ".npy", images.transpose(0, 2, 3, 1).astype(np.float32))
            grid = images[:100, 0].reshape(10, 10, 28, 28).transpose(0, 2, 1, 3).reshape(280, 280)
            write_png(stem + ".png", grid)


if __name__ == "__main__":
    main()

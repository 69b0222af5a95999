#!/usr/bin/python3
"""PyTorch throughput peers for dtrain's built-in image families: the same network, batch,
optimizer, loss and threads, timed over a fixed number of training steps on Fashion-MNIST.

Needs Debian's python3-torch and dataset-fashion-mnist; run it with Debian's /usr/bin/python3
and one BLAS thread (torch.set_num_threads alone leaves OpenBLAS threads spinning):

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_families.py --model lstm

Models (models/*.pbtxt; initial values and the data order do not change the cost):
  cnn               bench/torch_peer.py's ReferenceCNN, Adam 1e-3
  mlp               784 -> 256 ReLU -> 10, Adam 1e-3
  lstm              the 28 rows of an image as 28 steps, LSTM 128, last state -> 10, Adam 5e-3
  autoencoder       784 -> 256 -> 64 -> 256 -> 784 (ReLU, sigmoid), MSE, Adam 1e-3
  conv-autoencoder  conv 16/32 stride 2, 1x1 conv to 8, conv_transpose 32/16/1, MSE, Adam 1e-3
  gan               the DCGAN (noise 100, generator dense 7x7x64, BN, conv_transpose 32 and 1;
                    discriminator conv 32/64 stride 2, BN, dense 1), Adam 2e-4 beta1 0.5
  gan-mlp           the dense GAN (noise 64, 256 LeakyReLU, 784 tanh; 784 -> 256 -> 1)
A GAN step is dtrain's: the discriminator on a real and a generated batch, its update, then the
generator through the updated discriminator (non-saturating loss); samples/s counts real images.

Prints {"event":"epoch","model":..,"samples_per_sec":..,"steps":..,"seconds":..,"threads":..},
the epoch line of dtrain's metrics file. Timing starts after two warm-up steps.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import ReferenceCNN, find_data_dir, load  # noqa: E402


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


class RowLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x.view(-1, 28, 28))
        return self.fc(h[-1])


def autoencoder():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64),
                         nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784),
                         nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))


def conv_autoencoder():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 8, 1), nn.ReLU(), nn.ConvTranspose2d(8, 32, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())


def dcgan():
    g = nn.Sequential(
        nn.Linear(100, 3136, bias=False), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64),
        nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1, bias=False),
        nn.BatchNorm2d(64), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(64 * 7 * 7, 1))
    return g, d, 100


def dense_gan():
    g = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh(),
                      nn.Unflatten(1, (1, 28, 28)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    return g, d, 64


SUPERVISED = {"cnn": (ReferenceCNN, 1e-3), "mlp": (mlp, 1e-3), "lstm": (RowLSTM, 5e-3)}
RECONSTRUCT = {"autoencoder": autoencoder, "conv-autoencoder": conv_autoencoder}
GANS = {"gan": dcgan, "gan-mlp": dense_gan}


def step_function(name, x, y, b):
    """A closure that runs training step s, and the real images it consumes per step."""
    if name in SUPERVISED:
        make, lr = SUPERVISED[name]
        model = make()
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-7)
        lossf = nn.CrossEntropyLoss()

        def step(s):
            opt.zero_grad(set_to_none=True)
            lossf(model(x[s * b:(s + 1) * b]), y[s * b:(s + 1) * b]).backward()
            opt.step()
        return step
    if name in RECONSTRUCT:
        model = RECONSTRUCT[name]()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

        def step(s):
            xb = x[s * b:(s + 1) * b]
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(model(xb), xb).backward()
            opt.step()
        return step
    g, d, noise = GANS[name]()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-7)
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
    images = 2.0 * x - 1.0  # the tanh generator's range

    def step(s):
        real = images[s * b:(s + 1) * b]
        fake = g(torch.randn(b, noise))
        d_loss = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = bce(d(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, choices=sorted([*SUPERVISED, *RECONSTRUCT, *GANS]))
    ap.add_argument("--steps", type=int, default=200, help="timed steps (after 2 warm-up steps)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr, _, _ = load(a.data or find_data_dir())
    needed = (a.steps + 2) * a.batch_size
    if needed > len(xtr):
        raise SystemExit(f"--steps {a.steps}: at most {len(xtr) // a.batch_size - 2} with batch "
                         f"{a.batch_size} (one pass over the 60,000 training images)")
    order = torch.randperm(len(xtr))[:needed]
    x, y = xtr[order].contiguous(), ytr[order].contiguous()
    step = step_function(a.model, x, y, a.batch_size)
    step(0)
    step(1)
    start = time.perf_counter()
    for s in range(2, a.steps + 2):
        step(s)
    seconds = time.perf_counter() - start
    print(json.dumps({"event": "epoch", "model": a.model, "steps": a.steps,
                      "samples_per_sec": a.steps * a.batch_size / seconds, "seconds": seconds,
                      "threads": a.threads}), flush=True)


if __name__ == "__main__":
    main()

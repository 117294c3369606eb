"""PyTorch reference VAE for `npm run bench`: the classic pytorch/examples VAE
(784-400-20, ReLU, Bernoulli decoder with summed BCE, Adam 1e-3, batch 128), run
on the data files the bench writes so both sides train on the same binarized digits.

Usage: python scripts/torch_vae.py DATA_DIR --epochs N [--threads T] [--seed S]
DATA_DIR holds train.f32 / test.f32 (raw little-endian float32, row-major n x 784)
and meta.json {"train": n, "test": m, "dim": 784}. Prints one JSON object per line:
{"event": "header", ...}, {"event": "epoch", ...}, {"event": "done", ...}.
"""

import argparse
import json
import os
import resource
import sys
import time
import warnings

# torch warns at import when numpy is absent; the script does not need numpy.
warnings.filterwarnings("ignore", message=".*NumPy.*")

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # the bench reads this line and goes on without (c)
    print(json.dumps({"event": "unavailable", "reason": f"torch is not importable: {exc}"}))
    sys.exit(0)


class VAE(nn.Module):
    def __init__(self, dim=784, hidden=400, latent=20):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, dim)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))  # logits

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(logits, x, mu, logvar):
    """Summed −ELBO over the batch: BCE (= −log Bernoulli) + analytic KL to N(0, I)."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def load(path, n, dim):
    with open(path, "rb") as fh:
        buf = bytearray(fh.read())
    return torch.frombuffer(buf, dtype=torch.float32).reshape(n, dim).clone()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(os.path.join(args.data_dir, "meta.json")) as fh:
        meta = json.load(fh)
    dim = meta["dim"]
    train = load(os.path.join(args.data_dir, "train.f32"), meta["train"], dim)
    test = load(os.path.join(args.data_dir, "test.f32"), meta["test"], dim)

    model = VAE(dim, args.hidden, args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(
        json.dumps(
            {
                "event": "header",
                "torch": torch.__version__,
                "python": sys.version.split()[0],
                "threads": torch.get_num_threads(),
                "mkldnn": bool(torch.backends.mkldnn.is_available()),
            }
        ),
        flush=True,
    )

    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(train.shape[0], generator=gen)
        steps = 0
        total = 0.0
        t0 = time.perf_counter()
        for start in range(0, train.shape[0], args.batch_size):
            x = train[perm[start : start + args.batch_size]]
            opt.zero_grad()
            logits, mu, logvar = model(x)
            loss = loss_function(logits, x, mu, logvar)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        seconds = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            test_loss = 0.0
            for start in range(0, test.shape[0], 500):
                x = test[start : start + 500]
                logits, mu, logvar = model(x)
                test_loss += loss_function(logits, x, mu, logvar).item()
        print(
            json.dumps(
                {
                    "event": "epoch",
                    "epoch": epoch,
                    "trainNegElbo": total / train.shape[0],
                    "testNegElbo": test_loss / test.shape[0],
                    "trainSeconds": seconds,
                    "examplesPerSecond": train.shape[0] / seconds,
                    "msPerStep": 1000.0 * seconds / steps,
                    "peakRssMb": peak_rss_mb(),
                }
            ),
            flush=True,
        )
    print(json.dumps({"event": "done", "peakRssMb": peak_rss_mb()}), flush=True)


if __name__ == "__main__":
    main()

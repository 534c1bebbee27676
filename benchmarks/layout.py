"""Examples as rows or as columns? The measurement behind matnet.core.engine's layout choice.

Runs the same NumPy mini-batch SGD epoch two ways on the book's workload and prints seconds
per epoch, interleaved (rows, columns, rows, ...) and as medians:

- rows:    X is (n, 784), a batch is a gather of m contiguous rows; Z = A Wᵀ + b   (matnet)
- columns: X is (784, n), a batch is a gather of m columns;         Z = W A + b   (the book's
           orientation, one example per column)

    python benchmarks/layout.py [--batch-sizes 10,100] [--rounds 5] [--examples 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from matnet import datasets
from matnet.core.kernels import get_kernels

K = get_kernels("numpy")


def epoch_rows(w, b, x, y, order, m, eta):
    for start in range(0, order.size, m):
        rows = order[start : start + m]
        xb, yb = x[rows], y[rows]
        acts = [xb]
        for wl, bl in zip(w, b):
            z = acts[-1] @ wl.T + bl.T
            acts.append(K.sigmoid(z, out=z))
        delta = K.output_delta(acts[-1], yb, out=np.empty_like(acts[-1]))
        for layer in range(len(w) - 1, -1, -1):
            gw, gb = delta.T @ acts[layer], delta.sum(axis=0)
            if layer:
                delta = K.hidden_delta(delta @ w[layer], acts[layer], out=np.empty_like(acts[layer]))
            w[layer] -= (eta / rows.size) * gw
            b[layer][:, 0] -= (eta / rows.size) * gb


def epoch_columns(w, b, xt, yt, order, m, eta):
    for start in range(0, order.size, m):
        cols = order[start : start + m]
        xb, yb = xt[:, cols], yt[:, cols]
        acts = [xb]
        for wl, bl in zip(w, b):
            z = wl @ acts[-1] + bl
            acts.append(K.sigmoid(z, out=z))
        delta = K.output_delta(acts[-1], yb, out=np.empty_like(acts[-1]))
        for layer in range(len(w) - 1, -1, -1):
            gw, gb = delta @ acts[layer].T, delta.sum(axis=1)
            if layer:
                delta = K.hidden_delta(w[layer].T @ delta, acts[layer], out=np.empty_like(acts[layer]))
            w[layer] -= (eta / cols.size) * gw
            b[layer][:, 0] -= (eta / cols.size) * gb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="10,100")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=20000, help="examples per timed run")
    args = parser.parse_args()
    training = datasets.load_mnist().training
    x = training.images
    y = np.eye(10)[training.labels]
    xt, yt = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    rng = np.random.default_rng(0)
    sizes = [784, 30, 10]
    w0 = [rng.standard_normal((n, k)) for k, n in zip(sizes[:-1], sizes[1:])]
    b0 = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    order = rng.permutation(x.shape[0])[: args.examples]
    scale = x.shape[0] / args.examples
    print(f"| batch size | rows: s / epoch | columns: s / epoch | columns ÷ rows |  ({args.rounds} rounds)")
    print("|---|---|---|---|")
    for m in (int(v) for v in args.batch_sizes.split(",")):
        times = {"rows": [], "columns": []}
        for _ in range(args.rounds):
            for name, run, data in (("rows", epoch_rows, (x, y)), ("columns", epoch_columns, (xt, yt))):
                w, b = [a.copy() for a in w0], [a.copy() for a in b0]
                started = time.perf_counter()
                run(w, b, *data, order, m, 3.0)
                times[name].append((time.perf_counter() - started) * scale)
        rows, cols = statistics.median(times["rows"]), statistics.median(times["columns"])
        print(f"| {m} | {rows:.3f} | {cols:.3f} | {cols / rows:.2f} |")


if __name__ == "__main__":
    main()

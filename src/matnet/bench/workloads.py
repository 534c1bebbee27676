"""The benchmark workloads, defined once: what the suite, the report and the CI gate measure.

A :class:`Workload` is plain data (layer sizes, mini-batch size, η, dtype, kind, examples).
:func:`setup` builds its :class:`State` — the data, fixed-seed initial parameters and a fixed
permutation — and :func:`make_runner` returns, for one *path* (a way of computing it), a
:class:`Runner`: a zero-argument callable that runs the workload once from the initial
parameters. Paths:

``book``           the book's own ``network.py`` (``matnet.bench.book_network``): the 1x of
                   every speedup; always float64, the book's only arithmetic
``loop``           matnet's per-example oracle (``matnet.core.loop``), which costs what the book does
``numpy``          the whole-batch engine (``matnet.core.engine``) with the NumPy kernels
``numba-kernels``  the same engine with the numba kernels
``fused``          the compiled path (``matnet.core.fused_backend``): a whole epoch, or a
                   whole evaluation, in one compiled call

matnet's four paths run through the one backend contract (``matnet.core.backend``), as a
network's calls do, minus the network's checks.
``torch``, ``jax`` optional peers, the same math (quadratic cost summed over the batch and
                   divided by its size, plain SGD with the same η); available when installed

**Resetting.** Every run starts from the same initial parameters. :meth:`Runner.reset` copies
them in and :meth:`Runner.run` does the work; the timers here (and the benchmark suite, via
``benchmark.pedantic(setup=...)``) call ``reset`` *outside* the timed region, so the copy is
excluded — it matters for single steps (~11 µs to copy [784, 30, 10] vs ~100 µs a step),
not for epochs.
Calling the runner itself does both, for convenience.

**Prefixes.** The book and the loop are slow (~3 s per epoch at m = 10), so a runner may process only the
first ``examples`` entries of the epoch's permutation (a whole number of mini-batches);
:attr:`Runner.scale` converts its time to the full workload, and reports say so. The cost of
every path here is linear in the examples processed, so the scaling is sound.

**FLOPs** (:func:`flops`), counting one per arithmetic operation, per example, for layer
sizes n_0 … n_L (layer l has fan-in n_{l-1}, fan-out n_l):

- forward (eq. 25): Σ_l 2 n_{l-1} n_l (product) + n_l (bias) + 4 n_l (sigmoid: −, exp, +, ÷)
- BP1: 4 n_L ((a − y), (1 − a), two products)
- BP2, for l = L−1 … 1: 2 n_l n_{l+1} (the product δ W) + 3 n_l (the Hadamard with a(1−a))
- BP3: Σ_l n_l (bias gradient: one accumulation per neuron)
- BP4: Σ_l 2 n_{l-1} n_l (weight gradient)

plus, once per mini-batch, the update: 2 per parameter (scale by η/m, subtract). The book's
``[784, 30, 10]``, m = 10 epoch is 4.81 GFLOP of forward/backward work plus 0.24 of updates:
5.05 GFLOP. The dense products are 99% of it. These are *dense-equivalent* FLOPs: the fused
path skips zero pixels (MNIST is ~81% zeros), so it performs fewer operations than counted;
:func:`sparse_flops` counts what it really does, the first layer's products over the
non-zero pixels only (≈150 of 784 per MNIST image). Evaluation counts the forward pass only.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from matnet.core.kernels import get_kernels
from matnet.core.maths import QUADRATIC, SIGMOID, UpdateRule
from matnet.core.spec import Spec

SEED = 0  # initial parameters and permutation of every workload
ETA = 3.0  # the book's learning rate
N_TRAINING = 50_000  # one epoch of the book's training split
N_TEST = 10_000
SIGMOID_FLOPS = 4

CORE_PATHS = ("book", "loop", "numpy", "numba-kernels", "fused")
BASELINE = "book"  # every speedup is over the book's own network.py
PEER_PATHS = ("torch", "jax")
PATHS = CORE_PATHS + PEER_PATHS
KINDS = ("epoch", "step", "evaluate")
DTYPES = ("float64", "float32")
KERNELS = ("sigmoid", "sigmoid_prime", "output_delta", "hidden_delta")


class PathUnavailableError(RuntimeError):
    """A path cannot run here: not defined for the workload's kind, or its package is missing."""


@dataclass(frozen=True)
class Workload:
    """One thing to time. ``batch_size`` is None for evaluation (there are no mini-batches);
    ``n_examples`` is the examples of one run: 50,000 per epoch, m per step, 10,000 per
    evaluation."""

    name: str
    sizes: tuple[int, ...]
    batch_size: int | None
    eta: float
    dtype: str
    kind: str
    n_examples: int

    @property
    def flops(self) -> float:
        """Dense-equivalent floating-point operations of one run (see the module docstring)."""
        return flops(self)

    @property
    def unit(self) -> str:
        """What one run is: 'epoch', 'step' or 'evaluation'."""
        return "evaluation" if self.kind == "evaluate" else self.kind


def _short(dtype: str) -> str:
    return {"float64": "f64", "float32": "f32"}[dtype]


def workload(
    kind: str, sizes: Sequence[int], batch_size: int | None = 10, dtype: str = "float64"
) -> Workload:
    """The workload of this kind, sizes, batch size and dtype, named canonically.

    Names read like ``epoch-784-30-10-m10-f64``, ``step-784-100-10-m10-f32`` and
    ``evaluate-784-30-10-f64``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    sizes = tuple(int(n) for n in sizes)
    layers = "-".join(str(n) for n in sizes)
    if kind == "evaluate":
        return Workload(f"evaluate-{layers}-{_short(dtype)}", sizes, None, ETA, dtype, kind, N_TEST)
    if batch_size is None or batch_size < 1:
        raise ValueError(f"a {kind} workload needs a positive batch size, got {batch_size!r}")
    n = N_TRAINING if kind == "epoch" else batch_size
    return Workload(f"{kind}-{layers}-m{batch_size}-{_short(dtype)}", sizes, batch_size, ETA, dtype, kind, n)


BOOK_SIZES = ((784, 30, 10), (784, 100, 10), (784, 100, 100, 10))

#: Every workload, in report order: epochs, then single steps, then evaluations.
WORKLOADS: tuple[Workload, ...] = (
    *(workload("epoch", (784, 30, 10), m, dt) for dt in DTYPES for m in (1, 10, 100, 1000)),
    *(workload("epoch", s, 10, dt) for dt in DTYPES for s in BOOK_SIZES[1:]),
    *(workload("step", s, 10, dt) for dt in DTYPES for s in BOOK_SIZES),
    *(workload("evaluate", s, None, dt) for dt in DTYPES for s in BOOK_SIZES),
)

#: The book's workload: [784, 30, 10], η = 3.0, mini-batch 10, one epoch, float64.
BOOK = workload("epoch", (784, 30, 10), 10, "float64")


def find(name: str) -> Workload:
    """The catalogued workload called ``name``."""
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(f"unknown workload {name!r}; known: {', '.join(w.name for w in WORKLOADS)}")


# ------------------------------------------------------------------------------------ FLOPs


def forward_flops(sizes: Sequence[int]) -> int:
    """FLOPs of one example's forward pass: products, biases, sigmoids."""
    return sum(2 * a * b + b + SIGMOID_FLOPS * b for a, b in zip(sizes[:-1], sizes[1:]))


def backward_flops(sizes: Sequence[int]) -> int:
    """FLOPs of one example's BP1–BP4 (the gradient summed into the batch's)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    bp1 = 4 * sizes[-1]
    bp2 = sum(2 * a * b + 3 * a for a, b in pairs[1:])  # a: the hidden layer δ is carried into
    bp3 = sum(b for _, b in pairs)
    bp4 = sum(2 * a * b for a, b in pairs)
    return bp1 + bp2 + bp3 + bp4


def update_flops(sizes: Sequence[int]) -> int:
    """FLOPs of one mini-batch's parameter update: 2 per weight and bias."""
    return sum(2 * (a * b + b) for a, b in zip(sizes[:-1], sizes[1:]))


def sparse_flops(w: Workload, nonzero: float, examples: int | None = None) -> float:
    """FLOPs of ``w`` when the first layer's products (forward and BP4) run over ``nonzero``
    inputs per example instead of n_0, as the fused path's do."""
    n = w.n_examples if examples is None else examples
    n_in, n_first = w.sizes[0], w.sizes[1]
    saved = 2 * (n_in - nonzero) * n_first * (1 if w.kind == "evaluate" else 2)
    return flops(w, examples) - n * saved


def flops(w: Workload, examples: int | None = None) -> float:
    """Dense-equivalent FLOPs of ``w`` over ``examples`` (default: the whole workload)."""
    n = w.n_examples if examples is None else examples
    if w.kind == "evaluate":
        return float(n * forward_flops(w.sizes))
    batches = math.ceil(n / w.batch_size)
    return float(n * (forward_flops(w.sizes) + backward_flops(w.sizes)) + batches * update_flops(w.sizes))


# ------------------------------------------------------------------------------------ state


@dataclass
class State:
    """A workload's inputs, all fixed by :data:`SEED`; nothing here is ever modified.

    x (n, n_0) inputs, y (n, n_L) one-hot targets and labels (n,) are the training split
    (epoch, step) or the test split (evaluate). ``weights[l]`` (n_{l+1}, n_l) and ``biases[l]``
    (n_{l+1}, 1) are the initial parameters, in the book's layout. ``order`` is the permutation
    of the rows one run visits (length ``workload.n_examples``).
    """

    workload: Workload
    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    order: np.ndarray


def initial_parameters(
    sizes: Sequence[int], dtype: str, seed: int = SEED
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Standard-normal weights (n_{l+1}, n_l) and biases (n_{l+1}, 1), read-only.

    Drawn in float64 and then cast, so the float32 workloads start from the same numbers.
    """
    rng = np.random.default_rng(seed)
    biases = tuple(rng.standard_normal((b, 1)).astype(dtype) for b in sizes[1:])
    weights = tuple(rng.standard_normal((b, a)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:]))
    for arr in weights + biases:
        arr.setflags(write=False)
    return weights, biases


def setup(
    w: Workload,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    data_dir: str | None = None,
    seed: int = SEED,
) -> State:
    """The State of ``w``: MNIST (via ``matnet.datasets.load_mnist``) unless ``data`` gives
    (images (n, n_0), labels (n,)) to use instead (tests use small synthetic sets)."""
    if data is None:
        from matnet.datasets import load_mnist

        split = load_mnist(data_dir, dtype=np.dtype(w.dtype))
        part = split.test if w.kind == "evaluate" else split.training
        images, labels = part.images, part.labels
    else:
        images, labels = data
    if w.kind == "evaluate":
        images, labels = images[: w.n_examples], labels[: w.n_examples]
    x = np.ascontiguousarray(images, dtype=w.dtype)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != w.sizes[0] or labels.shape != (x.shape[0],):
        raise ValueError(
            f"{w.name} needs images (n, {w.sizes[0]}) and labels (n,), got {x.shape}, {labels.shape}"
        )
    y = np.eye(w.sizes[-1], dtype=w.dtype)[labels]
    weights, biases = initial_parameters(w.sizes, w.dtype, seed)
    n = x.shape[0]
    if w.kind == "evaluate":
        order = np.arange(n)
    else:
        if n < w.n_examples and w.kind == "epoch":
            raise ValueError(f"{w.name} needs {w.n_examples} examples, got {n}")
        order = np.random.default_rng([seed, 1]).permutation(n)[: w.n_examples]
    for arr in (y, order):  # ours; x and labels may be the caller's arrays: left alone
        arr.setflags(write=False)
    return State(w, x, y, labels, weights, biases, order)


# ------------------------------------------------------------------------------------ runners


def _nothing() -> None:
    return None


@dataclass
class Runner:
    """One path running one workload: ``run()`` does the work, ``reset()`` restores the initial
    parameters (excluded from timings), ``warmup()`` compiles/allocates without being timed.

    ``examples`` is what one run processes and ``scale`` = workload examples / ``examples``:
    a run's seconds times ``scale`` is the whole workload's. ``repeat`` > 1 (stateless runs
    only, like kernels) makes one timing sample ``repeat`` back-to-back runs.
    """

    path: str
    name: str
    run: Callable[[], object]
    reset: Callable[[], None] = _nothing
    warmup: Callable[[], object] | None = None
    examples: int = 1
    scale: float = 1.0
    repeat: int = 1
    note: str = ""
    # The parameters after the latest run, as NumPy (weights, biases) in the book's layout.
    parameters: Callable[[], tuple[list[np.ndarray], list[np.ndarray]]] | None = None
    keep: list = field(default_factory=list, repr=False)  # objects the closures rely on

    def __call__(self) -> object:
        self.reset()
        return self.run()

    def prepare(self) -> None:
        """Warm up (numba compile, JAX trace, first allocations), then reset."""
        (self.warmup or self.run)()
        self.reset()


def paths_for(w: Workload) -> tuple[str, ...]:
    """The paths defined for ``w``: every one (the numba-kernels path evaluates with the
    engine and the numba kernel registry; fused with the compiled fused evaluation)."""
    return CORE_PATHS + PEER_PATHS


def unavailable(path: str) -> str | None:
    """Why ``path`` cannot run in this environment (None when it can)."""
    if path not in PATHS:
        return f"unknown path {path!r}; choose from {PATHS}"
    if path in PEER_PATHS and importlib.util.find_spec(path) is None:
        return f"{path} is not installed"
    return None


def _examples(w: Workload, state: State, examples: int | None) -> int:
    n = state.order.shape[0]
    if examples is None or examples >= n:
        return n
    if w.kind == "evaluate":
        return max(1, examples)
    m = w.batch_size
    return max(m, examples // m * m)  # whole mini-batches only


def make_runner(state: State, path: str, examples: int | None = None) -> Runner:
    """A Runner for ``path`` on ``state``'s workload, over the first ``examples`` of its
    order (rounded down to whole mini-batches; default: all). Raises PathUnavailableError."""
    w = state.workload
    if path not in paths_for(w):
        raise PathUnavailableError(f"path {path!r} is not defined for {w.kind} workloads")
    reason = unavailable(path)
    if reason:
        raise PathUnavailableError(reason)
    k = _examples(w, state, examples)
    build = {
        "book": _book_runner,
        "loop": _matnet_runner,
        "numpy": _matnet_runner,
        "numba-kernels": _matnet_runner,
        "fused": _matnet_runner,
        "torch": _torch_runner,
        "jax": _jax_runner,
    }[path]
    runner = build(state, path, k)
    runner.examples = k
    runner.scale = state.order.shape[0] / k
    if k < state.order.shape[0]:
        runner.note = f"{k:,} of {state.order.shape[0]:,} examples, scaled"
    return runner


def _book_runner(state: State, path: str, k: int) -> Runner:
    """The book's own network.py, on the book's columns: the 1x. The book has no float32: a
    float32 workload's 1x is the book's float64 (its only) arithmetic."""
    from matnet.bench import book_network

    w = state.workload
    net = book_network.Network.__new__(book_network.Network)  # parameters set below, not drawn
    net.num_layers, net.sizes = len(w.sizes), list(w.sizes)
    weights = [np.array(a, np.float64) for a in state.weights]
    biases = [np.array(b, np.float64) for b in state.biases]
    x = np.asarray(state.x, np.float64)

    def reset() -> None:  # the book rebinds its lists on every update
        net.weights = [a.copy() for a in weights]
        net.biases = [b.copy() for b in biases]

    reset()
    if w.kind == "evaluate":
        pairs = [(x[i].reshape(-1, 1), int(state.labels[i])) for i in range(k)]
        return Runner(path, w.name, lambda: net.evaluate(pairs), reset,
                      warmup=lambda: net.evaluate(pairs[:1]), keep=[net])
    y = np.asarray(state.y, np.float64)
    columns = [(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in state.order[:k]]
    m = w.batch_size

    def run() -> None:
        for start in range(0, k, m):
            net.update_mini_batch(columns[start : start + m], w.eta)

    return Runner(path, w.name, run, reset, lambda: net.update_mini_batch(columns[:m], w.eta),
                  parameters=lambda: (net.weights, net.biases), keep=[net])


def _backend(path: str, spec: Spec):
    """matnet's backend for ``path``: the oracle, the engine with either kernel registry, or
    the compiled path."""
    if path == "loop":
        from matnet.core.loop import LoopBackend

        return LoopBackend(spec)
    if path == "fused":
        from matnet.core.fused_backend import FusedBackend

        return FusedBackend(spec)
    from matnet.core.engine import EngineBackend

    return EngineBackend(spec, "numpy" if path == "numpy" else "numba")


def _matnet_runner(state: State, path: str, k: int) -> Runner:
    """One of matnet's paths on its backend: the inputs prepared once (the CSR form for the
    compiled path), as a network's SGD does once per call."""
    w = state.workload
    spec = Spec(tuple(w.sizes), np.dtype(w.dtype), (SIGMOID,) * (len(w.sizes) - 1))
    backend = _backend(path, spec)

    def reset() -> None:
        for dst, src in zip(backend.weights + backend.biases, state.weights + state.biases):
            np.copyto(dst, src)

    reset()
    prepared = backend.inputs(state.x, "inputs")
    if w.kind == "evaluate":
        rows, labels = np.arange(k), state.labels[:k]

        def evaluate() -> int:
            return backend.count_correct(prepared, rows, labels)[0]

        return Runner(path, w.name, evaluate, reset, warmup=evaluate, keep=[backend])
    order, m, rule = state.order[:k], w.batch_size, UpdateRule(w.eta)

    def run() -> int:
        return backend.train(prepared, state.y, order, order, m, rule, True)

    def warmup() -> int:
        backend.prepare(m)
        return backend.train(prepared, state.y, order[:m], order[:m], m, rule, True)

    return Runner(path, w.name, run, reset, warmup, parameters=lambda: (backend.weights, backend.biases),
                  keep=[backend])


def _torch_runner(state: State, path: str, k: int) -> Runner:
    """PyTorch CPU eager: nn.Linear + sigmoid, cost 0.5·Σ(a − y)²/m, optim.SGD(lr=η)."""
    import torch

    w = state.workload
    tdtype = {"float64": torch.float64, "float32": torch.float32}[w.dtype]
    linears = [torch.nn.Linear(a, b, dtype=tdtype) for a, b in zip(w.sizes[:-1], w.sizes[1:])]
    model = torch.nn.Sequential(*(m for lin in linears for m in (lin, torch.nn.Sigmoid())))
    # np.array copies: torch would warn about (and could write to) the read-only originals.
    w0 = [torch.from_numpy(np.array(a)) for a in state.weights]
    b0 = [torch.from_numpy(np.array(b[:, 0])) for b in state.biases]
    x = torch.from_numpy(np.array(state.x[: k if w.kind == "evaluate" else None]))

    def reset() -> None:
        with torch.no_grad():
            for lin, a, b in zip(linears, w0, b0):
                lin.weight.copy_(a)
                lin.bias.copy_(b)

    reset()
    if w.kind == "evaluate":
        labels = torch.from_numpy(np.array(state.labels[:k]))

        def run() -> int:
            with torch.no_grad():
                return int((model(x).argmax(dim=1) == labels).sum().item())

        return Runner(path, w.name, run, reset, keep=[model])
    y = torch.from_numpy(np.array(state.y))
    order = torch.from_numpy(np.array(state.order[:k]))
    optimizer = torch.optim.SGD(model.parameters(), lr=w.eta)
    m = w.batch_size

    def epoch(stop: int) -> None:
        for start in range(0, stop, m):
            rows = order[start : start + m]
            optimizer.zero_grad()
            a = model(x[rows])
            cost = 0.5 * ((a - y[rows]) ** 2).sum() / rows.shape[0]
            cost.backward()
            optimizer.step()

    def parameters() -> tuple[list[np.ndarray], list[np.ndarray]]:
        return (
            [lin.weight.detach().numpy().copy() for lin in linears],
            [lin.bias.detach().numpy().reshape(-1, 1).copy() for lin in linears],
        )

    return Runner(path, w.name, lambda: epoch(k), reset, lambda: epoch(m), parameters=parameters,
                  keep=[model, optimizer])


def _jax_runner(state: State, path: str, k: int) -> Runner:
    """JAX: the epoch jitted as one ``lax.scan`` over its mini-batches (float64 needs x64)."""
    import jax
    import jax.numpy as jnp

    w = state.workload
    if w.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    params = [(jnp.asarray(a), jnp.asarray(b[:, 0])) for a, b in zip(state.weights, state.biases)]

    def forward(params, xb):
        a = xb
        for wl, bl in params:
            a = jax.nn.sigmoid(a @ wl.T + bl)
        return a

    if w.kind == "evaluate":
        x, labels = jnp.asarray(state.x[:k]), jnp.asarray(state.labels[:k])
        count = jax.jit(lambda p, xs, ls: jnp.sum(jnp.argmax(forward(p, xs), axis=1) == ls))

        def run() -> int:
            return int(count(params, x, labels))

        return Runner(path, w.name, run)
    m, eta = w.batch_size, w.eta
    if k % m:
        raise PathUnavailableError(f"jax path needs whole mini-batches, got {k} examples at m = {m}")
    x, y = jnp.asarray(state.x), jnp.asarray(state.y)
    order = jnp.asarray(state.order[:k].reshape(-1, m))

    def cost(p, xb, yb):
        return 0.5 * jnp.sum((forward(p, xb) - yb) ** 2) / xb.shape[0]

    def step(p, rows, xs, ys):
        g = jax.grad(cost)(p, xs[rows], ys[rows])
        return jax.tree_util.tree_map(lambda q, d: q - eta * d, p, g)

    @jax.jit
    def epoch(p, xs, ys, batches):
        p, _ = jax.lax.scan(lambda q, rows: (step(q, rows, xs, ys), None), p, batches)
        return p

    last: list = [params]

    def run() -> object:  # functional: every run starts from the same ``params``
        last[0] = jax.block_until_ready(epoch(params, x, y, order))
        return last[0]

    def parameters() -> tuple[list[np.ndarray], list[np.ndarray]]:
        return [np.asarray(a) for a, _ in last[0]], [np.asarray(b).reshape(-1, 1) for _, b in last[0]]

    # No warm-up callable: warm-up is one full run, as jit compiles for this very shape.
    return Runner(path, w.name, run, parameters=parameters)


# ------------------------------------------------------------------------------------ kernels


@dataclass(frozen=True)
class KernelCase:
    """One elementwise kernel on (rows, cols) arrays; paths are registry names."""

    kernel: str
    rows: int
    cols: int
    dtype: str

    @property
    def name(self) -> str:
        return f"kernel-{self.kernel}-{self.rows}x{self.cols}-{_short(self.dtype)}"


def _kernel_cols(kernel: str) -> int:
    return 10 if kernel == "output_delta" else 30  # the book's output and hidden layers


#: The book's shapes (m = 10: 10×30 hidden, 10×10 output) and 10x larger (m = 100).
KERNEL_CASES: tuple[KernelCase, ...] = tuple(
    KernelCase(k, rows, _kernel_cols(k), dt) for dt in DTYPES for rows in (10, 100) for k in KERNELS
)
KERNEL_PATHS = ("numpy", "numba")


def find_kernel(name: str) -> KernelCase:
    """The catalogued kernel case called ``name`` (e.g. ``kernel-output_delta-10x10-f64``)."""
    for case in KERNEL_CASES:
        if case.name == name:
            return case
    raise KeyError(f"unknown kernel case {name!r}; known: {', '.join(c.name for c in KERNEL_CASES)}")


def kernel_args(case: KernelCase, seed: int = SEED) -> tuple[np.ndarray, ...]:
    """Arguments of the kernel, last one ``out``: values like the engine sees (activations in
    (0, 1), weighted inputs and back-propagated errors around 0)."""
    rng = np.random.default_rng(seed)
    shape = (case.rows, case.cols)

    def draw(kind: str) -> np.ndarray:
        if kind == "a":
            return rng.uniform(0.01, 0.99, shape).astype(case.dtype)
        if kind == "y":
            return np.eye(case.cols, dtype=case.dtype)[rng.integers(0, case.cols, case.rows)]
        return rng.standard_normal(shape).astype(case.dtype)

    inputs = {"sigmoid": "z", "sigmoid_prime": "a", "output_delta": "ay", "hidden_delta": "za"}[case.kernel]
    return (*(draw(kind) for kind in inputs), np.empty(shape, case.dtype))


def kernel_runner(case: KernelCase, registry: str, repeat: int = 1) -> Runner:
    """A stateless Runner calling the ``registry`` implementation of the kernel once."""
    fn = getattr(get_kernels(registry), case.kernel)
    args = kernel_args(case)
    if case.kernel == "output_delta":  # the book's cost
        args = (QUADRATIC, *args)
    return Runner(registry, case.name, lambda: fn(*args), repeat=repeat, keep=[args])


# ------------------------------------------------------------------------------------ timing


def sample(runner: Runner) -> float:
    """Seconds of one timed sample of ``runner`` per full workload (reset excluded)."""
    runner.reset()
    run, repeat = runner.run, runner.repeat
    started = time.perf_counter()
    for _ in range(repeat):
        run()
    elapsed = time.perf_counter() - started
    return elapsed / repeat * runner.scale


def time_interleaved(
    runners: Mapping[str, Runner], rounds: int, warmup: bool = True
) -> dict[str, list[float]]:
    """Interleaved samples, seconds per full workload: ``rounds`` rounds, each timing every
    runner once; the order reverses every other round (A B, B A, …) so slow drifts of the
    machine's speed hit every runner alike. Warm-up first, untimed, unless ``warmup=False``.
    The book's sigmoid overflows ``np.exp`` (a RuntimeWarning, as in the book); the report is
    spared those lines, once for every path.
    """
    with np.errstate(over="ignore"):
        if warmup:
            for runner in runners.values():
                runner.prepare()
        names = list(runners)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            for name in names if r % 2 == 0 else reversed(names):
                samples[name].append(sample(runners[name]))
    return samples


def ratios(slow: Sequence[float], fast: Sequence[float]) -> list[float]:
    """Per-round speedups slow/fast of two interleaved sample lists."""
    return [s / f for s, f in zip(slow, fast)]


def calibrate(runner: Runner, target: float = 0.01) -> int:
    """How many back-to-back runs make a sample of about ``target`` seconds (stateless
    runners); sets ``runner.repeat`` and returns it."""
    runner.prepare()
    repeat = 1
    while True:
        runner.repeat = repeat
        seconds = sample(runner) / runner.scale * repeat
        if seconds >= target / 4 or repeat >= 1 << 20:
            break
        repeat *= 4
    runner.repeat = max(1, math.ceil(repeat * target / max(seconds, 1e-9)))
    return runner.repeat

"""Gradient checking (book §2.8): backpropagation against central finite differences.

For the cost of a few examples (the columns of x and y) — the network's cost (quadratic or
cross-entropy) summed over them, plus with L2 regularization m·(λ/2n)‖w‖², which makes one
SGD step on those m examples a step down its gradient — every weight and bias w is nudged
both ways and

    ∂C/∂w ≈ (C(w + ε) − C(w − ε)) / ((w + ε) − (w − ε))

(the denominator is the step actually taken in floating point, a hair more exact than 2ε).
That costs two forward passes per parameter — 47,720 for [784, 30, 10] — where backprop
gets all 23,860 derivatives for about the price of two: the book's point in §2.8.

The finite differences run on float64 copies of the parameters with their own small forward
pass (no code shared with ``matnet.core.engine`` or ``matnet.core.loop``), so the network is
never touched and a bug in either engine cannot hide in the check. Its formulas — each
layer's f, the cost, the penalty — come from the maths table (``matnet.core.maths``), so what
is checked is that every path's derivatives are the derivatives of that table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matnet.core import engine, loop
from matnet.core.kernels import get_kernels
from matnet.core.maths import QUADRATIC, SIGMOID, Cost, l2_penalty

Gradient = tuple[list[np.ndarray], list[np.ndarray]]  # (nabla_b, nabla_w) in the book's layout
GradientFn = Callable[[np.ndarray, np.ndarray], Gradient]

GRADIENTS = ("backprop", "engine", "loop", "sgd")
TOLERANCE = 1e-6  # the pass mark for a float64 network
# Components smaller than FLOOR_FACTOR × (the finite differences' rounding resolution) are
# judged against that floor rather than their own size (see ``relative_error``).
FLOOR_FACTOR = 1e8
# Below this step the difference quotient of a float64 cost is mostly rounding (its error
# ~ε_mach·C/eps): the check could no longer tell a wrong gradient from a right one.
MIN_EPS = 1e-8
MAX_EPS = 1e-1
# ... and a step that spans fewer float64 spacings of a parameter than this is mostly the rounding
# of w ± eps (below half a spacing, nothing: 0/0): huge parameters need a larger eps.
MIN_SPACINGS = 1000
_REPORT_EVERY = 500  # parameters between two calls of numerical_gradient's on_parameters
_SGD_ETA = 2.0**20  # a power of two: η/m·∇ is exact, and w − η/m·∇ swamps w's rounding


@dataclass(frozen=True)
class Objective:
    """The function differentiated: the ``cost`` of the examples summed, each layer's
    ``neurons`` (None: sigmoids), and L2 regularization ``lmbda`` over ``n`` training
    examples (the penalty is m·(λ/2n)‖w‖² for m examples)."""

    cost: Cost = QUADRATIC
    neurons: Sequence | None = None
    lmbda: float = 0.0
    n: int = 1

    def functions(self, depth: int) -> list[Callable[[np.ndarray], np.ndarray]]:
        return [a.f for a in (self.neurons or (SIGMOID,) * depth)]

    def penalty(self, weights, m: int) -> float:
        return m * l2_penalty(weights, self.lmbda, self.n) if self.lmbda else 0.0


def _value_from(layer: int, a: np.ndarray, weights, biases, y: np.ndarray, objective: Objective, fs) -> float:
    """The objective, feeding ``a`` (the input of ``layer``, (n_layer, m)) forward."""
    for w, b, f in zip(weights[layer:], biases[layer:], fs[layer:]):
        a = f(w @ a + b)
    return objective.cost.fn(a, y) + objective.penalty(weights, y.shape[1])


def cost(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray,
         objective: Objective = Objective()) -> float:
    """The objective for the columns of x (n_0, m) and y (n_L, m), in float64."""
    ws = [np.asarray(w, np.float64) for w in weights]
    bs = [np.asarray(b, np.float64) for b in biases]
    fs = objective.functions(len(ws))
    return _value_from(0, np.asarray(x, np.float64), ws, bs, np.asarray(y, np.float64), objective, fs)


def check_eps(eps: float) -> float:
    """``eps`` if the difference quotient is meaningful at that step in float64, else ValueError."""
    if not (np.isfinite(eps) and MIN_EPS <= eps <= MAX_EPS):
        raise ValueError(f"eps must be a step between {MIN_EPS:g} and {MAX_EPS:g}, got {eps!r}: below, "
                         "the difference quotient of a float64 cost is mostly rounding and could not "
                         "tell a wrong gradient from a right one; above, it is not a derivative")
    return float(eps)


def check_step(eps: float, parameters: Sequence[np.ndarray]) -> None:
    """ValueError unless ``eps`` spans ``MIN_SPACINGS`` float64 spacings of every parameter."""
    largest = max((float(np.max(np.abs(p), initial=0.0)) for p in parameters), default=0.0)
    spacing = float(np.spacing(largest))
    needed = MIN_SPACINGS * spacing
    if eps < needed:
        advice = (f"use an eps of at least {needed:.3g}" if needed <= MAX_EPS
                  else f"no eps up to {MAX_EPS:g} can check a parameter this large")
        raise ValueError(f"eps {eps:g} is too small for a parameter of size {largest:g}, whose float64 "
                         f"spacing is {spacing:.3g}: the step w ± eps would be mostly rounding; {advice}")


def numerical_gradient(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    eps: float = 1e-5,
    objective: Objective = Objective(),
    on_parameters: Callable[[int], None] | None = None,
) -> Gradient:
    """(nabla_b, nabla_w) of the objective by central differences, shaped like biases and
    weights. ``on_parameters(k)`` is told every time k more parameters are done (a progress bar).

    x is (n_0, m), y (n_L, m). Works on float64 copies; the arrays passed in are not touched.
    Perturbing layer l leaves the layers below it alone, so their output is computed once
    and each perturbed cost is a forward pass from layer l up.
    """
    eps = check_eps(eps)
    ws = [np.array(w, np.float64, order="C") for w in weights]
    bs = [np.array(b, np.float64, order="C") for b in biases]
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    check_step(eps, [*ws, *bs])
    fs = objective.functions(len(ws))
    inputs = [x]  # inputs[l]: what layer l receives, unchanged by perturbing layer l or above
    for w, b, f in zip(ws, bs, fs):
        inputs.append(f(w @ inputs[-1] + b))
    nabla_b = [np.empty_like(b) for b in bs]
    nabla_w = [np.empty_like(w) for w in ws]
    for layer in range(len(ws)):
        for param, grad in ((bs[layer], nabla_b[layer]), (ws[layer], nabla_w[layer])):
            flat, out = param.reshape(-1), grad.reshape(-1)  # views: edits reach ws / bs
            for i in range(flat.size):
                original = flat[i]
                up, down = original + eps, original - eps
                flat[i] = up
                c_up = _value_from(layer, inputs[layer], ws, bs, y, objective, fs)
                flat[i] = down
                c_down = _value_from(layer, inputs[layer], ws, bs, y, objective, fs)
                flat[i] = original
                out[i] = (c_up - c_down) / (up - down)
                if on_parameters is not None and (i + 1) % _REPORT_EVERY == 0:
                    on_parameters(_REPORT_EVERY)
            if on_parameters is not None and flat.size % _REPORT_EVERY:
                on_parameters(flat.size % _REPORT_EVERY)
    return nabla_b, nabla_w


def relative_error(analytic: Gradient, numeric: Gradient, floor: float = 0.0) -> float:
    """max over every component of |a − n| / max(|a| + |n|, floor, tiny).

    0 means identical, 1 means opposite signs (or one side zero), inf a non-finite component on
    either side (nothing was shown). ``floor`` keeps components that are zero or tiny — a
    saturated neuron, a zero pixel — from turning rounding noise into a huge ratio: below it,
    the difference is judged against ``floor`` instead.
    """
    worst = 0.0
    for a, n in zip([*analytic[0], *analytic[1]], [*numeric[0], *numeric[1]], strict=True):
        a = np.asarray(a, np.float64)
        n = np.asarray(n, np.float64)
        if a.shape != n.shape:
            raise ValueError(f"gradient component of shape {a.shape}, expected {n.shape}")
        if not (np.isfinite(a).all() and np.isfinite(n).all()):  # NaN compares as no error: never a pass
            return float("inf")
        scale = np.maximum(np.abs(a) + np.abs(n), max(floor, np.finfo(np.float64).tiny))
        worst = max(worst, float(np.max(np.abs(a - n) / scale, initial=0.0)))
    return worst


def noise_floor(weights, biases, x: np.ndarray, y: np.ndarray, eps: float,
                objective: Objective = Objective()) -> float:
    """The ``floor`` for ``relative_error``: FLOOR_FACTOR × ε_mach·C / eps.

    A cost C is computed to about ε_mach·C, so a difference quotient with step 2·eps cannot
    resolve derivatives much below ε_mach·C/eps: measured, its rounding error is ~1.5
    ε_mach·C/eps (1e-11 to 7e-11 on [784, 30, 10] at eps = 1e-5). With the factor 1e8 that
    noise reads as ~1.5e-8, far below the 1e-6 pass mark, while a wrong component still shows:
    one above the floor (~4e-3 for C ≈ 2) as O(1), one below it as |error| / floor, so any
    error over ~1e-9·C in absolute terms fails the check.
    """
    return FLOOR_FACTOR * np.finfo(np.float64).eps * abs(cost(weights, biases, x, y, objective)) / eps


def check_gradient(gradient: GradientFn, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                   x: np.ndarray, y: np.ndarray, eps: float = 1e-5,
                   objective: Objective = Objective()) -> float:
    """Max relative error of ``gradient(x, y)`` against finite differences of the objective.

    ``gradient`` returns (nabla_b, nabla_w), the gradient of the objective over the columns
    of x (n_0, m) and y (n_L, m), for the parameters ``weights`` / ``biases``.
    """
    x, y = _columns(x, y, weights)
    numeric = numerical_gradient(weights, biases, x, y, eps, objective)
    analytic = gradient(x, y)
    return relative_error(analytic, numeric, noise_floor(weights, biases, x, y, eps, objective))


def objective_of(net, lmbda: float = 0.0, n: int | None = None, m: int = 1) -> Objective:
    """The objective of ``net`` (its cost and neurons) with L2 regularization λ over n
    training examples (default: the m examples checked)."""
    if not (np.isfinite(lmbda) and lmbda >= 0):
        raise ValueError(f"lmbda must be a finite number ≥ 0, got {lmbda!r}")
    return Objective(getattr(net, "cost_entry", QUADRATIC), getattr(net, "neurons", None), float(lmbda),
                     m if n is None else int(n))


def gradcheck(net, x, y, eps: float = 1e-5, *, gradient: str | GradientFn = "backprop", lmbda: float = 0.0,
              n: int | None = None) -> float:
    """Max relative error of one of ``net``'s gradients against finite differences.

    x is one example (n_0, 1) or a few as columns (n_0, m); y the matching one-hot or target
    columns (n_L, m), or an int label for one example. With ``lmbda`` > 0 the objective is
    regularized (over ``n`` training examples, default m). ``gradient`` picks what is checked:

    ``"backprop"``  ``net.backprop``, one column at a time, summed (plus the penalty's m(λ/n)w);
    ``"engine"``    the engine's whole-batch BP1–BP4 on all columns at once (likewise);
    ``"loop"``      the book's per-example ``matnet.core.loop.backprop`` (the oracle; likewise);
    ``"sgd"``       the gradient ``net``'s training backend applies (e.g. the fused numba
                    epoch), read back from one SGD step on copies of the parameters: the
                    update rule, its weight decay included;
    a callable      ``gradient(x, y) -> (nabla_b, nabla_w)``.

    ``net`` is left exactly as it was. Below about 1e-6 the gradient is right; a float64
    network typically shows 1e-8, a float32 one its own rounding, a few 1e-7.
    """
    x, y = _columns(x, y, net.weights)
    objective = objective_of(net, lmbda, n, x.shape[1])
    fn = gradient if callable(gradient) else gradient_function(net, gradient, objective)
    return check_gradient(fn, net.weights, net.biases, x, y, eps, objective)


def gradient_function(net, name: str, objective: Objective | None = None) -> GradientFn:
    """The (x, y) -> (nabla_b, nabla_w) function called ``name`` (see ``gradcheck``) for net."""
    objective = objective or objective_of(net)
    if name == "backprop":
        return lambda x, y: _regularized(net, objective, x, _sum_columns(net.backprop, x, y))
    if name == "engine":
        return lambda x, y: _regularized(net, objective, x, engine_gradient(net.weights, net.biases, x, y,
                                                                            objective=objective))
    if name == "loop":
        neurons = objective.neurons or (SIGMOID,) * len(net.weights)
        per_example = lambda xj, yj: loop.backprop(net.weights, net.biases, xj, yj, neurons, objective.cost)  # noqa: E731
        return lambda x, y: _regularized(net, objective, x, _sum_columns(per_example, x, y))
    if name == "sgd":
        return lambda x, y: sgd_gradient(net, x, y, objective)
    raise ValueError(f"gradient must be one of {GRADIENTS} or a callable, got {name!r}")


def _regularized(net, objective: Objective, x: np.ndarray, gradient: Gradient) -> Gradient:
    """``gradient`` of the summed cost plus the penalty's: m (λ/n) w for every weight."""
    if not objective.lmbda:
        return gradient
    scale = x.shape[1] * objective.lmbda / objective.n
    return gradient[0], [g + scale * np.asarray(w, np.float64) for g, w in zip(gradient[1], net.weights)]


def engine_gradient(weights, biases, x: np.ndarray, y: np.ndarray, kernels: str = "numpy",
                    objective: Objective = Objective()) -> Gradient:
    """The engine's gradient of the cost summed over the columns of x (n_0, m), y (n_L, m).

    One ``engine.forward`` and ``engine.backward`` on the m examples stacked as rows, as a
    mini-batch is inside an epoch (BP3 is then a row sum, BP4 one product).
    """
    dtype = np.asarray(weights[0]).dtype
    rows_x = np.ascontiguousarray(np.asarray(x).T, dtype=dtype)
    rows_y = np.ascontiguousarray(np.asarray(y).T, dtype=dtype)
    sizes = [rows_x.shape[1]] + [w.shape[0] for w in weights]
    ws = engine.Workspace(sizes, rows_x.shape[0], dtype)
    neurons = objective.neurons or (SIGMOID,) * len(weights)
    with np.errstate(over="ignore"):
        engine.forward(weights, biases, rows_x, ws, neurons, get_kernels(kernels))
        engine.backward(weights, rows_x, rows_y, ws, neurons, objective.cost, get_kernels(kernels))
    return [gb.reshape(-1, 1).copy() for gb in ws.grad_b], [gw.copy() for gw in ws.grad_w]


def sgd_gradient(net, x: np.ndarray, y: np.ndarray, objective: Objective | None = None) -> Gradient:
    """The gradient ``net``'s backend trains with, read back from one SGD step.

    A twin of ``net`` (same parameters, backend, dtype, neurons and cost: a chapter-3 network)
    takes one ``update_mini_batch`` of all m columns with η = 2^20 and the objective's λ and n,
    so w' = (1 − ηλ/n) w − (η/m) ∇ and the objective's gradient is (w − w') m/η. The large power
    of two keeps the read-back exact to about ε_mach·(|w| m/η + |∇|). ``net`` is not touched.
    """
    from matnet import network2

    objective = objective or objective_of(net)
    neurons = objective.neurons
    twin = network2.Network.from_parameters(
        net.weights, net.biases, backend=net.backend, dtype=net.dtype, check_finite=False,
        activation="sigmoid" if neurons is None else list(neurons), cost=network2.cost_class(objective.cost))
    before_w = [w.astype(np.float64) for w in twin.weights]
    before_b = [b.astype(np.float64) for b in twin.biases]
    m = x.shape[1]
    batch = [(x[:, j : j + 1], y[:, j : j + 1]) for j in range(m)]
    twin.update_mini_batch(batch, _SGD_ETA, objective.lmbda, objective.n)
    scale = m / _SGD_ETA
    return (
        [(b0 - b.astype(np.float64)) * scale for b0, b in zip(before_b, twin.biases)],
        [(w0 - w.astype(np.float64)) * scale for w0, w in zip(before_w, twin.weights)],
    )


def _sum_columns(fn: GradientFn, x: np.ndarray, y: np.ndarray) -> Gradient:
    """Σ_j fn(x_j, y_j) over the columns, each passed as an (n, 1) column."""
    total_b, total_w = None, None
    for j in range(x.shape[1]):
        nabla_b, nabla_w = fn(x[:, j : j + 1], y[:, j : j + 1])
        if total_b is None:
            total_b = [np.array(g, np.float64) for g in nabla_b]
            total_w = [np.array(g, np.float64) for g in nabla_w]
        else:
            total_b = [t + g for t, g in zip(total_b, nabla_b)]
            total_w = [t + g for t, g in zip(total_w, nabla_w)]
    return total_b, total_w


def _columns(x, y, weights) -> tuple[np.ndarray, np.ndarray]:
    """x as (n_0, m) and y as (n_L, m) float64 columns, checked; an int y is a label."""
    n_in, n_out = weights[0].shape[1], weights[-1].shape[0]
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[0] != n_in or x.shape[1] < 1:
        raise ValueError(f"x must be an ({n_in}, m) array of m ≥ 1 columns, got shape {x.shape}")
    if isinstance(y, (int, np.integer)) and not isinstance(y, bool):
        if not 0 <= y < n_out:
            raise ValueError(f"y label must be in [0, {n_out}), got {y}")
        y = np.eye(n_out)[:, [int(y)]]
    y = np.asarray(y, np.float64)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.shape != (n_out, x.shape[1]):
        raise ValueError(f"y must have shape ({n_out}, {x.shape[1]}) to match x, got {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    return x, y


# -------------------------------------------------------------------- checking a network


@dataclass(frozen=True)
class Report:
    """``check_network``'s findings: the errors of backprop and of the training backend's
    step, what was checked, and what each way of getting the gradient costs."""

    sizes: list[int]
    backend: str  # as asked, e.g. "auto (numba)"
    seed: int
    eps: float
    example: str  # which example, in words
    n_weights: int
    n_biases: int
    errors: dict[str, float]  # "backprop", "sgd"
    backprop_seconds: float  # one net.backprop call
    forward_seconds: float  # one net.feedforward call
    differences_seconds: float  # the whole finite-difference gradient

    @property
    def passed(self) -> bool:
        return max(self.errors.values()) < TOLERANCE


def check_network(sizes: Sequence[int], *, backend: str = "auto", seed: int = 0, eps: float = 1e-5,
                  on_parameters: Callable[[int], None] | None = None) -> Report:
    """Check backprop and the training backend's step of ``Network(sizes)`` (from ``seed``) on
    one example: a real MNIST training image when the network takes 784 inputs and the data is
    at hand (never downloaded here), else a random input. ``on_parameters(k)`` is told as the
    finite differences progress (a progress bar). Raises what ``Network`` raises for bad sizes."""
    from matnet.network import Network

    net = Network(sizes, backend=backend, seed=seed)
    x, y, described = _example(net.sizes, seed)
    started = time.perf_counter()
    numeric = numerical_gradient(net.weights, net.biases, x, y, eps, on_parameters=on_parameters)
    differences_seconds = time.perf_counter() - started
    floor = noise_floor(net.weights, net.biases, x, y, eps)
    errors = {"backprop": relative_error(net.backprop(x, y), numeric, floor),
              "sgd": relative_error(sgd_gradient(net, x, y), numeric, floor)}
    return Report(
        sizes=list(net.sizes), backend=f"auto ({net.computed_by})" if backend == "auto" else backend,
        seed=seed, eps=eps, example=described, n_weights=sum(w.size for w in net.weights),
        n_biases=sum(b.size for b in net.biases), errors=errors,
        backprop_seconds=_seconds_per_call(lambda: net.backprop(x, y)),
        forward_seconds=_seconds_per_call(lambda: net.feedforward(x)),
        differences_seconds=differences_seconds,
    )


def _example(sizes: Sequence[int], seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """A real MNIST training image when the net takes 784 inputs and the data is at hand
    (never downloaded here), else a random input; with a description of which."""
    n_in, n_out = sizes[0], sizes[-1]
    why = f"the network takes {n_in} inputs, not MNIST's 784"
    if n_in == 784 and n_out >= 10:
        from matnet import datasets
        from matnet.errors import MatnetError

        try:
            training = datasets.load_mnist(download=False).training
        except MatnetError as exc:
            why = f"no MNIST data ({exc})"
        else:
            i = seed % training.labels.size
            label = int(training.labels[i])
            x = np.array(training.images[i], np.float64).reshape(-1, 1)
            return x, np.eye(n_out)[:, [label]], f"MNIST training image {i} (digit {label})"
    rng = np.random.default_rng(seed)
    label = int(rng.integers(n_out))
    x = rng.random((n_in, 1))
    return x, np.eye(n_out)[:, [label]], f"a random input in [0, 1) with label {label}: {why}"


def _seconds_per_call(fn: Callable[[], object], budget: float = 0.2) -> float:
    """Median wall time of ``fn()`` over repeated calls filling about ``budget`` seconds."""
    fn()  # warm-up (numba compiles on first call)
    times: list[float] = []
    spent = 0.0
    while spent < budget and len(times) < 1000:
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        spent += times[-1]
    return float(np.median(times))

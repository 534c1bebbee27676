"""The drop-in ``Network``: the book's ``network.py`` (chapters 1–2) on top of matnet's engines.

Swap one import and the book's shell session runs unchanged, only faster::

    import matnet.mnist_loader as mnist_loader
    import matnet.network as network
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network.Network([784, 30, 10])
    net.SGD(training_data, 30, 10, 3.0, test_data=test_data)

Book mode (the default) uses random numbers exactly as the book does: initial biases, then
weights, from ``np.random.randn``, and one ``random.shuffle`` of the training list per
epoch — so after ``np.random.seed(s); random.seed(s)`` matnet follows the book's trajectory.
``Network(sizes, rng=BookRandom(s))`` draws those same numbers from a state of its own, as
``matnet sweep`` runs do. ``Network(sizes, seed=s)`` (or ``rng=`` a Generator) is the
non-book mode: an isolated ``np.random.Generator`` draws the parameters and the shuffles,
touching no global state. What the two chapters share — parameters, data formats, the
divergence checks, ``feedforward``, ``backprop``, ``save`` — is ``matnet.model.Model``.
"""

from __future__ import annotations

from collections.abc import Callable

from matnet.core import inputs, validation
from matnet.core.maths import UpdateRule, sigmoid, sigmoid_prime
from matnet.core.shuffle import BookRandom
from matnet.model import EpochReport, Model, say_compiling

__all__ = ["BookRandom", "EpochReport", "Network", "sigmoid", "sigmoid_prime"]


class Network(Model):
    """A feedforward sigmoid network trained by mini-batch SGD on the quadratic cost.

    ``sizes`` lists the neurons per layer, e.g. [784, 30, 10]. ``weights[l]`` is an
    (sizes[l+1], sizes[l]) array and ``biases[l]`` an (sizes[l+1], 1) column, as in the book.

    Non-book keywords: ``backend`` ("auto", "numba", "numpy", "loop"), ``dtype``
    (float64, the default, or float32), ``seed``/``rng`` (isolated random state),
    ``check_finite`` (stop with DivergenceError when training produces non-finite numbers,
    and refuse non-finite outputs; False gives the book's silent behaviour), ``activation``
    (the neurons: "sigmoid", the book's, "linear", a pair (f, f_prime) of your functions, or
    a list of those, one per layer of weights; see ``matnet.core.activations``).
    """

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        test_data=None,
        *,
        verbose: bool = True,
        on_epoch: Callable[[EpochReport], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Train by mini-batch stochastic gradient descent, printing the book's epoch lines.

        ``training_data``: the book's list of (x, y) pairs (x (n_0, 1), y one-hot (n_L, 1)),
        any iterable of them (e.g. a zip), or a tuple of arrays (X, Y) with X of shape
        (n, n_0) — one example per row, like the book's ``load_data`` — and Y int labels (n,)
        or one-hot targets (n, n_L). ``test_data`` likewise, with labels; an empty list or
        tuple is no test data, as in the book. A list is shuffled in place each epoch, as the
        book's is. A mini-batch larger than the data is all of it. ``verbose=False`` silences
        the printed lines; ``on_epoch`` receives an EpochReport after each epoch;
        ``on_progress(done, total)`` is called as mini-batches complete (the epoch then runs
        in slices).

        The data are read once, when SGD is called. A callback may read the training list
        but not add, remove or replace its pairs (SGD shuffles that list when it returns):
        if one does, SGD stops after that epoch with a TrainingDataChangedError
        (``matnet.errors``), the list left as the callback left it, nothing lost.
        """
        epochs = validation.check_int("epochs", epochs, 0)
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        eta = validation.check_eta(eta)
        self._parameters()
        data = inputs.training_examples(training_data, self.sizes, self.dtype)
        test = None
        if test_data is not None and not (isinstance(test_data, (list, tuple)) and not test_data):
            test = inputs.labelled_examples(test_data, self.sizes, "test_data")
        self.prepare(min(mini_batch_size, data.n), announce=say_compiling if verbose else None)
        train_inputs = self._prepared(data, "training_data inputs")
        test_inputs = None if test is None else self._prepared(test, "test_data inputs")

        def after_epoch(j: int, seconds: float) -> None:
            correct = None if test is None else self._count_correct(test_inputs, test)
            if verbose:
                print(f"Epoch {j}: {correct} / {test.n}" if test is not None else f"Epoch {j} complete")
            if on_epoch is not None:
                on_epoch(EpochReport(j, correct, 0 if test is None else test.n, seconds))

        self._train(data, train_inputs, epochs, mini_batch_size, UpdateRule(eta), after_epoch, on_progress)

    def update_mini_batch(self, mini_batch, eta) -> None:
        """One gradient-descent step on the list of (x, y) pairs ``mini_batch``: exactly the step
        ``SGD`` takes on that batch (the same backend, the same arithmetic)."""
        self._step(mini_batch, UpdateRule(validation.check_eta(eta)))

    def evaluate(self, test_data) -> int:
        """How many test inputs the network classifies correctly (highest output neuron); of
        no inputs (an empty list), none, as in the book."""
        self._parameters()
        if isinstance(test_data, (list, tuple)) and not test_data:
            return 0
        test = inputs.labelled_examples(test_data, self.sizes, "test_data")
        return self._count_correct(self._prepared(test, "test_data inputs"), test)

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: the vector of partial derivatives (a − y)."""
        return output_activations - y

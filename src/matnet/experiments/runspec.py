"""What decides a run's numbers (:class:`RunSpec`), apart from the code that runs it.

A module of its own, light to import (no network, no data): the command line's parsers and
the records' checks read it without loading what training needs (``matnet.experiments.runs``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

COST_NAMES = {"cross-entropy": "CrossEntropyCost", "quadratic": "QuadraticCost"}  # network2's classes
MONITORS = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")  # network2's
CHAPTER_3 = ("lmbda", "cost", "weights", "training_size", "evaluation", "monitor")  # RunSpec's fields


@dataclass(frozen=True)
class RunSpec:
    """The parameters that decide a run's numbers (and nothing else). With ``lmbda`` None, the
    book's chapter-1 session; with ``lmbda`` set (0 included), chapter 3's network2 session
    with that L2 regularization, its ``cost``, its initial ``weights`` ("default", N(0, 1/n_in),
    or "large", N(0, 1)), the first ``training_size`` training images, the ``evaluation`` data
    ("test" or "validation") and what it monitors (``MONITORS``; the evaluation accuracy is
    always among them: it is the run's accuracies)."""

    sizes: tuple[int, ...]
    eta: float
    seed: int
    epochs: int = 30
    batch_size: int = 10
    dtype: str = "float64"
    backend: str = "auto"
    lmbda: float | None = None
    cost: str = "cross-entropy"
    weights: str = "default"
    training_size: int = 50_000
    evaluation: str = "test"
    monitor: tuple[str, ...] = ("evaluation_accuracy",)

    @property
    def chapter(self) -> int:
        return 1 if self.lmbda is None else 3

    def parameters(self) -> dict:
        """As stored in the record: JSON types, so that a record read back gives the same key
        (a chapter-1 run's, without the chapter-3 fields: as records have always been)."""
        values = asdict(self)
        values["sizes"] = list(self.sizes)
        values["eta"] = float(self.eta)
        if self.lmbda is None:
            for name in CHAPTER_3:
                del values[name]
        else:
            values["lmbda"] = float(self.lmbda)
            values["monitor"] = list(self.monitor)
        return values

    @classmethod
    def from_parameters(cls, values: dict) -> RunSpec:
        fields = {**values, "sizes": tuple(values["sizes"])}
        if "monitor" in fields:
            fields["monitor"] = tuple(fields["monitor"])
        return cls(**fields)

    def key(self) -> tuple:
        """What identifies the run in a sweep's file (``--resume`` skips a run whose key is there)."""
        return tuple(sorted((name, tuple(v) if isinstance(v, list) else v)
                            for name, v in self.parameters().items()))

    def cell(self) -> tuple:
        """The key without the seed: runs of one cell of the grid differ only by it."""
        return tuple(item for item in self.key() if item[0] != "seed")

    def command(self) -> str:
        """What repeats this run alone, to the same digits: a ``matnet train`` command (chapter
        1), or the chapter-3 session in Python."""
        if self.lmbda is None:
            return (f"matnet train --sizes {','.join(map(str, self.sizes))} --eta {self.eta:g} "
                    f"--seed {self.seed} --epochs {self.epochs} --batch-size {self.batch_size} "
                    f"--dtype {self.dtype} --backend {self.backend}")
        monitors = ", ".join(f"monitor_{name}=True" for name in self.monitor)
        return (f"network2.Network({list(self.sizes)}, cost={COST_NAMES[self.cost]}, "
                f"rng=BookRandom({self.seed}), dtype={self.dtype}, backend={self.backend!r})"
                f"{'.large_weight_initializer()' if self.weights == 'large' else ''}, then "
                f"SGD(training_data[:{self.training_size}], {self.epochs}, {self.batch_size}, {self.eta:g}, "
                f"lmbda={self.lmbda:g}, evaluation_data={self.evaluation}_data, {monitors})")

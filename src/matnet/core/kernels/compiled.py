"""The maths table's elementwise formulas, compiled for the kernels that inline them.

``matnet.core.maths`` writes each formula once, as arithmetic that works on scalars. Here numba
compiles those very functions (``inline="always"``: they become part of the kernel that calls
them), so the numba registry and the fused path compute what the NumPy engine and the oracle
compute. A kernel passes ``one``, 1 in its arrays' dtype, where a formula has a constant.

The compiled path selects a cost by the table's name: ``OUTPUT_ERRORS`` maps each cost it has
compiled to the code its kernels branch on (a branch per output neuron, always predicted).
"""

from __future__ import annotations

from matnet.core import maths
from matnet.core.kernels.jit import cached_njit

sigmoid_prime_from_output = cached_njit(inline="always")(maths.sigmoid_prime_from_output)
quadratic_delta = cached_njit(inline="always")(maths.quadratic_delta)
cross_entropy_delta = cached_njit(inline="always")(maths.cross_entropy_delta)
stepped = cached_njit(inline="always")(maths.stepped)
updated = cached_njit(inline="always")(maths.updated)

OUTPUT_ERRORS = {maths.QUADRATIC.name: 0, maths.CROSS_ENTROPY.name: 1}
_CROSS_ENTROPY = OUTPUT_ERRORS[maths.CROSS_ENTROPY.name]  # a global: a constant in compiled code


def cost_code(cost: maths.Cost) -> int:
    """The code of ``cost``'s compiled output error; ValueError for a cost not compiled here."""
    try:
        return OUTPUT_ERRORS[cost.name]
    except KeyError:
        raise ValueError(f"the compiled path has no output error for the {cost.name!r} cost: "
                         f"it has {', '.join(OUTPUT_ERRORS)}") from None


@cached_njit(inline="always")
def output_error(cost, a, y, one):
    """BP1 for one sigmoid output neuron with activation a and desired output y: the delta of
    the cost whose code is ``cost`` (``OUTPUT_ERRORS``)."""
    prime = sigmoid_prime_from_output(a, one)
    if cost == _CROSS_ENTROPY:
        return cross_entropy_delta(a, y, prime)
    return quadratic_delta(a, y, prime)

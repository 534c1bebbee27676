"""The engine room: pure computation on arrays, below the drop-in networks. Imports nothing
from ``matnet.data``: the loader hands it arrays (and ``pairs.PairList`` s that know theirs).

``maths`` is the one table of the maths (activations, costs, the update rule) every path
reads; ``backend`` the one contract every way of computing implements, and how one is chosen:
``engine`` (chapter 2's whole-batch BP1–BP4), ``fused*`` (the compiled epoch) and ``loop``
(the book's per-example algorithm, the oracle). ``inputs`` and ``pairs`` turn the book's
data formats into rows of matrices, ``validation`` checks scalar arguments, ``shuffle``
replays ``random.shuffle``, ``kernels`` holds the elementwise kernels and how matnet compiles.
"""

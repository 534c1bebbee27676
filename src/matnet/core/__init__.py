"""The engine room: pure computation on arrays, below the drop-in ``matnet.network``.

``engine`` is chapter 2's whole-batch backpropagation (BP1–BP4 by name), ``fused`` the
compiled epoch, ``loop`` the book's per-example algorithm (the oracle, sharing no code with
the others), ``kernels`` the elementwise kernels, ``backends`` the interchangeable ways of
running an epoch, ``validation`` the checks on what users hand in, ``shuffle`` the exact
replay of ``random.shuffle``.
"""

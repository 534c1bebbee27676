"""``random.shuffle``'s exact permutation, drawn in compiled code from ``random``'s own state.

The book shuffles its training list with ``random.shuffle`` every epoch. matnet must draw
the same permutation (so seeded runs follow the book's trajectory) and leave ``random`` in
the same state afterwards. Python's loop costs ~11 ms per 50,000-item epoch — 5% of a fused
epoch — so this module replays CPython's algorithm (Mersenne Twister MT19937 words,
``getrandbits(k)`` = top k bits of a word, ``_randbelow`` by rejection, Fisher–Yates from the
end) on the state from ``random.getstate()`` and writes the advanced state back.

The first use in a process checks itself against ``random.shuffle``; on an interpreter
whose algorithm differs, or where numba cannot compile the replay (not installed, broken, or
NUMBA_DISABLE_JIT=1: interpreted, the replay is ~20x slower than ``random.shuffle``), it uses
``random.shuffle`` itself for good.
"""

from __future__ import annotations

import random

import numpy as np

_N = 624
_M = 397
_UPPER = np.uint64(0x80000000)
_LOWER = np.uint64(0x7FFFFFFF)
_MATRIX = np.uint64(0x9908B0DF)
_WORD = np.uint64(0xFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)


def _next_word(mt, pos):
    """The next tempered 32-bit output of the MT19937 state ``mt`` (624 words in uint64).

    Every constant is a uint64, so the arithmetic stays unsigned 64-bit whether this runs
    compiled or as plain Python (NumPy 1.x refuses to mix uint64 with Python ints).
    """
    if pos[0] >= _N:
        for kk in range(_N):
            y = (mt[kk] & _UPPER) | (mt[(kk + 1) % _N] & _LOWER)
            mt[kk] = mt[(kk + _M) % _N] ^ (y >> _ONE) ^ (_MATRIX if y & _ONE else _ZERO)
        pos[0] = 0
    y = mt[pos[0]]
    pos[0] += 1
    y ^= y >> np.uint64(11)
    y ^= (y << np.uint64(7)) & np.uint64(0x9D2C5680)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    y ^= y >> np.uint64(18)
    return y & _WORD


def _shuffled_indices(n, mt, pos):
    """The permutation p (new[i] = old[p[i]]) that random.shuffle applies to a list of n."""
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):
        bound = i + 1
        bits = 0
        while (1 << bits) <= bound:  # bound.bit_length()
            bits += 1
        r = int(_next_word(mt, pos) >> np.uint64(32 - bits))
        while r >= bound:
            r = int(_next_word(mt, pos) >> np.uint64(32 - bits))
        perm[i], perm[r] = perm[r], perm[i]
    return perm


_compiled = None


def _kernel():
    """The compiled replay (numba imported on first use); the plain functions without numba."""
    global _compiled, _next_word
    if _compiled is None:
        from matnet.core.kernels import numba_importable

        if numba_importable():
            from matnet.core.kernels.jit import cached_njit, recompiles

            _next_word = cached_njit(_next_word)  # the compiled replay calls the compiled word
            _compiled = recompiles(cached_njit(_shuffled_indices))
        else:
            _compiled = _shuffled_indices
    return _compiled


def _compiled_permutation(n: int, source=random) -> np.ndarray:
    version, internal, gauss = source.getstate()
    mt = np.array(internal[:_N], dtype=np.uint64)
    pos = np.array([internal[_N]], dtype=np.int64)
    perm = _kernel()(n, mt, pos)
    source.setstate((version, (*(int(w) for w in mt), int(pos[0])), gauss))
    return perm


def _python_permutation(n: int, source=random) -> np.ndarray:
    perm = list(range(n))
    source.shuffle(perm)
    return np.array(perm, dtype=np.int64)


_verified: bool | None = None


def _compiled_path_is_exact() -> bool:
    """Whether the compiled replay equals random.shuffle here (checked once, state restored)."""
    state = random.getstate()
    try:
        random.seed(12345)
        for n in (2, 3, 17, 1000):
            before = random.getstate()
            fast = _compiled_permutation(n)
            after_fast = random.getstate()
            random.setstate(before)
            if not np.array_equal(fast, _python_permutation(n)) or random.getstate() != after_fast:
                return False
        return True
    finally:
        random.setstate(state)


def _compiles() -> bool:
    """Whether numba is importable here and compiles (the replay only pays off compiled)."""
    from matnet.core.kernels import jit_enabled

    try:
        return jit_enabled()
    except ImportError:  # installed but broken, e.g. built for another NumPy
        return False


def book_permutation(n: int, source: random.Random | None = None) -> np.ndarray:
    """The (n,) int64 permutation ``source.shuffle`` would apply to an n-item list now,
    advancing ``source``'s state exactly as that call would (default: ``random``'s global state)."""
    global _verified
    if _verified is None:
        _verified = _compiles() and _compiled_path_is_exact()
    source = random if source is None else source
    return _compiled_permutation(n, source) if _verified else _python_permutation(n, source)


class BookRandom:
    """Book mode's random numbers in a state of their own: the parameters from
    ``np.random.RandomState(seed).randn``, the shuffles from ``random.Random(seed)``.

    These are the very numbers that ``np.random.seed(seed); random.seed(seed)`` give the
    book's session, but no other code of the process can draw from them in between (a Dask
    worker's own threads use ``random``), and they leave the global state alone.
    """

    def __init__(self, seed: int):
        self.seed = seed
        self.numpy = np.random.RandomState(seed)
        self.python = random.Random(seed)

    def __repr__(self) -> str:
        return f"BookRandom({self.seed})"

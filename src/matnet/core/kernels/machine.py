"""Machine-level helpers the compiled kernels need and numba does not offer.

- ``aligned_zeros(shape, dtype)``: buffers that start on a cache line.
- ``local_array(n, dtype)``: scratch memory on the stack, which LLVM can keep in registers.
- ``prefetch(a, i)``: ask the CPU to start loading ``a[i]`` now, for data needed soon at an
  address no hardware prefetcher can guess (the next example's pixels, in shuffled order).
- ``float64_from_bits(b)``: the float64 whose bit pattern is the int64 ``b`` (2^n built from
  its exponent bits, for the vectorizable exp in ``matnet.core.kernels.vector_sigmoid``).
- ``prefer_wide_vectors()``: let LLVM use 512-bit vectors in the calling kernel.

Each is a plain Python function — what runs under NUMBA_DISABLE_JIT=1 — with a compiled
implementation registered for nopython mode.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import carray, types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def aligned_zeros(shape, dtype, align: int = 64) -> np.ndarray:
    """np.zeros whose data starts on an ``align``-byte boundary (a cache line).

    NumPy only promises 16 bytes, and a 32-byte vector load or store that straddles two
    cache lines costs about twice as much: misaligned, the first layer's
    read-modify-write sweeps ran ~1.7x slower (measured).
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    raw = np.zeros(size * dtype.itemsize + align, np.uint8)
    skip = -raw.ctypes.data % align
    return raw[skip : skip + size * dtype.itemsize].view(dtype).reshape(shape)


def local_array(n: int, dtype) -> np.ndarray:
    """A scratch array of ``n`` elements. Compiled, it lives on the stack of the calling
    function, so LLVM can keep it in registers when ``n`` is a constant and every index is
    constant after unrolling; as plain Python it is ``np.empty``."""
    return np.empty(n, dtype)


def prefetch(a: np.ndarray, i: int) -> None:
    """Hint that ``a[i]`` (1-D, 0 ≤ i < a.size) will be read soon; no effect on results."""


def prefer_wide_vectors() -> None:
    """Let LLVM vectorize the calling compiled function with 512-bit vectors where the CPU has
    them (AVX-512). LLVM's default for recent Intel CPUs is 256 bits, to spare other code the
    lower clock of wide instructions; the fused kernels, sweeps of 32-lane blocks, ran ~25%
    faster with 512 (measured on an AVX-512 Xeon). Without AVX-512 it changes nothing."""


def float64_from_bits(bits: int) -> float:
    """The float64 with the IEEE bit pattern ``bits`` (an int64)."""
    return float(np.array(bits, np.int64).view(np.float64))


@intrinsic
def _stack_pointer(typingctx, n, dtype):
    scalar = dtype.dtype

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(scalar), size=args[0])

    return types.CPointer(scalar)(types.intp, dtype), codegen


@overload(local_array, inline="always")  # inlined, so the memory is the caller's stack frame
def _local_array(n, dtype):
    def impl(n, dtype):
        return carray(_stack_pointer(n, dtype), n)

    return impl


@intrinsic
def _prefetch(typingctx, a, i):
    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, signature.args[0], array, [args[1]],
                                           wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer],
            fnty=ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]),
        )
        # read, keep in all cache levels, data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), int32(0), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(a, i), codegen


@overload(prefetch, inline="always")
def _prefetch_overload(a, i):
    def impl(a, i):
        _prefetch(a, i)

    return impl


@intrinsic
def _bitcast_float64(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(float64_from_bits, inline="always")
def _float64_from_bits(bits):
    def impl(bits):
        return _bitcast_float64(bits)

    return impl


@intrinsic
def _prefer_wide_vectors(typingctx):
    def codegen(context, builder, signature, args):
        # llvmlite only writes the attribute names it knows; this one is LLVM's own string
        # attribute, read per function by the vectorizers.
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@overload(prefer_wide_vectors, inline="always")  # inlined: the attribute goes on the caller
def _prefer_wide_vectors_overload():
    def impl():
        _prefer_wide_vectors()

    return impl

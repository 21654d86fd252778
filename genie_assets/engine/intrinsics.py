"""LLVM intrinsics that numba does not expose: a software prefetch, a population count and the
position of a word's lowest set bit."""

from __future__ import annotations

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM 15 made pointers opaque, which renamed the intrinsic's overload.
_PREFETCH = "llvm.prefetch.p0" if binding.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


def _prefetch_codegen(context, builder, signature, arguments):
    array_type = signature.args[0]
    data = context.make_array(array_type)(context, builder, arguments[0])
    indices = [context.cast(builder, value, value_type, types.intp)
               for value, value_type in zip(arguments[1:], signature.args[1:])]
    pointer = cgutils.get_item_pointer(context, builder, array_type, data, indices,
                                       wraparound=False)
    byte_pointer = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), _PREFETCH)
    # Arguments: address, read (0), high temporal locality (3), data cache (1).
    builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, array, row, column):
    """Ask the CPU to bring array[row, column] into cache; it changes no result.

    Used one regulator ahead: the next candidate's ranks are on their way while the current
    one is scanned, which hides the cache misses of a rank matrix larger than the caches.
    """
    if not (isinstance(array, types.Array) and array.ndim == 2):
        return None
    return types.void(array, row, column), _prefetch_codegen


@intrinsic
def prefetch_item(typingctx, array, index):
    """prefetch for a one-dimensional array: bring array[index] into cache."""
    if not (isinstance(array, types.Array) and array.ndim == 1):
        return None
    return types.void(array, index), _prefetch_codegen


@intrinsic
def popcount(typingctx, word):
    """How many bits of a uint64 are set (LLVM's llvm.ctpop: one instruction)."""
    if word != types.uint64:
        return None
    signature = types.uint64(word)

    def codegen(context, builder, signature, arguments):
        count = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(count, [arguments[0]])

    return signature, codegen


@intrinsic
def lowest_bit(typingctx, word):
    """The position of the lowest set bit of a non-zero uint64 (llvm.cttz: one tzcnt on
    x86-64-v3). Zero has none: the result is undefined there, so callers test first."""
    if word != types.uint64:
        return None
    signature = types.uint64(word)

    def codegen(context, builder, signature, arguments):
        # llvmlite adds cttz's second argument (zero gives poison) only when given two types;
        # declared with one, the call does not parse and LLVM crashes the process.
        count = builder.module.declare_intrinsic("llvm.cttz", [ir.IntType(64), ir.IntType(1)])
        return builder.call(count, [arguments[0], ir.IntType(1)(1)])

    return signature, codegen

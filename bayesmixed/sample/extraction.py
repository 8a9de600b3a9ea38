"""Straight-line extraction of a compiled model's shared data: numba types it in milliseconds.

nutpie's numba callbacks read every shared data array (the data swapped by ``with_data``) from
a record of pointers, sizes and shapes. nutpie writes that reading as a ``literal_unroll``
loop over the arrays, with an ``@overload`` per array and a tuple rebuilt at every step;
numba types such a loop once per element with partial type inference over the whole body, so
the cost grows with the number of arrays. A model whose data are all swappable (the *input
form* that K-fold, simulation studies, power analysis and SBC reuse: a dozen arrays) spent
about 20 of its 40 s of compilation there (cProfile: ``LiteralUnroll.run_pass``).

:func:`make_extraction_fn` builds the same function as straight-line source, one statement per
array: the same pointer, size and shape reads and ``carray(...).reshape(...)`` views, put into
a tuple of the type nutpie's version builds (read-only arrays: the inner function is compiled
for the same signature, so PyTensor's kernel cache holds the same entries), then the same call
of the inner function. The arithmetic of the log density and its gradient is untouched, so the
draws of a seed are the same as with nutpie's version.
:func:`install` puts it in place of nutpie's (for the nutpie versions whose function it
replaces, checked by signature).
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["extraction_source", "install", "make_extraction_fn"]

#: nutpie's function replaced, by its parameters (a changed signature leaves nutpie's own)
_SIGNATURE = ["inner", "shared_data", "shared_var_keys", "record_dtype"]


def extraction_source(keys: list[str], ranks: list[int]) -> str:
    """The source of the extraction function for arrays ``keys`` of ranks ``ranks``.

    ``shared`` is a tuple of the arrays at compilation, a global: its type (read-only arrays,
    as numba types global arrays) is the type of the tuple handed to ``inner``, as in nutpie's
    version, so ``inner`` is compiled for the same signature; each array read from the record
    takes its place (:func:`_tuple_setitem`).

    Examples
    --------
    >>> print(extraction_source(["shared_X", "shared_y"], [2, 0]))
    def extract_shared(x, user_data_):
        record = numba.carray(user_data_, (), record_dtype)['shared']
        arrays = shared
        ptr0 = address_as_void_pointer(record['data']['shared_X'][()])
        flat0 = numba.carray(ptr0, int(record['size']['shared_X'][()]), dtype0)
        shape0 = record['shape']['shared_X']
        arrays = tuple_setitem(arrays, 0, flat0.reshape((int(shape0[0]), int(shape0[1]),)))
        ptr1 = address_as_void_pointer(record['data']['shared_y'][()])
        flat1 = numba.carray(ptr1, int(record['size']['shared_y'][()]), dtype1)
        arrays = tuple_setitem(arrays, 1, flat1.reshape(()))
        return inner(x, *arrays)
    """
    lines = ["def extract_shared(x, user_data_):",
             "    record = numba.carray(user_data_, (), record_dtype)['shared']",
             "    arrays = shared"]
    for i, (key, ndim) in enumerate(zip(keys, ranks, strict=True)):
        lines += [
            f"    ptr{i} = address_as_void_pointer(record['data'][{key!r}][()])",
            f"    flat{i} = numba.carray(ptr{i}, int(record['size'][{key!r}][()]), dtype{i})",
        ]
        if ndim:
            shape = ", ".join(f"int(shape{i}[{j}])" for j in range(ndim))
            lines += [f"    shape{i} = record['shape'][{key!r}]",
                      f"    arrays = tuple_setitem(arrays, {i}, flat{i}.reshape(({shape},)))"]
        else:
            lines.append(f"    arrays = tuple_setitem(arrays, {i}, flat{i}.reshape(()))")
    lines.append("    return inner(x, *arrays)")
    return "\n".join(lines)


def _tuple_setitem():
    """nutpie's intrinsic: the tuple with item ``idx`` (a literal) replaced by ``val``, the
    tuple keeping its type (the item is stored bit for bit: an array's struct)."""
    import llvmlite
    import numba
    from numba.core.extending import intrinsic
    from numba.cpython.unsafe.tuple import alloca_once

    @intrinsic
    def tuple_setitem(typingctx, tup, idx, val):
        if not isinstance(idx, numba.types.IntegerLiteral):
            return None
        idx_val = idx.literal_value

        def codegen(context, builder, signature, args):
            tup_, idx_, val_ = args
            stack = alloca_once(builder, tup_.type)
            builder.store(tup_, stack)
            offptr = builder.gep(stack, [idx_.type(0), llvmlite.ir.IntType(32)(idx_val)],
                                 inbounds=True)
            builder.store(val_, offptr)
            return builder.load(stack)

        return tup(tup, idx, tup[idx_val]), codegen

    return tuple_setitem


def make_extraction_fn(inner, shared_data: dict, shared_var_keys, record_dtype: np.dtype):
    """``extract(x, user_data_) -> inner(x, *shared arrays)`` as an inlined numba function
    (the signature of nutpie's ``make_extraction_fn``).

    Parameters
    ----------
    inner
        The numba-compiled log density (or expansion) taking the point and the shared arrays.
    shared_data
        The current arrays by record key (for their rank and dtype).
    shared_var_keys
        The record keys of the arrays ``inner`` takes, in its order.
    record_dtype
        The dtype of nutpie's user-data record.

    Returns
    -------
    numba dispatcher
        Inlined into nutpie's C callbacks.

    Examples
    --------
    >>> import numba
    >>> @numba.njit
    ... def inner(x, a):
    ...     return x.sum() + a.sum()
    >>> extract = make_extraction_fn(inner, {"k": np.ones((2, 3))}, ["k"], np.dtype([]))
    >>> extract.py_func.__name__
    'extract_shared'
    """
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    keys = list(shared_var_keys)
    if not keys:

        @numba.njit(inline="always")
        def extract_shared(x, user_data_):
            return inner(x)

        return extract_shared

    namespace = {"__name__": __name__, "numba": numba, "inner": inner,
                 "record_dtype": record_dtype, "address_as_void_pointer": address_as_void_pointer,
                 "tuple_setitem": _tuple_setitem(),
                 "shared": tuple(shared_data[k] for k in keys)}
    namespace.update({f"dtype{i}": np.dtype(shared_data[k].dtype) for i, k in enumerate(keys)})
    source = extraction_source(keys, [len(shared_data[k].shape) for k in keys])
    exec(compile(source, f"<bayesmixed extraction of {len(keys)} arrays>", "exec"), namespace)
    return numba.njit(inline="always")(namespace["extract_shared"])


def install() -> bool:
    """Use :func:`make_extraction_fn` in nutpie's numba backend; whether it was installed.

    Examples
    --------
    >>> install()
    True
    """
    from nutpie import compile_pymc

    current = getattr(compile_pymc, "make_extraction_fn", None)
    if current is make_extraction_fn:
        return True
    if current is None or list(inspect.signature(current).parameters) != _SIGNATURE:
        return False
    compile_pymc.make_extraction_fn = make_extraction_fn
    return True

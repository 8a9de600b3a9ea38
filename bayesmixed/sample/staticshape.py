"""One compiled model per model *shape*: refits with new data swap the data in.

A one-off fit compiles its model with the data frozen in as constants
(:mod:`bayesmixed.sample.backends`: the fastest gradient), except the scales of the
coefficients' data-scaled priors (``b__prior_sigma``: :func:`~bayesmixed.names.prior_data`),
which stay inputs: frozen, PyTensor folds them into constants and the gradient of ``b`` then
differs from the input form's in the last bit at a few percent of the points. A loop that fits
new data sets of one structure (a notebook, a simulation outside ``reuse_compiled()``)
compiled every fit afresh, and compiled code is never freed: the process grew by about 12 MiB per fit
(``python -m benchmarks.leak``). Here, per *shape* (:func:`shape_key`: the graph with its data
abstracted, the array shapes and the number of levels):

- the first fit of a shape compiles the frozen form, as before; it is remembered with its data;
- the second fit of the shape compiles, once, the *input form*: every data array (and the prior
  data) an input, swapped with nutpie's ``with_data`` as inside ``reuse_compiled()``. Before it
  is trusted, the input form with the first fit's data swapped in is compared with the first
  fit's frozen form (:func:`identical`: initial points, and log density, gradient and
  expanded draw at the initial point and 32 random points, bit for bit). Equal: this and
  later fits of the shape swap their data into it (no compilation). Not equal (the forms may
  round differently in the last bits): the shape stays frozen, compiled per data set as before;
- later fits only swap their data in.

The check is made at a few points, not proved for every point; where it holds, a fit's draws
for a seed are those of the frozen form, whether or not its shape was fitted before.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bayesmixed.names import prior_data

#: public: the cache key and clearing; compiled_for / data_of / swap_data / identical serve
#: bayesmixed.sample.backends only
__all__ = ["clear", "graph_digest", "shape_key"]

#: meta entries that are data (held in pm.Data, swapped) or not part of the graph
DATA_META = ("n_obs", "x_means", "offset_mean", "n_rows_original", "n_cells")
#: random points (besides the initial point) at which the two forms must agree
CHECK_POINTS = 32
_CACHE_SIZE = 16


@dataclass
class _Shape:
    """What is known of a model shape: its first fit's frozen form and data, and the verdict."""

    frozen: object
    data: dict[str, np.ndarray]
    verdict: str = "seen"  # "seen" once, "input" (verified input form), "frozen" (check failed)


_SHAPES: OrderedDict[str, _Shape] = OrderedDict()


def clear() -> None:
    """Forget every shape (with :func:`~bayesmixed.sample.backends.clear_cache`).

    Examples
    --------
    >>> clear()
    """
    _SHAPES.clear()


def _held_priors(model) -> set[str]:
    """Variables whose vectorized prior parameters are data (:func:`prior_data`)."""
    names = {v.name for v in model.data_vars}
    return {rv.name for rv in model.free_RVs
            if any(n.startswith(prior_data(rv.name, "")) for n in names)}


def shape_key(built) -> str:
    """The compiled-model cache key of ``built``: its structure, not its data's values.

    The model's description (formula, family, parameterization, blocks, priors) without what is
    data, a digest of the graph (:func:`graph_digest`: operations and constants, data by name
    and type), the shapes of the data arrays, the number of levels of each coordinate and the
    dimensions of each variable. Priors held as data (the coefficients') enter by distribution
    only.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> a = bm.simulate("y ~ x + (1 | g)", n_groups=5, n_per_group=4, seed=1)
    >>> b = bm.simulate("y ~ x + (1 | g)", n_groups=5, n_per_group=4, seed=2)
    >>> ka, kb = (shape_key(bm.prepare("y ~ x + (1 | g)", d, "gaussian")) for d in (a, b))
    >>> len(ka)
    64
    """
    model = built.model
    meta = built.meta()
    for name in DATA_META:
        meta.pop(name, None)
    # the graph depends on which factors are centered or partially centered (and on the
    # position of a pivot level), not on the rule's statistic nor the weights (data, w__L)
    meta["parameterization"] = {
        f: [c["centered"], c.get("marginal", False), c.get("partial", False),
            c.get("integrated_into")]
        for f, c in meta["parameterization"].items()
    }
    meta["pivot"] = list(built.pivot) if getattr(built, "pivot", None) else None
    if "b" in _held_priors(model):
        coefs = {str(c) for c in model.coords.get("coef", ())}
        meta["priors"] = {k: (v.split("(")[0] if k in coefs else v)
                          for k, v in meta["priors"].items()}
    shapes = {v.name: list(v.get_value().shape) for v in model.data_vars}
    # coordinate labels (level names) are not part of the graph: only their number is; a
    # cache hit relabels the draws (backends._relabel)
    coords = {k: len(v) for k, v in model.coords.items()}
    dims = {k: list(v) for k, v in model.named_vars_to_dims.items()}
    free = [(rv.name, model.rvs_to_values[rv].name, type(model.rvs_to_transforms.get(rv)).__name__)
            for rv in model.free_RVs]
    outputs = [*model.basic_RVs, *model.deterministics, *model.potentials,
               *(model.rvs_to_values[rv] for rv in model.observed_RVs)]
    blob = json.dumps({"meta": meta, "shapes": shapes, "coords": coords, "dims": dims,
                       "free": free, "graph": graph_digest(outputs)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def graph_digest(outputs) -> str:
    """Digest of the graph of ``outputs``: operations (inner graphs too) and constants by
    value; shared variables (data, dimension lengths, random generators) by name and type
    only, their values being swapped in.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from pytensor import shared
    >>> x = shared(np.zeros(3), name="x")
    >>> graph_digest([pt.exp(x) + 1]) == graph_digest([pt.exp(shared(np.ones(3), name="x")) + 1])
    True
    >>> graph_digest([pt.exp(x) + 1]) == graph_digest([pt.exp(x) + 2])
    False
    """
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import graph_inputs, io_toposort

    h = hashlib.sha256()
    token: dict = {}
    for k, v in enumerate(graph_inputs(outputs)):
        if isinstance(v, SharedVariable):
            token[v] = f"shared {v.name} {v.type}"
        elif isinstance(v, Constant):
            token[v] = f"constant {v.type} {_value_digest(v.data)}"
        else:
            token[v] = f"input{k} {v.name} {v.type}"
    for i, node in enumerate(io_toposort(list(token), outputs)):
        ins = [token.get(v) or _constant_token(v, token) for v in node.inputs]
        h.update(f"{_op_token(node.op)}({', '.join(ins)})\n".encode())
        for j, out in enumerate(node.outputs):
            token[out] = f"n{i}.{j}"
    h.update(" ".join(token[v] for v in outputs).encode())
    return h.hexdigest()


def _constant_token(v, token: dict) -> str:
    token[v] = f"constant {v.type} {_value_digest(getattr(v, 'data', None))}"
    return token[v]


def _value_digest(data) -> str:
    if isinstance(data, np.ndarray | np.generic | int | float | bool):
        a = np.ascontiguousarray(data)
        return f"{a.dtype}{a.shape}" + hashlib.sha256(a.tobytes()).hexdigest()[:16]
    return repr(data)


def _op_token(op) -> str:
    inner = getattr(op, "fgraph", None)
    text = f"{type(op).__module__}.{type(op).__qualname__} {op}"
    if getattr(op, "__props__", None):
        props = op._props_dict()
        text += " " + ",".join(f"{k}={_value_digest(v) if isinstance(v, np.ndarray) else v}"
                               for k, v in sorted(props.items()))
    if inner is not None:
        text += " {" + graph_digest(list(inner.outputs)) + "}"
    return text


def data_of(built) -> dict[str, np.ndarray]:
    """The data arrays of ``built``'s model (shared variables, prior data included), by name."""
    return {v.name: v.get_value() for v in built.model.data_vars}


def swap_data(compiled, data: dict[str, np.ndarray]):
    """``compiled`` (input form) with ``data`` (:func:`data_of`) swapped in.

    Data the graph does not use (an index whose effects enter through a nested factor's mean)
    were pruned at compilation: only the ones the compiled model knows are swapped.
    """
    known = {var.name for var in getattr(compiled, "shared_var_keys", {})}
    if known:
        data = {k: v for k, v in data.items() if k in known}
    return compiled.with_data(**data)


def identical(frozen, swapped, points: int = CHECK_POINTS, seed: int = 0) -> bool:
    """Whether two compiled models give bit-identical initial points (jittered, two seeds) and
    log density, gradient and expanded draw at the initial point of ``frozen`` and at
    ``points`` random points around it."""
    from bayesmixed.sample import native

    if frozen.n_dim != swapped.n_dim or frozen.shape_info[0] != swapped.shape_info[0]:
        return False
    starts = [[np.asarray(m.initial_point_func(s), dtype=np.float64) for m in (frozen, swapped)]
              for s in (seed, seed + 1)]
    if not all(np.array_equal(a, b) for a, b in starts):
        return False
    start = starts[0][0]
    rng = np.random.default_rng(seed)
    for k in range(points + 1):
        x = start if k == 0 else start + rng.normal(0.0, 0.5, start.shape)
        got = [native.call(m.compiled_logp_func.address, m.compiled_expand_func.address, m, x)
               for m in (frozen, swapped)]
        if got[0] is None or got[1] is None:
            if got[0] is not got[1]:
                return False
            continue
        if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(*got, strict=True)):
            return False
    return True


def compiled_for(built, key: str, compile_frozen: Callable, compile_input: Callable,
                 status: dict) -> tuple[object, bool]:
    """The compiled model for a fit of ``built`` (whose frozen form is not cached).

    Parameters
    ----------
    built
        The built model.
    key
        Its :func:`shape_key`.
    compile_frozen, compile_input
        ``() -> compiled``: compile the frozen form of ``built``; compile (or fetch from the
        process's cache) the input form of its structure.
    status
        Gets ``compiled_form``: ``"frozen"`` (first fit of the shape, or the input form failed
        the check), ``"input (compiled)"`` (this fit compiled and checked it) or ``"input"``.

    Returns
    -------
    (compiled, cached)
        ``cached``: no compilation.
    """
    shape = _SHAPES.get(key)
    if shape is None or shape.verdict == "frozen":
        compiled = compile_frozen()
        if shape is None:
            data = {k: v.copy() for k, v in data_of(built).items()}
            _remember(key, _Shape(compiled, data))
        status["compiled_form"] = "frozen"
        return compiled, False
    _SHAPES.move_to_end(key)
    if shape.verdict == "input":
        status["compiled_form"] = "input"
        return swap_data(compile_input(), data_of(built)), True
    swappable = compile_input()
    first = swap_data(swappable, shape.data)
    if identical(shape.frozen, first):
        shape.verdict, shape.frozen, shape.data = "input", None, {}
        status["compiled_form"] = "input (compiled)"
        return swap_data(swappable, data_of(built)), False
    shape.verdict, shape.frozen, shape.data = "frozen", None, {}
    status["compiled_form"] = "frozen"
    return compile_frozen(), False


def _remember(key: str, shape: _Shape) -> None:
    _SHAPES[key] = shape
    while len(_SHAPES) > _CACHE_SIZE:
        _SHAPES.popitem(last=False)

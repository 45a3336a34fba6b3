"""What the analysis knows about JAX, flax, equinox, NumPy and the builtins, as plain tables.

Qualified names are canonical import paths (``jax.numpy.zeros``); aliases are resolved before lookup.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.util
import numbers
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TransformSpec:
    """How a transform treats the functions it receives.

    ``fn_args``: positions of function arguments (``-1`` = every element of a list/tuple at position
    ``list_arg``); ``fn_kwargs``: keyword names of function arguments; ``staged``: values inside are
    abstract (jit-like) rather than only batched (vmap-like); ``carries``: ``(param positions)`` of the
    traced function that are the loop index/carry (all params are traced anyway).
    """

    name: str
    fn_args: tuple[int, ...] = (0,)
    fn_kwargs: tuple[str, ...] = ("fun", "f")
    staged: bool = True
    list_arg: int | None = None
    # Keyword arguments of the transform naming static parameters of the traced function.
    has_static: bool = False
    # vmap-style in_axes: parameters with in_axes None are not made traced by this transform.
    has_in_axes: bool = False
    # Only wraps (custom_jvp, named_call): does not trace by itself.
    wrapper: bool = False
    # grad-like: without an abstracting transform around it, only the differentiated arguments
    # are (JVP) tracers: Python control flow works on them, host conversions do not.
    differentiates: bool = False


def _specs(*specs: TransformSpec) -> dict[str, TransformSpec]:
    return {s.name: s for s in specs}


_JIT = dict(staged=True, has_static=True)
TRANSFORMS: dict[str, TransformSpec] = _specs(
    TransformSpec("jax.jit", **_JIT),
    TransformSpec("jax.pmap", **_JIT, has_in_axes=True),
    TransformSpec("jax.vmap", staged=False, has_in_axes=True),
    TransformSpec("jax.checkpoint", has_static=True),
    TransformSpec("jax.remat", has_static=True),
    TransformSpec("jax.named_call", staged=False, wrapper=True),
    TransformSpec("jax.eval_shape"),
    TransformSpec("jax.make_jaxpr", has_static=True),
    TransformSpec("jax.linearize"),
    TransformSpec("jax.jvp", staged=False, wrapper=True),
    TransformSpec("jax.vjp", staged=False, wrapper=True),
    TransformSpec("jax.hessian", staged=False, differentiates=True),
    TransformSpec("jax.jacfwd", staged=False, differentiates=True),
    TransformSpec("jax.jacrev", staged=False, differentiates=True),
    TransformSpec("jax.grad", staged=False, differentiates=True),
    TransformSpec("jax.value_and_grad", staged=False, differentiates=True),
    TransformSpec("jax.custom_jvp", staged=False, wrapper=True),
    TransformSpec("jax.custom_vjp", staged=False, wrapper=True),
    TransformSpec("jax.shard_map", fn_kwargs=("f",)),
    TransformSpec("jax.experimental.shard_map.shard_map", fn_kwargs=("f",)),
    TransformSpec("jax.experimental.pjit.pjit", **_JIT),
    TransformSpec("jax.lax.scan", fn_kwargs=("f",)),
    TransformSpec("jax.lax.map", fn_kwargs=("f",)),
    TransformSpec("jax.lax.fori_loop", fn_args=(2,), fn_kwargs=("body_fun",)),
    TransformSpec("jax.lax.while_loop", fn_args=(0, 1), fn_kwargs=("cond_fun", "body_fun")),
    TransformSpec("jax.lax.cond", fn_args=(1, 2), fn_kwargs=("true_fun", "false_fun")),
    TransformSpec("jax.lax.switch", fn_args=(), list_arg=1, fn_kwargs=("branches",)),
    TransformSpec("jax.lax.custom_root", fn_args=(0, 2, 3)),
    TransformSpec("jax.lax.custom_linear_solve", fn_args=(0, 2)),
    # flax linen lifted transforms (functions or Module classes)
    TransformSpec("flax.linen.jit", **_JIT),
    TransformSpec("flax.linen.vmap", staged=False),
    TransformSpec("flax.linen.scan"),
    TransformSpec("flax.linen.remat", has_static=True),
    TransformSpec("flax.linen.checkpoint", has_static=True),
    TransformSpec("flax.linen.remat_scan"),
    TransformSpec("flax.linen.while_loop", fn_args=(0, 1)),
    TransformSpec("flax.linen.cond", fn_args=(1, 2)),
    TransformSpec("flax.linen.switch", fn_args=(), list_arg=1),
    TransformSpec("flax.linen.map_variables"),
    TransformSpec("flax.linen.grad", staged=False, differentiates=True),
    TransformSpec("flax.linen.value_and_grad", staged=False, differentiates=True),
    # flax nnx
    TransformSpec("flax.nnx.jit", **_JIT),
    TransformSpec("flax.nnx.vmap", staged=False, has_in_axes=True),
    TransformSpec("flax.nnx.pmap", **_JIT, has_in_axes=True),
    TransformSpec("flax.nnx.scan"),
    TransformSpec("flax.nnx.remat", has_static=True),
    TransformSpec("flax.nnx.shard_map"),
    TransformSpec("flax.nnx.fori_loop", fn_args=(2,)),
    TransformSpec("flax.nnx.while_loop", fn_args=(0, 1)),
    TransformSpec("flax.nnx.cond", fn_args=(1, 2)),
    TransformSpec("flax.nnx.switch", fn_args=(), list_arg=1),
    TransformSpec("flax.nnx.eval_shape"),
    TransformSpec("flax.nnx.grad", staged=False, differentiates=True),
    TransformSpec("flax.nnx.value_and_grad", staged=False, differentiates=True),
    # equinox
    TransformSpec("equinox.filter_jit"),
    TransformSpec("equinox.filter_vmap", staged=False),
    TransformSpec("equinox.filter_pmap"),
    TransformSpec("equinox.filter_eval_shape"),
    TransformSpec("equinox.filter_checkpoint"),
    TransformSpec("equinox.filter_grad", staged=False, differentiates=True),
    TransformSpec("equinox.filter_value_and_grad", staged=False, differentiates=True),
)

# Canonical spellings for names that JAX re-exports under several paths.
ALIASES: dict[str, str] = {
    "jax.api.jit": "jax.jit",
    "jax.experimental.maps.xmap": "jax.vmap",
    "jax.ad_checkpoint.checkpoint": "jax.checkpoint",
    "flax.linen.transforms.jit": "flax.linen.jit",
    "flax.linen.transforms.vmap": "flax.linen.vmap",
    "flax.linen.transforms.scan": "flax.linen.scan",
    "flax.experimental.nnx": "flax.nnx",
    # JAX's length-checking twins of the builtins
    "jax.util.safe_zip": "builtins.zip",
    "jax.util.safe_map": "builtins.map",
    "jax._src.util.safe_zip": "builtins.zip",
    "jax._src.util.safe_map": "builtins.map",
}

# JAX functions that take any pytree and return one of the same structure (an array only where
# they are given an array).
TREE_POLYMORPHIC = frozenset(
    {
        "jax.lax.stop_gradient",
        "jax.device_put",
        "jax.block_until_ready",
        "jax.lax.optimization_barrier",
    }
)

# Callbacks run on the host with concrete NumPy arrays: the function they receive is never traced.
HOST_CALLBACKS = frozenset(
    {
        "jax.pure_callback",
        "jax.debug.callback",
        "jax.experimental.io_callback",
        "jax.experimental.host_callback.call",
        "jax.experimental.host_callback.id_tap",
        "jax.numpy.vectorize",
    }
)

# Prefixes whose call results are JAX values inside traced code.
JAX_ARRAY_MODULES = (
    "jax.numpy.",
    "jax.lax.",
    "jax.random.",
    "jax.nn.",
    "jax.scipy.",
    "jax.image.",
    "jax.ops.",
    "jax.tree_util.",
    "jax.tree.",
    "optax.",
    "flax.linen.",
    "flax.nnx.",
    "equinox.",
    "chex.",
    "distrax.",
)

# Functions that return boolean arrays (masks).
BOOLEAN_RESULTS = frozenset(
    f"jax.numpy.{n}"
    for n in [
        "isnan",
        "isinf",
        "isfinite",
        "isneginf",
        "isposinf",
        "isclose",
        "logical_and",
        "logical_or",
        "logical_not",
        "logical_xor",
        "greater",
        "greater_equal",
        "less",
        "less_equal",
        "equal",
        "not_equal",
        "signbit",
        "isin",
        "isreal",
        "iscomplex",
    ]
)

# NumPy functions that dispatch to the argument's own method, so they trace fine on tracers
# (measured with jax 0.10.2: every other NumPy function converts its argument).
NUMPY_DISPATCHING = frozenset(
    [
        "sum",
        "prod",
        "max",
        "amax",
        "min",
        "amin",
        "any",
        "all",
        "mean",
        "std",
        "var",
        "cumsum",
        "cumprod",
        "argmax",
        "argmin",
        "round",
        "around",
        "reshape",
        "transpose",
        "squeeze",
        "repeat",
        "shape",
        "ndim",
        "size",
        "swapaxes",
        "searchsorted",
    ]
)
# NumPy functions that fail on a tracer with another class than TracerArrayConversionError.
NUMPY_ERRORS: dict[str, str] = {
    "take": "NotImplementedError",
    "argsort": "TypeError",
    "result_type": "TypeError",
}
# NumPy names that are not array functions (types, constants, submodules handled elsewhere).
NUMPY_NON_CONVERTING = frozenset(
    ["ndarray", "generic", "dtype", "finfo", "iinfo", "errstate", "printoptions"]
)

# Shape-like arguments: function -> (positions, keyword names). Traced values there are hazards.
SHAPE_ARGS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "jax.numpy.zeros": ((0,), ("shape",)),
    "jax.numpy.ones": ((0,), ("shape",)),
    "jax.numpy.empty": ((0,), ("shape",)),
    "jax.numpy.full": ((0,), ("shape",)),
    "jax.numpy.zeros_like": ((), ("shape",)),
    "jax.numpy.ones_like": ((), ("shape",)),
    "jax.numpy.full_like": ((), ("shape",)),
    "jax.numpy.empty_like": ((), ("shape",)),
    "jax.numpy.arange": ((0, 1, 2), ("start", "stop", "step")),
    "jax.numpy.linspace": ((2,), ("num",)),
    "jax.numpy.logspace": ((2,), ("num",)),
    "jax.numpy.geomspace": ((2,), ("num",)),
    "jax.numpy.eye": ((0, 1), ("N", "M")),
    "jax.numpy.identity": ((0,), ("n",)),
    "jax.numpy.tri": ((0, 1), ("N", "M")),
    "jax.numpy.reshape": ((1,), ("shape", "newshape")),
    "jax.numpy.broadcast_to": ((1,), ("shape",)),
    "jax.numpy.repeat": ((1,), ("repeats",)),
    "jax.numpy.tile": ((1,), ("reps",)),
    "jax.numpy.resize": ((1,), ("new_shape",)),
    "jax.numpy.indices": ((0,), ("dimensions",)),
    "jax.lax.full": ((0,), ("shape",)),
    "jax.lax.iota": ((1,), ("size",)),
    "jax.lax.broadcast": ((1,), ("sizes",)),
    "jax.lax.reshape": ((1,), ("new_sizes",)),
    "jax.lax.dynamic_slice": ((2,), ("slice_sizes",)),
    "jax.lax.dynamic_slice_in_dim": ((2,), ("slice_size",)),
    "jax.nn.one_hot": ((1,), ("num_classes",)),
    "jax.numpy.pad": ((1,), ("pad_width",)),
    "jax.numpy.split": ((1,), ("indices_or_sections",)),
    "jax.numpy.array_split": ((1,), ("indices_or_sections",)),
    "jax.numpy.bincount": ((), ("length",)),
    "jax.ops.segment_sum": ((2,), ("num_segments",)),
    "jax.ops.segment_max": ((2,), ("num_segments",)),
    "jax.ops.segment_min": ((2,), ("num_segments",)),
    "jax.ops.segment_prod": ((2,), ("num_segments",)),
    "jax.scipy.special.multigammaln": ((1,), ("d",)),
    "jax.numpy.diag": ((1,), ("k",)),
    "jax.numpy.diagonal": ((1,), ("offset",)),
    "jax.numpy.tril": ((1,), ("k",)),
    "jax.numpy.triu": ((1,), ("k",)),
    "jax.lax.top_k": ((1,), ("k",)),
}
# jax.random samplers: position of the shape argument (after the key and distribution params).
RANDOM_SHAPE_ARGS: dict[str, int] = {
    "normal": 1,
    "uniform": 1,
    "bernoulli": 2,
    "randint": 1,
    "truncated_normal": 3,
    "gumbel": 1,
    "categorical": -1,
    "choice": 2,
    "exponential": 1,
    "laplace": 1,
    "logistic": 1,
    "cauchy": 1,
    "rademacher": 1,
    "gamma": 2,
    "beta": 3,
    "dirichlet": 2,
    "poisson": 2,
    "bits": 1,
    "orthogonal": 1,
    "permutation": -1,
    "multivariate_normal": 3,
    "ball": 3,
}
# Array methods with shape-like arguments: method -> positions that are all shape-like.
SHAPE_METHODS = frozenset({"reshape", "repeat", "tile", "broadcast_to", "resize"})
# Errors JAX raises for a traced shape argument, by function (default TypeError).
SHAPE_ERROR: dict[str, str] = {
    "jax.numpy.arange": "ConcretizationTypeError",
    "jax.numpy.linspace": "ConcretizationTypeError",
    "jax.numpy.logspace": "ConcretizationTypeError",
    "jax.numpy.geomspace": "ConcretizationTypeError",
    "jax.numpy.repeat": "ConcretizationTypeError",
    "jax.numpy.tile": "TypeError",
    "jax.numpy.resize": "ValueError",
    "jax.numpy.indices": "ConcretizationTypeError",
    "jax.lax.broadcast": "TracerBoolConversionError",
    "jax.lax.dynamic_slice_in_dim": "TracerIntegerConversionError",
    "jax.nn.one_hot": "ConcretizationTypeError",
    "jax.random.choice": "TracerBoolConversionError",
    "jax.numpy.pad": "ConcretizationTypeError",
    "jax.numpy.split": "ConcretizationTypeError",
    "jax.numpy.array_split": "ConcretizationTypeError",
    "jax.numpy.bincount": "ConcretizationTypeError",
    "jax.ops.segment_sum": "ConcretizationTypeError",
    "jax.ops.segment_max": "ConcretizationTypeError",
    "jax.ops.segment_min": "ConcretizationTypeError",
    "jax.ops.segment_prod": "ConcretizationTypeError",
    "jax.scipy.special.multigammaln": "ConcretizationTypeError",
    "jax.numpy.diag": "TracerIntegerConversionError",
    "jax.numpy.diagonal": "ValueError",
    "jax.numpy.tril": "ValueError",
    "jax.numpy.triu": "ValueError",
    "jax.lax.top_k": "TracerBoolConversionError",
}

# Axis arguments (must be static ints): function -> (positions, keywords, error JAX raises when
# traced, measured with jax 0.10.2 under jit and vmap).
_CTE, _TICE, _VE = "ConcretizationTypeError", "TracerIntegerConversionError", "ValueError"
# Where ``axis`` is passed positionally: the second parameter except in these (JAX's signatures;
# tests/test_libraries.py checks the table against the installed JAX).
_AXIS_AT = {"roll": 2, "diff": 2, "take_along_axis": 2, "take": 2}
AXIS_ARGS: dict[str, tuple[tuple[int, ...], tuple[str, ...], str]] = {
    **{
        f"jax.numpy.{n}": ((_AXIS_AT.get(n, 1),), ("axis",), _CTE)
        for n in (
            "sum",
            "mean",
            "max",
            "min",
            "prod",
            "std",
            "var",
            "any",
            "all",
            "amax",
            "amin",
            "average",
            "ptp",
            "flip",
            "roll",
        )
    },
    **{
        f"jax.numpy.{n}": ((_AXIS_AT.get(n, 1),), ("axis",), _VE)
        for n in (
            "cumsum",
            "cumprod",
            "sort",
            "argsort",
            "median",
            "nansum",
            "nanmean",
            "nanmax",
            "nanmin",
            "count_nonzero",
            "diff",
            "take_along_axis",
        )
    },
    **{
        f"jax.numpy.{n}": ((_AXIS_AT.get(n, 1),), ("axis",), _TICE)
        for n in ("argmax", "argmin", "concatenate", "stack", "take")
    },
    "jax.numpy.expand_dims": ((1,), ("axis",), _CTE),
    "jax.numpy.squeeze": ((1,), ("axis",), _CTE),
    "jax.numpy.moveaxis": ((1, 2), ("source", "destination"), _CTE),
    "jax.numpy.swapaxes": ((1, 2), ("axis1", "axis2"), _VE),
    "jax.numpy.transpose": ((1,), ("axes",), _TICE),
    "jax.numpy.apply_along_axis": ((1,), ("axis",), _TICE),
    "jax.nn.softmax": ((1,), ("axis",), _CTE),
    "jax.nn.log_softmax": ((1,), ("axis",), _VE),
    "jax.nn.standardize": ((1,), ("axis",), _VE),
}
# Array methods whose first positional argument (or axis=) is an axis, with the error raised.
AXIS_METHODS: dict[str, str] = {
    **{n: _CTE for n in ("sum", "mean", "max", "min", "prod", "std", "var", "any", "all")},
    **{n: _TICE for n in ("argmax", "argmin")},
    **{n: _VE for n in ("cumsum", "cumprod", "sort", "argsort")},
}

# Functions whose output shape depends on the data: need size= under a trace.
DATA_DEPENDENT = frozenset(
    f"jax.numpy.{n}"
    for n in [
        "nonzero",
        "argwhere",
        "flatnonzero",
        "unique",
        "unique_values",
        "unique_counts",
        "unique_inverse",
        "unique_all",
    ]
)

# Functions whose result size is the data's unless a size is given: function -> (the argument
# whose values decide it, the size keyword, its position where it may be passed positionally).
SIZE_FROM_DATA: dict[str, tuple[int, str, int | None]] = {
    "jax.numpy.bincount": (0, "length", None),
    **{f"jax.ops.segment_{n}": (1, "num_segments", 2) for n in ("sum", "max", "min", "prod")},
}

# Array attributes that are static under any transform.
STATIC_ATTRS = frozenset({"shape", "ndim", "dtype", "size", "itemsize", "nbytes", "weak_type"})
# Attributes that turn a pandas/torch object into a host NumPy array.
HOST_ATTRS = frozenset({"values"})
HOST_METHODS = frozenset({"to_numpy", "numpy", "__array__", "tolist_numpy"})

# Field declarations that make a field static.
STATIC_FIELD_CALLS = frozenset(
    {
        "flax.struct.field",
        "equinox.field",
        "dataclasses.field",
        "flax.struct.static_field",
        "equinox.static_field",
    }
)

# Pytree utilities whose results describe structure (static) or list the leaves.
TREE_STATIC = frozenset(
    f"{m}.{n}"
    for m in ("jax.tree_util", "jax.tree")
    for n in [
        "tree_structure",
        "structure",
        "treedef_is_leaf",
        "all_leaves",
        "tree_all",
        "all",
        "register_pytree_node",
        "register_pytree_node_class",
        "register_dataclass",
    ]
)
TREE_LEAVES = frozenset(
    f"{m}.{n}"
    for m in ("jax.tree_util", "jax.tree")
    for n in [
        "tree_leaves",
        "leaves",
        "tree_flatten",
        "flatten",
        "tree_flatten_with_path",
        "flatten_with_path",
        "tree_leaves_with_path",
        "leaves_with_path",
    ]
)

# Classes whose instances are pytrees: their non-static fields are leaves under a transform.
PYTREE_BASES = frozenset(
    {
        "flax.struct.PyTreeNode",
        "typing.NamedTuple",
        "equinox.Module",
        "flax.nnx.Module",
        "flax.nnx.Object",
        "flax.nnx.Pytree",
        "chex.ArrayTree",
    }
)
PYTREE_DECORATORS = frozenset(
    {
        "flax.struct.dataclass",
        "chex.dataclass",
        "jax.tree_util.register_dataclass",
        "jax.tree_util.register_pytree_node_class",
        "jax.tree_util.register_pytree_with_keys_class",
    }
)
# Folds: the function gets an accumulator (the initializer first) and one leaf or item.
REDUCES = frozenset({"jax.tree.reduce", "jax.tree_util.tree_reduce", "functools.reduce"})

PYTREE_REGISTRATIONS = frozenset(
    {
        "jax.tree_util.register_dataclass",
        "jax.tree_util.register_pytree_node",
        "jax.tree_util.register_pytree_with_keys",
        "jax.tree_util.register_pytree_node_class",
    }
)

# jax.numpy functions that return Python values (shapes, dtypes), never tracers.
JNP_STATIC = (
    frozenset(
        f"jax.numpy.{n}"
        for n in [
            "shape",
            "ndim",
            "size",
            "result_type",
            "dtype",
            "iinfo",
            "finfo",
            "issubdtype",
            "isdtype",
            "promote_types",
            "can_cast",
            "isscalar",
            "iscomplexobj",
            "isrealobj",
            "broadcast_shapes",
            "min_scalar_type",
        ]
    )
    | frozenset(
        # the abstract value of an array (shape, dtype, sharding): known at trace time
        {"jax.typeof", "jax.core.get_aval"}
    )
    | frozenset(
        # the size of a mapped axis (inside shard_map, pmap, vmap) and the devices: Python ints
        {
            "jax.lax.axis_size",
            "jax.device_count",
            "jax.local_device_count",
            "jax.process_count",
            "jax.process_index",
        }
    )
    | frozenset(
        # convolution bookkeeping computed from Python values: dimension numbers, permutations,
        # paddings and shapes (tuples of ints)
        {
            f"jax.lax.{n}"
            for n in (
                "conv_dimension_numbers",
                "conv_general_permutations",
                "conv_general_shape_tuple",
                "conv_shape_tuple",
                "conv_transpose_shape_tuple",
                "padtype_to_pads",
                "broadcast_shapes",
            )
        }
    )
)

# Functions whose result is a Python value (a bool, a dtype, a shape) whatever their arguments.
PYTHON_RESULTS = (
    JNP_STATIC
    | frozenset(f"numpy.{n.rsplit('.', 1)[1]}" for n in JNP_STATIC)
    | frozenset(
        {
            "jax.lax.broadcast_shapes",
            "jax.numpy.isdtype",
            "equinox.is_array",
            "equinox.is_array_like",
            "equinox.is_inexact_array",
            "equinox.is_inexact_array_like",
            "jax.core.is_concrete",
            "numpy.isdtype",
            # the PRNG implementation of a key array: a Python object
            "jax.random.key_impl",
            # a dataclass's Field objects (names, types, metadata), never its values
            "dataclasses.fields",
        }
    )
)


def returns_python_value(qual: str) -> bool:
    return qual in PYTHON_RESULTS or qual.startswith("jax.dtypes.")


# Every alias is a prefix of the names it renames: most names start with none of them.
_ALIAS_PREFIXES = tuple(ALIASES)


def canonical(qual: str) -> str:
    if not qual.startswith(_ALIAS_PREFIXES):
        return qual
    for old, new in ALIASES.items():
        if qual == old or qual.startswith(old + "."):
            return new + qual[len(old) :]
    if qual.startswith("jax.numpy.random."):
        return qual
    return qual


# Entry points of a flax linen Module that run one of its methods, and their own options.
LINEN_ENTRIES = frozenset({"apply", "init", "init_with_output"})
LINEN_OPTIONS = frozenset({"mutable", "rngs", "capture_intermediates", "method"})


# Modules that code passes around as an array namespace (``xp``): ``xp is np`` compares them.
ARRAY_NAMESPACES = frozenset(
    {"numpy", "jax.numpy", "math", "scipy", "jax.scipy", "cupy", "torch", "jax", "jax.lax"}
)

# what ``type()`` of an array under a trace gives, and that class's ``__module__``
TRACER_CLASS = "jax.core.Tracer"
TRACER_MODULE = "jax._src.core"

# ``str`` methods whose result depends on their arguments only (folded for known strings)
STR_METHODS = frozenset(
    {
        "startswith",
        "endswith",
        "lower",
        "upper",
        "casefold",
        "strip",
        "lstrip",
        "rstrip",
        "removeprefix",
        "removesuffix",
        "replace",
        "isdigit",
        "isidentifier",
        "find",
        "count",
        "__contains__",
    }
)

# Classes an isinstance test can name. Under a trace a traced array is an instance of the tracer
# types and of none of the host types; a value that passes a host-type test is a Python value.
TRACER_TYPES = frozenset(
    {
        "jax.core.Tracer",
        "jax._src.core.Tracer",
        "jax.Array",
        "jax.numpy.ndarray",
        "jax._src.interpreters.partial_eval.DynamicJaxprTracer",
        "jax.interpreters.partial_eval.DynamicJaxprTracer",
        "jax.interpreters.batching.BatchTracer",
        "jax.interpreters.ad.JVPTracer",
    }
)
NUMPY_ARRAY_TYPES = frozenset({"numpy.ndarray"})
# Python containers: a tracer is never one of them (but a value that is one may hold tracers).
CONTAINER_TYPES = frozenset(
    {"builtins.tuple", "builtins.list", "builtins.dict", "builtins.set", "builtins.frozenset"}
)
# Other Python classes no array is an instance of (an index tuple's `slice(None)`, `...`).
INDEX_TYPES = frozenset({"builtins.slice", "builtins.range", "types.EllipsisType"})
HOST_TYPES = (
    NUMPY_ARRAY_TYPES
    | frozenset(
        {
            "numpy.generic",
            "numpy.number",
            "numpy.integer",
            "numpy.floating",
            "numpy.bool_",
            "numbers.Number",
            "numbers.Real",
            "numbers.Integral",
            "numbers.Complex",
            "builtins.int",
            "builtins.float",
            "builtins.bool",
            "builtins.complex",
            "builtins.str",
            "builtins.bytes",
        }
    )
    | frozenset(
        # NumPy's scalar types: a tracer is none of them
        f"numpy.{t}"
        for t in (
            "float16",
            "float32",
            "float64",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "complex64",
            "complex128",
            "signedinteger",
            "unsignedinteger",
            "complexfloating",
            "inexact",
        )
    )
)


@functools.cache
def number_class(qual: str) -> type | None:
    """The class an `isinstance` names, where a Python int or float can be tested against it:
    builtins, `numbers`, and NumPy's scalar types (no Python number is an instance of those)."""
    module, _, name = qual.rpartition(".")
    source: Any = {"builtins": builtins, "numbers": numbers}.get(module)
    if module == "numpy":
        source = importlib.util.find_spec("numpy") and importlib.import_module("numpy")
    found = getattr(source, name, None) if source is not None else None
    return found if isinstance(found, type) else None


# Context managers under which JAX evaluates operations on concrete values eagerly.
COMPILE_TIME_EVAL = frozenset({"jax.ensure_compile_time_eval", "jax.core.eval_context"})
# True when no trace is active (JAX's own test; private, but projects use it to pick a host path).
TRACE_STATE_CLEAN = frozenset({"jax._src.core.trace_state_clean", "jax.core.trace_state_clean"})

# Control flow that calls its functions with the operands it is given, never with more.
LOOP_BODIES = frozenset(
    {
        "jax.lax.while_loop",
        "jax.lax.fori_loop",
        "jax.lax.scan",
        "jax.lax.cond",
        "jax.lax.switch",
        "jax.lax.map",
    }
)

# `closure_convert(fun, *example_args)`: (a function of its closed-over values, those values).
CLOSURE_CONVERT = frozenset(
    {
        "jax.closure_convert",
        "jax.custom_derivatives.closure_convert",
        "jax._src.custom_derivatives.closure_convert",
    }
)

# Transforms that run their function on the arguments they are given, now, and return shapes.
EVAL_SHAPE = frozenset({"jax.eval_shape", "flax.nnx.eval_shape", "equinox.filter_eval_shape"})

# Key classes of pytree paths: Python objects, compared with Python equality.
TREE_KEYS = frozenset(
    f"jax.tree_util.{name}"
    for name in ("GetAttrKey", "DictKey", "SequenceKey", "FlattenedIndexKey")
)


# ---------------------------------------------------------------------------------------------
# Library callbacks: a project function handed to a library that keeps it and calls it back
# under a trace. Read from the libraries' source (numpyro 0.19, optax 0.2); the tests run each
# case with the installed library to confirm where JAX raises.
@dataclass(frozen=True)
class CallbackSpec:
    """Which arguments of a library callable are callbacks, and how the library calls them.

    ``args``/``kwargs``: positions and keywords holding callbacks; ``every``: any callable
    argument; ``annotated``: parameters whose annotation in the library's own source contains
    one of these words (optax's ``ScalarOrSchedule``), read with ``library_signature``;
    ``traced``: parameters of the callback the library passes tracers; ``runs``: methods of
    what holds the callback (or of what it is built into) that trace it by themselves;
    ``uses``: methods that call it back inside the caller's trace; ``how``: for the chain."""

    args: tuple[int, ...] = ()
    kwargs: tuple[str, ...] = ()
    every: bool = False
    annotated: tuple[str, ...] = ()
    traced: tuple[int, ...] = ()
    runs: frozenset[str] = frozenset()
    uses: frozenset[str] = frozenset()
    how: str = ""


# numpyro's MCMC runs the kernel's model inside jax.jit and lax.while_loop (the tree building
# of hmc_util.py); the model's own arguments are closed over (concrete), its jnp results traced.
_NUMPYRO_KERNEL = CallbackSpec(
    args=(0,),
    kwargs=("model",),
    runs=frozenset({"run", "warmup"}),
    how="numpyro's MCMC samples the model under jax.jit and lax.while_loop",
)
# optax calls a schedule with the step count of the optimizer state (``step_size_fn(count)``
# in ``scale_by_schedule``): a tracer wherever ``update`` is traced.
_OPTAX_SCHEDULE = CallbackSpec(
    kwargs=("learning_rate", "step_size_fn"),
    annotated=("Schedule",),
    traced=(0,),
    uses=frozenset({"update"}),
    how="optax calls a schedule with the optimizer's step count",
)
LIBRARY_CALLBACKS: dict[str, CallbackSpec] = {
    **{
        f"numpyro.infer.{path}{k}": _NUMPYRO_KERNEL
        for k in ("NUTS", "HMC")
        for path in ("", "hmc.")
    },
    # inject_hyperparams(optax.adam)(learning_rate=schedule): any hyperparameter may be one
    "optax.inject_hyperparams()": CallbackSpec(
        every=True, traced=(0,), uses=frozenset({"update"}), how=_OPTAX_SCHEDULE.how
    ),
}
CALLBACK_PREFIXES: dict[str, CallbackSpec] = {"optax.": _OPTAX_SCHEDULE}
# numpyro's sample and param sites: in a model traced by a sampler or SVI, what a latent site
# returns is a tracer (an observed one returns its `obs=` data)
NUMPYRO_SITES = frozenset(
    {"numpyro.sample", "numpyro.primitives.sample", "numpyro.param", "numpyro.primitives.param"}
)

# JAX functions that call a function argument on slices of an array under vmap (or a loop):
# qualified name -> (position of the function, position of the array, staged, whether the
# arguments after the array and the keywords are passed on to the function).
LIBRARY_MAPS: dict[str, tuple[int, int, bool, bool]] = {
    "jax.numpy.apply_along_axis": (0, 2, False, True),
    "jax.lax.map": (0, 1, True, False),
}


# Libraries whose classes may be array types (``jax.Array``, ``jaxtyping.Float``, NumPy's and
# the frameworks' tensors) or typing constructs: a field annotated with one is not read as an
# object.
ARRAY_TYPE_LIBRARIES = frozenset(
    {
        "jax",
        "jaxlib",
        "numpy",
        "jaxtyping",
        "chex",
        "typing",
        "typing_extensions",
        "builtins",
        "collections",
        "torch",
        "tensorflow",
        "array_api_compat",
    }
)

"""The true findings of the real-code corpus (benchmarks/realcode_triage.json), shown with JAX.

Each verdict "true" there names an error that JAX really raises; these programs raise it. optax is
installed, so its bug runs in optax itself; dynamax is not a dependency, so its pattern is written
out in the shape it has in dynamax 1.0.3 (``hmm_smoother`` jitted with
``static_argnames=["transition_fn"]`` only, branching on its ``compute_trans_probs`` argument).
TensorFlow Probability 0.25 does not import under this JAX, so its ``pivoted_cholesky`` loop is
written out the same way (a reported bug: tensorflow/probability issue #1491), and so are the
true findings of the held-out projects (fjformer, cd-dynamax, easydel, ejkernel, meent, herculens,
fedjax, flaxdiff, kinetix-env, jaxtari, evorl-jax, furax, gwkokab, jaxvmas, mahjax,
phyjax2d, stable-gymnax, gkx, pobax, ptyrodactyl, rheojax, riemannax, polytopax, neo-jax,
nexusim, jax-pcmci, rnn-jax, sglang-jax, clm-ml-jax, bqskit-qfactor-jax, probjax, genjaxmix).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct
from optax.losses import _segmentation

TRIAGE = Path(__file__).resolve().parent.parent / "benchmarks" / "realcode_triage.json"


def _true(project: str) -> list[dict]:
    entries = json.loads(TRIAGE.read_text(encoding="utf-8"))
    return [e for e in entries if e["project"] == project and e["verdict"] == "true"]


def test_optax_dice_loss_without_softmax_raises_under_jit() -> None:
    assert {e["line"] for e in _true("optax")} >= {156}
    predictions = jnp.full((2, 4, 3), 1 / 3)
    targets = jnp.ones((2, 4, 3))
    # eagerly it runs: the check is a Python `if` on concrete values
    _segmentation.dice_loss(predictions, targets, apply_softmax=False)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(lambda p, t: _segmentation.dice_loss(p, t, apply_softmax=False))(
            predictions, targets
        )


@partial(jax.jit, static_argnames=["transition_fn"])
def hmm_smoother(initial_probs, log_likelihoods, transition_fn=None, compute_trans_probs=True):
    smoothed = jax.nn.softmax(log_likelihoods + jnp.log(initial_probs), axis=-1)
    if compute_trans_probs:
        return smoothed, smoothed[:-1, :, None] * smoothed[1:, None, :]
    return smoothed, None


def test_dynamax_compute_trans_probs_is_traced() -> None:
    assert {e["line"] for e in _true("dynamax")} == {255, 337}
    probs, lls = jnp.full(3, 1 / 3), jnp.zeros((5, 3))
    hmm_smoother(probs, lls)  # the default is filled in inside the trace: a Python bool
    with pytest.raises(jax.errors.TracerBoolConversionError):
        hmm_smoother(probs, lls, compute_trans_probs=False)


def pivoted_cholesky_loop(matrix_diag, max_rank):
    """The JAX substrate's ``tf.while_loop`` without ``maximum_iterations``: lax.while_loop."""

    def body(args):
        m, pchol, perm = args
        permuted_diag = matrix_diag[perm[..., m:]]  # a slice bound that is the loop counter
        maxi = jnp.argmax(permuted_diag) + m
        row = jnp.zeros_like(pchol[0]).at[maxi].set(1.0)
        return m + 1, jnp.concatenate([pchol[:m], row[None], pchol[m + 1 :]]), perm

    n = matrix_diag.shape[-1]
    init = (0, jnp.zeros((max_rank, n)), jnp.arange(n))
    return jax.lax.while_loop(lambda args: args[0] < max_rank, body, init)[1]


def test_tfp_pivoted_cholesky_slices_with_the_loop_counter() -> None:
    lines = {e["line"] for e in _true("tensorflow-probability")}
    assert {363, 375, 376, 378, 379, 380, 401} <= lines
    with pytest.raises(IndexError, match="static"):
        pivoted_cholesky_loop(jnp.ones(4), 2)


@partial(jax.jit, static_argnames=["q_block", "k_block"])
def flash_attention2(
    q, k, v, *, dropout: float = 0.0, inference: bool = True, key=None, q_block=None, k_block=None
):
    if not inference and dropout > 0 and key is None:
        raise ValueError("key must be provided for training")
    return jax.nn.softmax(q @ k.T) @ v


def test_fjformer_inference_flag_is_traced() -> None:
    assert {e["line"] for e in _true("fjformer")} >= {101, 257}
    q = jnp.ones((2, 4))
    flash_attention2(q, q, q)  # the default: a Python bool filled in inside the trace
    with pytest.raises(jax.errors.TracerBoolConversionError):
        flash_attention2(q, q, q, inference=False, dropout=0.1, key=jax.random.key(0))


def test_cd_dynamax_score_gets_the_keys_as_warn() -> None:
    """``vmap(self.score, in_axes=(0, None, 0, None, None, None, None, 0))`` with eight arguments:
    the keys land on ``warn`` (the ninth parameter, ``key``, keeps its default)."""
    assert {e["line"] for e in _true("cd-dynamax")} >= {59}

    def score(params, emissions, return_log_prob=False, warn=True, key=None):
        if warn:
            jax.debug.print("warning")
        return params * emissions

    keys = jax.random.split(jax.random.key(0), 3)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.vmap(score, in_axes=(0, 0, None, 0))(jnp.ones(3), jnp.ones(3), False, keys)


def test_easydel_and_ejkernel_sizes_from_traced_counts() -> None:
    assert {e["line"] for e in _true("easydel")} == {1078}
    assert {e["line"] for e in _true("ejkernel")} == {298, 300}
    with pytest.raises(jax.errors.TracerIntegerConversionError):
        jax.jit(lambda x, g: jax.lax.dynamic_slice_in_dim(x, 0, jnp.sum(g), axis=0))(
            jnp.ones(5), jnp.array([1, 2])
        )
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(lambda n: jnp.repeat(jnp.arange(3), repeats=n))(jnp.array([1, 2, 1]))


def cell_compression(cell):
    """meent 0.13.2's ``cell_compression``: Python loops over the columns of a flipped cell."""
    cell = jnp.flipud(cell)
    cell_next = jnp.roll(cell, -1, axis=1)
    kept = []
    for col in range(cell.shape[1]):
        if not (cell[:, col] == cell_next[:, col]).all() or (col == cell.shape[1] - 1):
            kept.append(cell[:, col])
    return jnp.stack(kept, axis=1)


def test_meent_cell_compression_branches_on_arrays_under_pmap() -> None:
    """``run_ucell_pmap`` maps ``conv_solve`` with ``jax.pmap``, which reaches
    ``cell_compression`` (``fourier_type=1``): each ``if not (...).all()`` needs a Python bool."""
    assert {e["line"] for e in _true("meent")} == {32, 40}
    ucell = jnp.array([[1.0, 1.0, 3.0], [2.0, 2.0, 3.0]])
    cell_compression(ucell)  # eagerly it runs
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.pmap(cell_compression)(ucell[None])


def test_herculens_passes_a_list_to_a_static_argument() -> None:
    """herculens 0.3.0's ``plot.py`` calls ``lens_image.model(k_light=[[0]], ...)``, and
    ``model`` is jitted with ``static_argnums`` covering ``k_light``: a list is not hashable."""
    assert {e["line"] for e in _true("herculens")} == {873}

    @partial(jax.jit, static_argnums=(1,))
    def model(eta, k_light=None):
        return eta * (1.0 if k_light is None else 2.0)

    model(jnp.ones(2), ((0,),))  # a tuple of tuples hashes
    with pytest.raises(ValueError, match="Non-hashable static arguments"):
        model(jnp.ones(2), k_light=[[0]])


def test_fedjax_small_n_is_traced_when_given() -> None:
    """fedjax 0.0.17's ``walsh_hadamard_transform`` is ``@jax.jit`` with no static arguments;
    its own test passes ``small_n``, which then is a tracer in ``if small_n <= 1``."""
    assert {e["line"] for e in _true("fedjax")} == {43, 77, 78}

    @jax.jit
    def walsh_hadamard_transform(x, small_n: int = 2**7):
        if small_n <= 1:
            raise ValueError(f"small_n must be > 1, got {small_n}")
        return x * small_n

    walsh_hadamard_transform(jnp.ones(4))  # the default is filled in inside the trace
    with pytest.raises(jax.errors.TracerBoolConversionError):
        walsh_hadamard_transform(jnp.ones(4), 4)


def test_flaxdiff_slices_with_a_traced_count() -> None:
    """flaxdiff 0.2.11's ``train_step`` (shard_map, then jit) slices the label sequences at
    ``jnp.sum(uncond_mask)``: slice bounds must be static."""
    assert {e["line"] for e in _true("flaxdiff")} == {187}

    @jax.jit
    def mix_labels(key, null_labels_seq, label_seq):
        uncond_mask = jax.random.bernoulli(key, shape=(label_seq.shape[0],), p=0.5)
        num_unconditional = jnp.sum(uncond_mask).astype(jnp.int32)
        return jnp.concatenate(
            [null_labels_seq[:num_unconditional], label_seq[num_unconditional:]], axis=0
        )

    with pytest.raises(IndexError, match="static"):
        mix_labels(jax.random.key(0), jnp.zeros((4, 2)), jnp.ones((4, 2)))


def test_kinetix_passes_traced_ued_params_as_a_static_argument() -> None:
    """kinetix-env's ``create_random_starting_distribution`` is jitted with
    ``static_argnums=(2, 4, 5)``: ``ued_params`` (argument 3) is traced, and the mutators it
    calls declare ``ued_params`` static, so JAX hashes a struct of tracers."""
    assert {e["line"] for e in _true("kinetix-env")} == {301, 305, 327}

    @struct.dataclass
    class UEDParams:
        max_shape_size: float = 1.0

    @partial(jax.jit, static_argnums=(1,))
    def mutate_add_shape(x, ued_params):
        return x * ued_params.max_shape_size

    @partial(jax.jit, static_argnums=())
    def create_random_starting_distribution(x, ued_params):
        return mutate_add_shape(x, ued_params)

    with pytest.raises(ValueError, match="Non-hashable static arguments"):
        create_random_starting_distribution(jnp.ones(2), UEDParams())


def test_jaxtari_direction_to_player_branches_on_positions() -> None:
    """jaxtari 0.2.0's Wizard of Wor ``_get_direction_to_player`` is jitted with the renderer
    static (``static_argnums=(0,)``) and compares the entities' traced positions in ``if``."""
    assert {e["line"] for e in _true("jaxtari")} == {746, 748, 750}

    @jax.jit
    def get_direction_to_player(enemy_x, enemy_y, player_x, player_y):
        if enemy_x < player_x:
            return 1
        elif enemy_x > player_x:
            return 2
        elif enemy_y < player_y:
            return 3
        return 0

    with pytest.raises(jax.errors.TracerBoolConversionError):
        get_direction_to_player(jnp.int32(1), jnp.int32(2), jnp.int32(3), jnp.int32(4))


def test_evorl_gymnax_action_space_check_is_staged_under_jit() -> None:
    """evorl 0.1.1's ``create_gymnax_env`` checks a Box action space with ``not
    jnp.logical_and(...)``; CEM-RL's jitted ``_postsetup_replaybuffer`` creates the env inside
    the trace, where JAX stages even operations on constants: the result is a tracer."""
    assert {e["line"] for e in _true("evorl-jax")} == {125}
    low, high = jnp.full(2, -1.0), jnp.full(2, 1.0)

    def squashed(x):
        if not jnp.logical_and((low == -1).all(), (high == 1).all()):
            return jnp.tanh(x)
        return x

    squashed(jnp.ones(2))  # eagerly a concrete bool
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(squashed)(jnp.ones(2))


def test_furax_qnorm_branches_on_the_norm() -> None:
    """furax 0.11.3's ``qnorm`` is ``jit`` of ``jnp.vectorize``: ``... if norm2 > 0 else ...``
    is a Python conditional on a tracer, whatever the quaternion."""
    assert {e["line"] for e in _true("furax")} == {80}

    @jax.jit
    @partial(jnp.vectorize, signature="(4)->()")
    def qnorm(q):
        norm2 = jnp.sum(q**2)
        return q / norm2**0.5 if norm2 > 0 else jnp.array([0.0])

    with pytest.raises(jax.errors.TracerBoolConversionError):
        qnorm(jnp.ones(4))


def test_gwkokab_jaxspence_calls_numpy_in_cond_branches() -> None:
    """gwkokab 0.3.1's ``jaxspence`` passes NumPy code (its module imports ``numpy as np``) to
    ``lax.cond``, which traces both branches even when called eagerly: any call raises. (Its
    only caller takes SciPy's ``spence`` instead, since ``"jax" in np.__name__`` is False.)"""
    import numpy as np

    assert {e["line"] for e in _true("gwkokab")} == {160, 161, 174, 201, 212, 236}

    def series0(z):
        return np.where(z == 0, 0.01, z)

    def jaxspence(z):
        return jax.lax.cond(np.abs(z) < 0.5, series0, lambda z: np.log(z - 1), z)

    with pytest.raises(jax.errors.TracerArrayConversionError):
        jaxspence(np.array(0.25))


def test_jaxvmas_asserts_discrete_actions_in_the_jitted_step() -> None:
    """jaxvmas 0.0.1a1's ``step`` (``eqx.filter_jit``) checks multi-discrete actions with
    ``assert jnp.all(...)`` on the traced action."""
    assert {e["line"] for e in _true("jaxvmas")} == {722}

    @jax.jit
    def check_discrete_action(action, low=0, high=3):
        assert jnp.all(
            (action >= jnp.asarray(low, dtype=jnp.float32))
            * (action < jnp.asarray(high, dtype=jnp.float32))
        ), "out of bounds"
        return action

    with pytest.raises(jax.errors.TracerBoolConversionError):
        check_discrete_action(jnp.array([[1.0], [2.0]]))


def test_mahjax_meld_to_str_branches_on_the_meld_inside_cond() -> None:
    """mahjax 0.1.6's ``Meld.to_str`` formats a meld in a ``lax.cond`` branch, which JAX traces:
    the branch's ``if action == Action.PON`` compares a value computed under that trace (JAX
    stages even operations on constants there). As released, JAX first refuses the other
    branch's string result (TypeError); with that fixed, the ``if`` raises."""
    assert len(_true("mahjax")) == 26

    def to_str(meld):
        action = meld >> 9

        def fmt():
            if action == 3:
                return jnp.int32(1)
            return jnp.int32(0)

        return jax.lax.cond(meld == 0, lambda: jnp.int32(-1), fmt)

    with pytest.raises(jax.errors.TracerBoolConversionError):
        to_str(jnp.int32(3 << 9))


def test_phyjax2d_polygon_contact_branches_on_the_batched_separation() -> None:
    """phyjax2d 0.5.0's ``_polygon_to_polygon_impl`` is ``@jax.vmap``ped and picks the reference
    polygon with ``... if is_a_best else ...``, a Python conditional on a batched comparison."""
    assert {e["line"] for e in _true("phyjax2d")} == {511}

    @jax.vmap
    def contact_normal(sep_a, sep_b, normal_a, normal_b):
        is_a_best = sep_a > sep_b
        return normal_a if is_a_best else -normal_b

    with pytest.raises(jax.errors.TracerBoolConversionError):
        contact_normal(jnp.ones(2), jnp.zeros(2), jnp.ones((2, 2)), jnp.ones((2, 2)))


def test_stable_gymnax_seaquest_terminal_calls_item_under_jit() -> None:
    """stable-gymnax 0.0.1's MinAtar Seaquest ends ``is_terminal`` with ``.item()``; its
    ``step_env`` runs under the jitted ``step``."""
    assert {e["line"] for e in _true("stable-gymnax")} == {249}

    @jax.jit
    def is_terminal(terminal, time, max_steps=10):
        return jnp.logical_or(terminal, time >= max_steps).item()

    with pytest.raises(jax.errors.ConcretizationTypeError):
        is_terminal(jnp.bool_(False), jnp.int32(3))


def test_gkx_dynamic_imex_run_probes_the_operator_with_numpy() -> None:
    """gkx 2.7.0's prepared ``run(cache=...)`` jits ``run_dynamic_raw``, which for
    ``method="imex-ars3"`` rebuilds the chain-implicit operator with
    ``np.asarray(prepared.cache.ky)`` (and host probing after it) on the traced cache."""
    lines = {e["line"] for e in _true("gkx") if not e["path"].endswith("flux_tube.py")}
    assert lines == {714, 843, 1187, 1410, 1480}

    def chain_modes(ky, shape):
        return np.broadcast_to((np.asarray(ky) >= 0.0)[:, None], shape)

    @jax.jit
    def run_dynamic_raw(state, ky):
        return state * jnp.asarray(chain_modes(ky, state.shape))

    chain_modes(jnp.arange(3.0) - 1, (3, 2))  # the static path: a concrete cache
    with pytest.raises(jax.errors.TracerArrayConversionError):
        run_dynamic_raw(jnp.ones((3, 2)), jnp.arange(3.0) - 1)


def test_gkx_dynamic_analytic_geometry_is_sampled_with_float() -> None:
    """gkx 2.7.0's prepared ``run_arrays(geometry=..., cache=..., params=...)`` (fixed-step
    sensitivity studies "may pass matched geometry, cache, and parameter PyTrees") jits
    ``run_dynamic_raw``; an analytic geometry (a pytree whose ``q``, ``s_hat``... are children)
    is sampled there by ``sample_flux_tube_geometry``, which converts each field with
    ``float()`` (a ``SlabGeometry`` run raised ConcretizationTypeError at ``q=float(geom.q)``)."""
    lines = {e["line"] for e in _true("gkx") if e["path"].endswith("flux_tube.py")}
    assert lines == {230, 231, 232, 233, 234, 235, 236, 241}

    @jax.tree_util.register_pytree_node_class
    class SlabGeometry:
        def __init__(self, q, s_hat):
            self.q, self.s_hat = q, s_hat

        def tree_flatten(self):
            return (self.q, self.s_hat), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    def sample(geom, theta):
        return {"theta": jnp.asarray(theta), "q": float(geom.q), "s_hat": float(geom.s_hat)}

    @jax.jit
    def run_dynamic_raw(state, geometry):
        return state * sample(geometry, jnp.zeros(3))["q"]

    sample(SlabGeometry(1.4, 0.8), jnp.zeros(3))  # eagerly: Python floats
    with pytest.raises(jax.errors.ConcretizationTypeError):
        run_dynamic_raw(jnp.ones(3), SlabGeometry(1.4, 0.8))


def test_pobax_environments_branch_and_go_static_on_traced_actions() -> None:
    """pobax 0.0.1: Fishing's ``move`` is jitted with ``static_argnames=[..., 'action', ...]``
    and ``step_env`` passes the traced action; PocMan's map update masks with a traced
    ``.at[distance <= 2]`` and branches on ``action == 0``; TMaze's slip test ``and``s a traced
    draw. Each runs inside gymnax's jitted ``step``."""
    assert {e["line"] for e in _true("pobax")} == {
        78,
        93,
        128,
        175,
        177,
        179,
        181,
        297,
        376,
        383,
        419,
    }

    @partial(jax.jit, static_argnames=["action"])
    def move(pos, action):
        return pos + jnp.array([[0, 1], [1, 0]])[action]

    @jax.jit
    def fishing_step(pos, action):
        return move(pos, action)

    with pytest.raises(ValueError, match="hashable"):
        fishing_step(jnp.zeros(2, jnp.int32), jnp.int32(1))

    @jax.jit
    def ghost_map(prev, row, col):
        x, y = jnp.ogrid[: prev.shape[0], : prev.shape[1]]
        return prev.at[jnp.abs(x - row) + jnp.abs(y - col) <= 2].set(1.0)

    with pytest.raises(jax.errors.NonConcreteBooleanIndexError):
        ghost_map(jnp.zeros((5, 5)), 2, 2)

    @jax.jit
    def shift_map(arr, action):
        if action == 0:
            return jnp.roll(arr, 1, axis=0)
        return arr

    with pytest.raises(jax.errors.TracerBoolConversionError):
        shift_map(jnp.zeros((3, 3)), 0)

    def tmaze_step(key, idx, slip_prob=0.1):
        if not ((slip_prob > 0.0) and (jax.random.uniform(key) > slip_prob)):
            idx = idx + 1
        return idx

    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(tmaze_step)(jax.random.PRNGKey(0), 0)


def test_ptyrodactyl_jitted_simulations_size_grids_from_traced_values() -> None:
    """ptyrodactyl 2026.3.24: ``kirkland_potentials_crystal`` (``@jax.jit``) sizes its grid with
    ``int(width)`` from the traced coordinates; ``clip_cbed`` (``@jax.jit``) takes a
    ``lax.dynamic_slice`` whose sizes come from its traced ``extent_mrad``."""
    assert {e["line"] for e in _true("ptyrodactyl")} == {397, 908, 909, 971, 1538}

    @jax.jit
    def grid_dimensions(x_coords, pixel_size):
        width = jnp.ceil((x_coords.max() - x_coords.min()) / pixel_size).astype(jnp.int32)
        return jnp.zeros(int(width))

    with pytest.raises(jax.errors.ConcretizationTypeError):
        grid_dimensions(jnp.arange(4.0), 0.5)

    @jax.jit
    def clip_cbed(cbed, extent_pixels):
        center = cbed.shape[0] // 2
        start = jnp.maximum(0, center - extent_pixels)
        end = jnp.minimum(cbed.shape[0], center + extent_pixels)
        return jax.lax.dynamic_slice(cbed, (start, start), (end - start, end - start))

    with pytest.raises(TypeError):
        clip_cbed(jnp.ones((8, 8)), 2)


def test_rheojax_jitted_kernels_slice_with_traced_counts() -> None:
    """rheojax 0.7.1: ``pde_rhs`` and ``harmonic_truncation_robustness`` are ``@jax.jit`` with
    no static arguments, so the Python ints they get (``n_points``, ``n_harmonics_truncated``)
    are traced and slice bounds and ``jnp.full`` sizes built from them raise."""
    assert {e["line"] for e in _true("rheojax")} == {1159, 1461, 1462, 1463, 1464, 1472}

    @jax.jit
    def pde_rhs(state, n_points):
        return state[1 : 1 + n_points] + jnp.full(n_points, 1.0)

    with pytest.raises(IndexError):
        pde_rhs(jnp.ones(9), 2)

    @jax.jit
    def retained_energy(amplitudes, n_harmonics_truncated):
        return jnp.sum(amplitudes[:n_harmonics_truncated] ** 2)

    with pytest.raises(IndexError):
        retained_energy(jnp.ones(5), 3)


def test_riemannax_so3_log_branches_in_a_cond_branch() -> None:
    """riemannax 0.0.3's ``SpecialOrthogonal.log`` handles 180-degree rotations in
    ``pi_angle_case``, a ``lax.cond`` branch, with ``if max_idx == 0:`` on ``jnp.argmax``: every
    call raises, eagerly too, since ``lax.cond`` traces its branches."""
    assert {e["line"] for e in _true("riemannax")} == {337, 339}

    def log(rot):
        def pi_angle_case():
            max_idx = jnp.argmax(jnp.diag(rot))
            if max_idx == 0:
                return rot[0]
            return rot[1]

        return jax.lax.cond(jnp.trace(rot) < -0.99, pi_angle_case, lambda: rot[2])

    with pytest.raises(jax.errors.TracerBoolConversionError):
        log(jnp.diag(jnp.array([1.0, -1.0, -1.0])))


def test_polytopax_module_level_jitted_hulls_branch_on_traced_geometry() -> None:
    """polytopax 0.0.1 exports `quickhull_jit = jax.jit(quickhull, ...)`, `graham_scan_jit`,
    `point_in_convex_hull_jit` and friends; their bodies branch in Python on traced tests
    (`if jnp.allclose(leftmost, rightmost):`, `if cross > 0:`), take `int()` of traced indices and
    call `jnp.where(mask)` without `size=`. Each exported wrapper raised when called on random
    points; the patterns, written out:"""
    lines = {(e["path"].rsplit("/", 1)[-1], e["line"]) for e in _true("polytopax")}
    assert ("exact.py", 93) in lines and ("graham_scan.py", 69) in lines and len(lines) == 45

    def quickhull_2d(points):
        leftmost, rightmost = points[jnp.argmin(points[:, 0])], points[jnp.argmax(points[:, 0])]
        if jnp.allclose(leftmost, rightmost, atol=1e-9):
            return points[:1]
        return jnp.stack([leftmost, rightmost])

    def find_starting_point(points):
        lowest = jnp.where(points[:, 1] == jnp.min(points[:, 1]))[0]
        return int(lowest[0])

    pts = jnp.asarray(np.random.RandomState(0).rand(12, 2))
    quickhull_2d(pts)  # eagerly it runs
    find_starting_point(pts)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(quickhull_2d)(pts)
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(find_starting_point)(pts)


def test_neo_jax_autodiff_demo_converts_the_jitted_radius() -> None:
    """neo-jax 1.1.1's `examples.py` jits `epstot_from_Rmajor(Rmajor)`, which calls
    `flint_bo_jax(..., Rmajor=Rmajor)` without `rt0`; there `rt0 = float(Rmajor)`."""
    assert {e["line"] for e in _true("neo-jax")} == {672}

    def flint_bo(rt0=None, *, Rmajor=None):
        if rt0 is None:
            rt0 = float(Rmajor)
        return jnp.pi * rt0 * rt0

    flint_bo(Rmajor=jnp.asarray(1.5))
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(lambda r: flint_bo(Rmajor=r))(jnp.asarray(1.5))


def test_nexusim_vectorised_delta_m_calls_item_on_the_batched_field_id() -> None:
    """nexusim 0.2.0 stores `self.vec_compute_delta_m = jax.vmap(compute_delta_m, in_axes=(None,
    0))`; `compute_delta_m` reaches `field_id.item()` (and a Python `if jnp.any(...)`), so calling
    the stored function raises (the package's own call is commented out)."""
    assert {e["line"] for e in _true("nexusim")} == {334, 351, 398, 400, 418}
    chem = jnp.arange(6.0).reshape(3, 2)

    def compute_delta_m(delta, field_id):
        curr = field_id.item()
        return chem[curr] * delta

    compute_delta_m(0.1, jnp.asarray(1))
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.vmap(compute_delta_m, in_axes=(None, 0))(0.1, jnp.arange(3))


def test_feax_cell_var_from_fn_indexes_numpy_points_under_vmap() -> None:
    """feax's `TracedParams.create_cell_var_from_fn` computes centroids with
    `jax.vmap(lambda cell: np.mean(points[cell], axis=0))(cells)`; its meshes hold NumPy points."""
    assert {e["line"] for e in _true("feax")} == {301}
    points = np.random.RandomState(0).rand(10, 3)
    cells = jnp.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    np.mean(points[np.asarray(cells[0])], axis=0)  # eagerly, a NumPy index works
    with pytest.raises(jax.errors.TracerArrayConversionError):
        jax.vmap(lambda cell: np.mean(points[cell], axis=0))(cells)


def test_jax_pcmci_tests_convert_and_slice_traced_values() -> None:
    """jax-pcmci 1.4.0: ``CMISymbolic.compute_statistic`` is jitted and computes the number of
    symbols with ``int(jnp.max(Z))``; ``GPDCond.compute_pvalue`` (``static_argnums=(0,)``)
    branches on ``n_samples < 3``; ``ParCorr.get_correlation_matrix`` vmaps a function over
    ``jnp.arange(tau_max + 1)`` that slices ``data[: T - tau]`` under ``if tau > 0``."""
    cmi = {e["line"] for e in _true("jax-pcmci") if e["path"].endswith("cmi_knn.py")}
    gpdc = {e["line"] for e in _true("jax-pcmci") if e["path"].endswith("gpdc.py")}
    parcorr = {
        (e["line"], e["code"]) for e in _true("jax-pcmci") if e["path"].endswith("parcorr.py")
    }
    assert (cmi, gpdc) == ({600, 623}, {350})
    assert parcorr == {
        (557, "JX102"),
        (557, "JX301"),
        (558, "JX102"),
        (558, "JX301"),
        (561, "JX102"),
        (562, "JX102"),
    }

    @jax.jit
    def conditional_entropy(x, z):
        n_z = int(jnp.max(z)) + 1
        return jnp.bincount(x + z * 2, length=2 * n_z)

    @partial(jax.jit, static_argnums=(0,))
    def compute_pvalue(statistic, n_samples):
        if n_samples < 3:
            return jnp.array(1.0)
        return jnp.abs(statistic) / n_samples

    data = jnp.arange(12.0).reshape(6, 2)

    def corrs_for_tau(tau):
        x = data[: 6 - tau, :] if tau > 0 else data
        return jnp.mean(x)

    with pytest.raises(jax.errors.ConcretizationTypeError):
        conditional_entropy(jnp.array([0, 1]), jnp.array([1, 0]))
    with pytest.raises(jax.errors.TracerBoolConversionError):
        compute_pvalue(0.5, 10)
    assert float(corrs_for_tau(0)) == float(jnp.mean(data))
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.vmap(corrs_for_tau)(jnp.arange(3))
    with pytest.raises(IndexError):
        jax.vmap(lambda tau: data[: 6 - tau, :])(jnp.arange(3))


def test_rnn_jax_modular_step_branches_on_a_traced_mask_entry() -> None:
    """rnn-jax 0.0.2: the modular RNN's ``lax.scan`` step tests ``if self.in_connections[j]:``
    on its ``jnp`` boolean mask (a closed-over array indexed under the trace: a tracer), and
    filters comprehensions on its connection masks the same way."""
    assert {e["line"] for e in _true("rnn-jax")} == {52, 60, 82}
    in_connections = jnp.array([True, False])

    def step(carry, x_t):
        out = carry
        for j in range(2):
            if in_connections[j]:
                out = out + x_t
        return out, out

    def gather(carry, x_t):
        incoming = [carry * i for i in range(2) if in_connections[i]]
        return carry + sum(incoming), x_t

    for body in (step, gather):
        with pytest.raises(jax.errors.TracerBoolConversionError):
            jax.lax.scan(body, jnp.zeros(2), jnp.ones((3, 2)))


def test_sglang_jax_logprob_results_are_listed_in_a_traced_branch() -> None:
    """sglang-jax 0.0.2: the sampler runs ``_process_logprob_results`` as a ``lax.cond`` branch
    (traced even when ``return_logprob`` is False), which lists the top log-probabilities with
    ``.tolist()``."""
    assert {e["line"] for e in _true("sglang-jax")} == {209, 210, 225}

    def get_top_logprobs(logprobs, top_logprobs_nums):
        values, indices = jax.lax.top_k(logprobs, max(top_logprobs_nums))
        return values.tolist(), indices.tolist()

    def process(operands):
        get_top_logprobs(operands, [2])
        return None

    get_top_logprobs(jnp.ones((1, 4)), [2])  # eagerly: Python lists
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.lax.cond(False, process, lambda operands: None, jnp.ones((1, 4)))


def test_clm_ml_jax_free_unit_converts_the_traced_error_code() -> None:
    """clm-ml-jax 0.1.0's ``shr_file_free_unit_jit`` is ``jax.jit(shr_file_free_unit,
    static_argnames=["unit"])``; the function computes its error code with ``jnp.where`` from
    the state's ``unit_tag`` leaf, then picks the message with ``int(error_code)``."""
    assert {e["line"] for e in _true("clm-ml-jax")} == {223}

    def free_unit(unit_tag, unit):
        in_use = unit_tag[unit]
        error_code = jnp.where(unit < 0, 1, jnp.where(~in_use, 3, 0))
        return int(error_code)

    tags = jnp.array([False, True, False])
    assert free_unit(tags, 1) == 0  # eagerly: a concrete array
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(free_unit, static_argnames=["unit"])(tags, unit=1)


def test_bqskit_qfactor_prints_the_loss_in_a_python_while_under_jit() -> None:
    """bqskit-qfactor-jax 1.0.1's ``_sweep2`` is jitted unless ``NO_JIT_QFACTOR`` is set; with
    ``PRINT_LOSS_QFACTOR`` set it loops ``while should_continue(loop_var):`` in Python, whose
    test is a ``jnp`` boolean of the traced loop state."""
    assert {e["line"] for e in _true("bqskit-qfactor-jax")} == {679}

    def sweep(x, print_loss=True):
        def should_continue(v):
            return jnp.logical_not(jnp.all(v > 10.0))

        if print_loss:
            while should_continue(x):
                x = x * 2.0
            return x
        return jax.lax.while_loop(should_continue, lambda v: v * 2.0, x)

    assert sweep(jnp.ones(2)).tolist() == [16.0, 16.0]
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(sweep, static_argnames=["print_loss"])(jnp.ones(2))


def test_probjax_rejection_sampler_indexes_with_the_accept_mask() -> None:
    """probjax 0.1.0's rejection sampler stores accepted proposals with
    ``samples[accept].set(proposed_samples[accept])`` inside its ``lax.while_loop`` body."""
    assert {e["line"] for e in _true("probjax")} == {79}

    def body(state):
        i, key, samples = state
        key, k1, k2 = jax.random.split(key, 3)
        proposed = jax.random.normal(k1, (4,))
        accept = proposed > jax.random.uniform(k2, (4,))
        samples = samples.at[accept].set(proposed[accept])
        return i + 1, key, samples

    state = (0, jax.random.key(0), jnp.zeros(4))
    with pytest.raises(jax.errors.NonConcreteBooleanIndexError):
        jax.lax.while_loop(lambda s: s[0] < 2, body, state)


def test_genjaxmix_maps_the_class_count_of_one_hot() -> None:
    """genjaxmix 0.1.0's Dirichlet-Categorical marginal likelihood maps ``jax.nn.one_hot`` over
    its ``cardinalities`` with ``in_axes=(None, 0)``: the class count becomes a tracer."""
    assert {e["line"] for e in _true("genjaxmix")} == {79}
    assignments, cardinalities = jnp.array([0, 1, 2]), jnp.array([3, 4])
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.vmap(jax.nn.one_hot, in_axes=(None, 0))(assignments, cardinalities)

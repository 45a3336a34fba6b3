"""Precision of jaxlint on released JAX projects it has never seen (real-code benchmark).

The hazard table measures recall and precision on programs written for it; this measures what a
user sees on published code: every finding on a pinned corpus of PyPI releases, each judged once by
hand in ``benchmarks/realcode_triage.json`` (true: JAX really raises under the transform; false:
the code traces fine). Precision is true / (true + false) over the triaged findings.

    python benchmarks/realcode.py                       # fetch, lint each project and all together
    python benchmarks/realcode.py --slice --check-triage  # the small CI set; exit 1 if untriaged
    python benchmarks/realcode.py --projects optax,flax --fix --json out.json

The releases are downloaded with ``pip download --no-deps`` into a cache outside the repository
(``~/.cache/tracesafe/realcode``, ``--dir``) and only the ``.py`` files of the listed packages are
unpacked: the linter never imports the code it checks, so nothing is installed. Each unpacked
project gets an empty ``pyproject.toml`` so it is its own project root.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TRIAGE = Path(__file__).resolve().parent / "realcode_triage.json"
DEFAULT_DIR = Path.home() / ".cache" / "tracesafe" / "realcode"
FINDING_FIELDS = ("project", "path", "line", "column", "code", "name", "jax_error", "message")
FINDING_FIELDS += ("source", "verdict", "reason", "trace")
MARKER = ".realcode-unpacked"  # in <dir>/src/<project>/: the requirement it was unpacked from


@dataclass(frozen=True)
class Project:
    """A released project: its pinned pip requirement and the package paths to lint in it."""

    name: str
    requirement: str
    packages: tuple[str, ...]

    @property
    def dist_name(self) -> str:
        return self.requirement.split("==")[0]


# Pinned releases (latest on PyPI when the corpus was built). `packages` are paths inside the
# distribution: import packages, or sub-packages where only part of a release is JAX code. Top-level
# `tests`/`docs`/`examples` folders that some wheels ship by mistake are left out (not importable
# packages of the project). Every candidate of the issue downloaded, so none is skipped; jraph has
# only a pre-release on PyPI. The last block widens the corpus past 1M lines.
PROJECTS: tuple[Project, ...] = (
    Project("equinox", "equinox==0.13.8", ("equinox",)),
    Project("optimistix", "optimistix==0.1.0", ("optimistix",)),
    Project("lineax", "lineax==0.1.1", ("lineax",)),
    Project("jaxopt", "jaxopt==0.8.5", ("jaxopt",)),
    Project("numpyro", "numpyro==0.22.0", ("numpyro",)),
    Project("blackjax", "blackjax==1.7.1", ("blackjax",)),
    Project("dm-haiku", "dm-haiku==0.0.17", ("haiku",)),
    Project("rlax", "rlax==0.1.9", ("rlax",)),
    Project("jraph", "jraph==0.0.6.dev0", ("jraph",)),
    Project("jax-md", "jax-md==0.2.29", ("jax_md",)),
    Project("ott-jax", "ott-jax==0.6.0", ("ott",)),
    Project("dynamax", "dynamax==1.0.3", ("dynamax",)),
    Project("gpjax", "gpjax==1.0.0", ("gpjax",)),
    Project("tinygp", "tinygp==0.3.1", ("tinygp",)),
    Project("qdax", "qdax==0.5.0", ("qdax",)),
    Project("evojax", "evojax==0.2.17", ("evojax",)),
    Project("sbx-rl", "sbx-rl==0.28.0", ("sbx",)),
    # The wheel holds only mujoco/mjx (the `mujoco` package itself is another distribution).
    Project("mujoco-mjx", "mujoco-mjx==3.17.0", ("mujoco/mjx",)),
    Project("penzai", "penzai==0.2.5", ("penzai",)),
    Project("chex", "chex==0.1.92", ("chex",)),
    # Only the JAX substrate (generated from the TF sources) and the JAX backend it imports; the
    # TF and NumPy code of the release is not JAX code.
    Project(
        "tensorflow-probability",
        "tensorflow-probability==0.25.0",
        (
            "tensorflow_probability/substrates/jax",
            "tensorflow_probability/python/internal/backend/jax",
        ),
    ),
    Project("distrax", "distrax==0.1.9", ("distrax",)),
    Project("diffrax", "diffrax==0.7.2", ("diffrax",)),
    Project("brax", "brax==0.14.2", ("brax",)),
    Project("jumanji", "jumanji==1.1.2", ("jumanji",)),
    Project("navix", "navix==0.7.4", ("navix",)),
    Project("pgx", "pgx==2.6.0", ("pgx",)),
    Project("mctx", "mctx==0.0.71", ("mctx",)),
    Project("dm-pix", "dm-pix==0.4.5", ("dm_pix",)),
    Project("interpax", "interpax==0.3.16", ("interpax",)),
    Project("quax", "quax==0.4.6", ("quax",)),
    Project("jaxley", "jaxley==0.14.0", ("jaxley",)),
    Project("netket", "netket==3.23.0", ("netket",)),
    Project("gymnax", "gymnax==1.0.1", ("gymnax",)),
    Project("rejax", "rejax==0.1.3", ("rejax",)),
    Project("jaxmarl", "jaxmarl==0.2.0", ("jaxmarl",)),
    Project("evosax", "evosax==0.3.2", ("evosax",)),
    Project("flashbax", "flashbax==0.1.3", ("flashbax",)),
    Project("optax", "optax==0.2.8", ("optax",)),
    Project("flax", "flax==0.12.8", ("flax",)),
    # Beyond the list.
    Project("praxis", "praxis==1.4.0", ("praxis",)),
    Project("paxml", "paxml==1.4.0", ("paxml",)),
    Project("trax", "trax==1.4.1", ("trax",)),
    Project("scico", "scico==0.0.7", ("scico",)),
    Project("jaxns", "jaxns==3.0.0", ("jaxns",)),
    Project("jaxsim", "jaxsim==0.9.0", ("jaxsim",)),
    Project("oryx", "oryx==0.2.9", ("oryx",)),
    Project("neural-tangents", "neural-tangents==0.6.5", ("neural_tangents",)),
    Project("craftax", "craftax==1.6.1", ("craftax",)),
    Project("levanter", "levanter==1.1", ("levanter",)),
    Project("haliax", "haliax==1.3", ("haliax",)),
    Project("flowjax", "flowjax==19.1.2", ("flowjax",)),
    Project("xminigrid", "xminigrid==0.9.3", ("xminigrid",)),
    # Held out, then added (2026-12-07): linted first only after the analysis had last been
    # changed for the projects above, to measure precision on code it was not fitted to.
    # (jax-cosmo, jaxline and jaxlob were left out: sdists only, whose metadata build fails in
    # `pip download` here.)
    Project("jaxfin", "JaxFin==0.3.3", ("jaxfin",)),
    Project("bayesnewton", "bayesnewton==1.3.4", ("bayesnewton",)),
    Project("bayeux-ml", "bayeux-ml==0.1.15", ("bayeux",)),
    Project("clu", "clu==0.0.12", ("clu",)),
    Project("coix", "coix==0.1.0", ("coix",)),
    Project("cola-ml", "cola-ml==0.0.7", ("cola",)),
    Project("dinosaur", "dinosaur==1.5.1", ("dinosaur",)),
    Project("distreqx", "distreqx==0.0.3", ("distreqx",)),
    Project("dopamine-rl", "dopamine-rl==4.1.2", ("dopamine",)),
    Project("dynamiqs", "dynamiqs==0.3.7", ("dynamiqs",)),
    Project("elegy", "elegy==0.5.0", ("elegy",)),
    Project("fjformer", "fjformer==0.0.91", ("fjformer",)),
    Project("jax-cfd", "jax-cfd==0.2.1", ("jax_cfd",)),
    Project("jax-dataclasses", "jax-dataclasses==1.6.3", ("jax_dataclasses",)),
    Project("jax-fem", "jax-fem==0.0.11", ("jax_fem",)),
    Project("jax-finufft", "jax-finufft==1.3.1", ("jax_finufft",)),
    Project("jaxdf", "jaxdf==0.3.0", ("jaxdf",)),
    Project("jaxkan", "jaxkan==0.3.7", ("jaxkan",)),
    Project("jaxlie", "jaxlie==1.5.0", ("jaxlie",)),
    Project("jaxls", "jaxls==2024.0.1", ("jaxls",)),
    Project("jaxoplanet", "jaxoplanet==0.2.0", ("jaxoplanet",)),
    Project("jaxtyping", "jaxtyping==0.3.11", ("jaxtyping",)),
    Project("jaxwt", "jaxwt==0.1.1", ("jaxwt",)),
    Project("kfac-jax", "kfac-jax==0.0.8", ("kfac_jax",)),
    Project("kinetix-env", "kinetix-env==3.0.2", ("kinetix",)),
    Project("mava", "mava==0.1.3", ("mava",)),
    Project("neuralgcm", "neuralgcm==1.2.2", ("neuralgcm",)),
    Project("objax", "objax==1.8.0", ("objax",)),
    Project("optax-shampoo", "optax-shampoo==0.0.6", ("optax_shampoo",)),
    Project("pgmax", "pgmax==0.6.1", ("pgmax",)),
    Project("sympy2jax", "sympy2jax==0.0.8", ("sympy2jax",)),
    Project("treescope", "treescope==0.1.10", ("treescope",)),
    Project("vbjax", "vbjax==0.0.19", ("vbjax",)),
    # A second held-out set (2026-12-07), added the same way.
    Project("augmax", "augmax==0.4.1", ("augmax",)),
    Project("bayex", "bayex==0.3.0", ("bayex",)),
    Project("cd-dynamax", "cd-dynamax==0.5.0", ("cd_dynamax",)),
    Project("celerite2", "celerite2==0.3.3", ("celerite2",)),
    Project("coax", "coax==0.1.13", ("coax",)),
    Project("colabdesign", "colabdesign==1.1.1", ("colabdesign",)),
    Project("easydel", "easydel==0.3.0", ("easydel",)),
    Project("ejkernel", "ejkernel==0.0.80.3", ("ejkernel",)),
    Project("equimo", "equimo==1.1.0", ("equimo",)),
    Project("exojax", "exojax==2.6.0", ("exojax",)),
    Project("fdtdx", "fdtdx==0.6.3", ("fdtdx",)),
    Project("flowmc", "flowMC==0.6.4", ("flowMC",)),
    Project("funsor", "funsor==0.4.8", ("funsor",)),
    Project("grain", "grain==0.2.18", ("grain",)),
    Project("jax-dataloader", "jax-dataloader==0.1.4", ("jax_dataloader",)),
    Project("jax-smi", "jax-smi==1.0.4", ("jax_smi",)),
    Project("jax-tqdm", "jax-tqdm==0.4.0", ("jax_tqdm",)),
    Project("jax-unirep", "jax-unirep==3.0.0", ("jax_unirep",)),
    Project("jaxcapse", "jaxcapse==0.2.0", ("jaxcapse",)),
    Project("jaxkern", "jaxkern==0.0.5", ("jaxkern",)),
    Project("jaxutils", "jaxutils==0.0.8", ("jaxutils",)),
    Project("jestimator", "jestimator==0.3.3", ("jestimator",)),
    Project("kauldron", "kauldron==1.4.2", ("kauldron",)),
    Project("mpax", "mpax==0.2.4", ("mpax",)),
    Project("optimism", "optimism==3.2", ("optimism",)),
    Project("orbax-checkpoint", "orbax-checkpoint==0.12.8", ("orbax",)),
    Project("s2fft", "s2fft==1.5.0", ("s2fft",)),
    Project("sbijax", "sbijax==0.3.4", ("sbijax",)),
    Project("stoa-env", "stoa-env==0.1.2", ("stoa",)),
    Project("treex", "treex==0.6.9", ("treex",)),
    # A third held-out set (2026-12-07), added the same way.
    Project("e3nn-jax", "e3nn_jax==0.21.0", ("e3nn_jax",)),
    Project("econpizza", "econpizza==0.6.10", ("econpizza",)),
    Project("evermore", "evermore==0.4.1", ("evermore",)),
    Project("fmmax", "fmmax==1.7.1", ("fmmax",)),
    Project("gemma", "gemma==3.3.0", ("gemma",)),
    Project("herculens", "herculens==0.3.0", ("herculens",)),
    Project("invrs-gym", "invrs_gym==1.6.2", ("invrs_gym",)),
    Project("invrs-opt", "invrs_opt==0.12.1", ("invrs_opt",)),
    Project("jax-fdm", "jax_fdm==0.14.1", ("jax_fdm",)),
    Project("jax-galsim", "jax_galsim==2026.7.0", ("jax_galsim",)),
    Project("jaxley-mech", "jaxley_mech==0.4.0", ("jaxley_mech",)),
    Project("jaxquantum", "jaxquantum==0.3.0", ("jaxquantum",)),
    Project("jmp", "jmp==0.0.4", ("jmp",)),
    Project("meent", "meent==0.13.2", ("meent",)),
    Project("optimagic", "optimagic==0.5.3", ("estimagic", "optimagic")),
    Project("orbax-export", "orbax_export==0.0.8", ("orbax",)),
    Project("qujax", "qujax==1.1.0", ("qujax",)),
    Project("recurrentgemma", "recurrentgemma==1.0.1", ("recurrentgemma",)),
    Project("sax", "sax==0.18.2", ("sax",)),
    Project("scenic", "scenic==3.1.1", ("scenic",)),
    Project("simple-pytree", "simple_pytree==0.2.2", ("simple_pytree",)),
    Project("skrl", "skrl==2.1.1", ("skrl",)),
    Project("tf2jax", "tf2jax==0.3.8", ("tf2jax",)),
    Project("tree-math", "tree_math==0.2.1", ("tree_math",)),
    # A fourth held-out set (2026-12-07), added the same way.
    Project("alem-env", "alem_env==0.2.1", ("alem",)),
    Project("apax", "apax==0.14.0", ("apax",)),
    Project("aqtp", "aqtp==0.9.0", ("aqt",)),
    Project("asdex", "asdex==0.5.1", ("asdex",)),
    Project("astronomix", "astronomix==0.6.6", ("astronomix",)),
    Project("cfrx", "cfrx==0.0.2", ("cfrx",)),
    Project("coordinax", "coordinax==0.23.5", ("coordinax",)),
    Project("copulax", "copulax==3.0.0", ("copulax",)),
    Project("cr-sparse", "cr_sparse==0.4.0", ("cr",)),
    Project("crazyflow", "crazyflow==0.4.0", ("crazyflow",)),
    Project("cryojax", "cryojax==0.6.0", ("cryojax",)),
    Project("cuthbert", "cuthbert==0.1.1", ("cuthbert",)),
    Project("econox", "econox==0.1.4", ("econox",)),
    Project("efax", "efax==1.22.3", ("efax",)),
    Project("exponax", "exponax==0.2.0", ("exponax",)),
    Project("fedjax", "fedjax==0.0.17", ("fedjax",)),
    Project("flaxdiff", "flaxdiff==0.2.11", ("flaxdiff",)),
    Project("google-tunix", "google_tunix==0.1.7", ("tunix",)),
    Project("jactus", "jactus==0.2.0", ("jactus",)),
    Project("jax-privacy", "jax_privacy==2.0.0", ("jax_privacy",)),
    Project("jaxfolio", "jaxfolio==0.1.1", ("jaxfolio",)),
    Project("jaxonnxruntime", "jaxonnxruntime==0.3.0", ("jaxonnxruntime",)),
    Project("jaxspec", "jaxspec==0.4.1", ("jaxspec",)),
    Project("jaxued", "jaxued==0.0.1", ("jaxued",)),
    Project("liesel", "liesel==0.3.3", ("liesel",)),
    Project("quadax", "quadax==0.3.1", ("quadax",)),
    Project("qwix", "qwix==0.1.8", ("qwix",)),
    Project("ripplegw", "ripplegw==0.4.1", ("ripplegw",)),
    Project("spyx", "spyx==1.0.0", ("spyx",)),
    Project("torax", "torax==1.4.3", ("torax",)),
    # Held-out sets 5 and 6 (2026-12-07), added the same way after their first look (BENCHMARKS.md).
    Project("bamojax", "bamojax==0.4.3", ("bamojax",)),
    Project("brainpy", "brainpy==2.8.2", ("brainpy",)),
    Project("brainstate", "brainstate==0.5.4", ("brainstate",)),
    Project("catx", "catx==0.2.1", ("catx",)),
    Project("cax", "cax==0.3.3", ("cax",)),
    Project("coreax", "coreax==1.0.0", ("coreax",)),
    Project("cosmopower-jax", "cosmopower_jax==0.5.8", ("cosmopower_jax",)),
    Project("cr-nimble", "cr_nimble==0.4.0", ("cr",)),
    Project("cr-wavelets", "cr_wavelets==0.4.0", ("cr",)),
    Project("drjax", "drjax==0.2.1", ("drjax",)),
    Project("fractrics", "fractrics==0.4.0", ("fractrics",)),
    Project("galax", "galax==0.0.2", ("galax",)),
    Project("jax-russell", "jax_russell==0.2.0", ("jax_russell",)),
    Project("jaxtari", "jaxtari==0.2.0", ("jaxtari",)),
    Project("jimgw", "jimgw==0.5.2", ("jimgw",)),
    Project("jwave", "jwave==0.2.1", ("jwave",)),
    Project("kernex", "kernex==0.2.1", ("kernex",)),
    Project("lagrangebench", "lagrangebench==0.0.1", ("lagrangebench",)),
    Project("matfree", "matfree==0.6.3", ("matfree",)),
    Project("pytreeclass", "pytreeclass==0.11.1", ("pytreeclass",)),
    Project("ramsey", "ramsey==0.3.0", ("ramsey",)),
    Project("rax", "rax==0.4.0", ("rax",)),
    Project("s2wav", "s2wav==1.0.4", ("s2wav",)),
    Project("serket", "serket==0.1.0", ("finitediffx",)),
    Project("surjectors", "surjectors==0.3.3", ("surjectors",)),
    Project("tjax", "tjax==1.3.13", ("tjax",)),
    Project("torchax", "torchax==0.0.13", ("torchax",)),
    Project("unxt", "unxt==1.11.4", ("unxt",)),
    Project("xlb", "xlb==0.3.1", ("xlb",)),
    Project("astrodynx", "astrodynx==0.9.12", ("astrodynx",)),
    Project("astrojax", "astrojax==0.8.0", ("astrojax",)),
    Project("bbobax", "bbobax==0.2.3", ("bbobax",)),
    Project("bijx", "bijx==1.3.2", ("bijx",)),
    Project("boax", "boax==0.2.0", ("boax",)),
    Project("circulax", "circulax==0.1.7", ("circulax",)),
    Project("connex", "connex==0.3.3", ("connex",)),
    Project("contrax", "contrax==0.1.0", ("contrax",)),
    Project("coordax", "coordax==0.2.8", ("coordax",)),
    Project("cuthbertlib", "cuthbertlib==0.1.1", ("cuthbertlib",)),
    Project("cyreal", "cyreal==0.2.1", ("cyreal",)),
    Project("dfax", "dfax==0.1.22", ("dfax",)),
    Project("esquilax", "esquilax==2.1.0", ("esquilax",)),
    Project("evorl-jax", "evorl_jax==0.1.1", ("evorl",)),
    Project("fabricpc", "fabricpc==0.6.0", ("fabricpc",)),
    Project("factoriax", "factoriax==0.1.0", ("factoriax",)),
    Project("feax", "feax==0.8.0", ("feax",)),
    Project("floxs", "floxs==0.1.1", ("floxs",)),
    Project("folx", "folx==0.2.30", ("folx",)),
    Project("frax", "frax==0.1.0", ("frax",)),
    Project("furax", "furax==0.11.3", ("furax",)),
    Project("genjax", "genjax==0.10.3", ("genjax",)),
    Project("gfnx", "gfnx==0.0.1", ("gfnx",)),
    Project("gwkokab", "gwkokab==0.3.1", ("gwkokab",)),
    Project("gxm", "gxm==0.4.0", ("gxm",)),
    Project("halox", "halox==2.1.1", ("halox",)),
    Project("hamon", "hamon==0.4.0", ("hamon",)),
    Project("hj-reachability", "hj_reachability==0.7.0", ("hj_reachability",)),
    Project("hyperiax", "hyperiax==3.0.0", ("hyperiax",)),
    Project("inox", "inox==0.8.0", ("inox",)),
    Project("isssm", "isssm==0.2.0", ("isssm",)),
    Project("jaddle", "jaddle==0.2.6", ("jaddle",)),
    # Held-out set 7 (2026-12-07), added after its first look.
    Project("jax2d", "jax2d==1.0.2", ("jax2d",)),
    Project("jax-morph", "jax_morph==0.4.0", ("jax_morph",)),
    Project("jax-sysid", "jax_sysid==1.1.0", ("jax_sysid",)),
    Project("jaxadi", "jaxadi==0.4.0", ("jaxadi",)),
    Project("jaxagents", "jaxagents==0.2.5", ("jaxagents",)),
    Project("jaxarc", "jaxarc==1.0.3", ("jaxarc",)),
    Project("jaxgcrl", "jaxgcrl==0.2.8", ("jaxgcrl",)),
    Project("jaxkineticmodel", "jaxkineticmodel==0.0.4", ("jaxkineticmodel",)),
    Project("jaxpm", "jaxpm==0.1.6", ("jaxpm",)),
    Project("jaxscape", "jaxscape==0.0.13", ("jaxscape",)),
    Project("jaxvmas", "jaxvmas==0.0.1a1", ("jaxvmas",)),
    Project("jinns", "jinns==1.10.2", ("jinns",)),
    Project("jorbit", "jorbit==1.7.1", ("jorbit",)),
    Project("kalmax", "kalmax==0.3.0", ("kalmax",)),
    Project("kheperax", "kheperax==0.2.0", ("kheperax",)),
    Project("kozax", "kozax==0.1.5", ("kozax",)),
    Project("laplax", "laplax==0.0.2", ("laplax",)),
    Project("ludax", "ludax==1.0.0", ("ludax",)),
    Project("mahjax", "mahjax==0.1.6", ("mahjax",)),
    Project("mapox", "mapox==0.2.0", ("mapox",)),
    Project("matrax", "matrax==0.0.5", ("matrax",)),
    Project("mdpax", "mdpax==0.2.2", ("mdpax",)),
    Project("memorax", "memorax==1.0.1", ("memorax",)),
    # Held-out set 8 (2026-12-07), added after its first look.
    Project("nanodl", "nanodl==0.0.0", ("nanodl",)),
    Project("nnx-ppo", "nnx_ppo==0.3.0", ("nnx_ppo",)),
    Project("octax", "octax==0.1.1", ("octax",)),
    Project("openscvx", "openscvx==0.5.2", ("openscvx",)),
    Project("parajax", "parajax==0.3.5", ("parajax",)),
    Project("parallax-rl", "parallax_rl==0.4.0", ("parallax",)),
    Project("pcx", "pcx==0.6.3", ("pcx",)),
    Project("pdequinox", "pdequinox==0.1.2", ("pdequinox",)),
    Project("phyjax2d", "phyjax2d==0.5.0", ("phyjax2d",)),
    Project("pyrddlgym-jax", "pyrddlgym_jax==3.1", ("pyRDDLGym_jax",)),
    Project("qpax", "qpax==0.1.4", ("qpax",)),
    Project("quantax", "quantax==0.4.0", ("quantax",)),
    Project("queuinx", "queuinx==0.0.3", ("queuinx",)),
    Project("raytrax", "raytrax==0.6.0", ("raytrax",)),
    Project("rex-lib", "rex_lib==0.0.12", ("rex",)),
    Project("rl-blox", "rl_blox==0.5.7", ("rl_blox",)),
    Project("sbiax", "sbiax==0.0.57", ("sbiax",)),
    Project("smcjax", "smcjax==1.1.0", ("smcjax",)),
    Project("snnax", "snnax==0.0.1", ("snnax",)),
    Project("spectrax", "spectrax==0.2.1", ("spectrax",)),
    Project("stable-gymnax", "stable_gymnax==0.0.1", ("gymnax",)),
    Project("statjax", "statjax==0.0.8", ("statjax",)),
    Project("stochastix", "stochastix==0.2.0", ("stochastix",)),
    Project("streamax", "streamax==0.4.0", ("StreaMAX",)),
    # Held-out set 9 (2026-12-07), added after its first look.
    Project("crn-jax", "crn_jax==0.3.1", ("crn_jax",)),
    Project("dg-solvax", "dg_solvax==0.1.1", ("dg_solvax",)),
    Project("diffusionjax", "diffusionjax==0.1.8", ("diffusionjax",)),
    Project("ecojax", "ecojax==1.1", ("ecojax",)),
    Project("envrax", "envrax==0.1.10", ("envrax",)),
    Project("gallifrey", "gallifrey==0.1.1", ("gallifrey",)),
    Project("gkx", "gkx==2.7.0", ("gkx",)),
    Project("goal-jax", "goal_jax==0.0.1", ("goal",)),
    Project("gpax", "gpax==0.1.9", ("gpax",)),
    Project("hgfx", "hgfx==1.0.0", ("hgfx",)),
    Project("jax-lab", "jax_lab==0.6.2", ("jax_lab",)),
    Project("jaxion", "jaxion==0.0.13", ("jaxion",)),
    Project("jaxkd", "jaxkd==0.1.2", ("jaxkd",)),
    Project("jaxlatt", "jaxlatt==0.0.7", ("jaxlatt",)),
    Project("jaxnasium", "jaxnasium==0.1.1", ("jaxnasium",)),
    Project("jaxtronomy", "jaxtronomy==0.1.5", ("jaxtronomy",)),
    Project("jcm", "jcm==3.0.0", ("jcm",)),
    Project("latticebmjax", "latticebmjax==1.0.1", ("latticebmjax", "solvers")),
    Project("librosax", "librosax==0.1.2", ("librosax",)),
    Project("linrax", "linrax==0.3.0", ("linrax",)),
    Project("lrux", "lrux==0.2.0", ("lrux",)),
    Project("lynnx", "lynnx==0.0.1.post1", ("lynnx",)),
    Project("marl-battlegrounds", "marl_battlegrounds==1.0.3", ("marl_battlegrounds",)),
    Project("microlux", "microlux==0.3.0", ("microlux",)),
    Project("mujorax", "mujorax==0.1.6", ("mujorax",)),
    Project("myriad-jax", "myriad_jax==0.2.0", ("myriad",)),
    Project("nashbench", "nashbench==0.2.0", ("nashbench",)),
    Project("odax", "odax==0.0.2", ("odax",)),
    Project("orbitalgym", "orbitalgym==0.1.0", ("orbitalgym",)),
    Project("paramax", "paramax==0.0.5", ("paramax",)),
    Project("pobax", "pobax==0.0.1", ("pobax",)),
    Project("ptyrodactyl", "ptyrodactyl==2026.3.24", ("ptyrodactyl",)),
    Project("rheojax", "rheojax==0.7.1", ("rheojax",)),
    Project("riemannax", "riemannax==0.0.3", ("manifolds", "optimizers", "problems", "solvers")),
    Project("sgp4jax", "sgp4jax==0.1.6", ("sgp4jax",)),
    Project("slsqp-jax", "slsqp_jax==0.21.1", ("slsqp_jax",)),
    Project("tbats-jax", "tbats_jax==0.1.1", ("tbats_jax",)),
    # held-out batch 11 (first linted 2026-12-07, session 7; single-module wheels, an sdist and
    # plugins or packages without JAX code left out, none of them with findings)
    Project("bolojax", "bolojax==0.7.2", ("bolojax",)),
    Project("brepax", "brepax==0.6.1", ("brepax",)),
    Project("convnet", "convnet==2.5.3", ("convnet",)),
    Project("cosmonf", "cosmonf==0.0.5", ("cosmonf",)),
    Project("discretax", "discretax==0.3.0", ("discretax",)),
    Project("dynaris", "dynaris==0.1.2", ("dynaris",)),
    Project("fixedpointjax", "FixedPointJAX==0.0.25", ("FixedPointJAX",)),
    Project("fkptjax", "fkptjax==0.2.1", ("fkptjax",)),
    Project("flarenet", "flarenet==0.3.15", ("flarenet",)),
    Project("grater-jax", "grater_jax==0.3.0", ("grater_jax",)),
    Project("ai-helpers-jax-utils", "ai_helpers_jax_utils==0.1.0a2", ("jax_utils",)),
    Project("jaxcld", "jaxcld==0.2.4", ("jaxcld",)),
    Project("jaxmsst", "jaxmsst==0.1.0", ("jaxmsst",)),
    Project("jaxnu", "jaxnu==0.2.4", ("jaxnu",)),
    Project("jaxogo", "jaxogo==0.1.1", ("jaxogo",)),
    Project("jaxprop", "jaxprop==0.5.7", ("jaxprop",)),
    Project("jaxspd", "jaxspd==0.1.4", ("jaxspd",)),
    Project("jnlr", "jnlr==0.1.2", ("jnlr",)),
    Project("kernax-ml", "kernax_ml==0.7.6a0", ("kernax",)),
    Project("magpylib-jax", "magpylib_jax==3.0.0", ("magpylib_jax",)),
    Project("minigenjax", "minigenjax==0.1.0", ("minigenjax",)),
    Project("mkin4py", "mkin4py==2.0.0", ("mkin4py",)),
    Project("mwa-jaxbeam", "mwa_jaxbeam==0.2.0", ("mwa_jaxbeam",)),
    Project("neo-jax", "neo_jax==1.1.1", ("neo_jax",)),
    Project("nexusim", "nexusim==0.2.0", ("nexus",)),
    Project("nlpoptnet", "nlpoptnet==0.1.1", ("jaxmodel", "nlpoptnet", "opt")),
    Project("ojax", "ojax==4.0.1", ("ojax",)),
    Project("openferro", "openferro==0.3.0", ("openferro",)),
    Project("polytopax", "polytopax==0.0.1", ("polytopax",)),
    Project("shardes", "shardes==0.1.1", ("shardes",)),
    Project("smcx", "smcx==2.1.0", ("smcx",)),
    Project("spectrux", "spectrux==0.0.1", ("spectrux",)),
    Project("tinydiffeq", "tinydiffeq==2.6.1", ("tinydiffeq",)),
    Project("tnkm", "tnkm==0.1.0", ("tnkm",)),
    Project("tqdx", "tqdx==0.1.5", ("tqdx",)),
    Project("tsxtract", "tsxtract==0.1.0", ("tsxtract",)),
    Project("underpinn", "underpinn==2608", ("underPINN",)),
    # held-out batch 12 (first linted 2026-12-07, session 8; two sdist-only releases left out,
    # neither with findings)
    Project("adv-jax-math", "adv_jax_math==1.3", ("adv_jax_math",)),
    Project("amjax", "amjax==0.0.3", ("amjax",)),
    Project("cryojax-eo", "cryojax_eo==0.3.2", ("cryojax_eo",)),
    Project("cutejax", "cutejax==0.1.5", ("cutejax",)),
    Project("essm-jax", "essm_jax==1.0.2", ("essm_jax",)),
    Project("flapjax-full", "flapjax_full==1.3.13", ("flapjax",)),
    Project("flapjax-model-gen", "flapjax_model_gen==0.1.88", ("flapjax_model_gen",)),
    Project("fracjax", "fracjax==0.1.1", ("fracjax",)),
    Project("gemseo-jax", "gemseo_jax==2.1.1", ("gemseo_jax",)),
    Project("hough-jax", "hough_jax==0.2", ("hough_jax",)),
    Project(
        "image-classification-jax", "image_classification_jax==0.1.4", ("image_classification_jax",)
    ),
    Project("jax-cce", "jax_cce==0.1.0", ("jax_cce",)),
    Project("jax-datetime", "jax_datetime==0.1.2", ("jax_datetime",)),
    Project("jax-ml-stack", "jax_ml_stack==0.0.0", ("jax_ml_stack",)),
    Project("jax-pcmci", "jax_pcmci==1.4.0", ("jax_pcmci",)),
    Project("jax-pme", "jax_pme==0.1.0", ("jaxpme",)),
    Project("jax-scipy-spatial", "jax_scipy_spatial==0.2.6", ("jax_scipy_spatial",)),
    Project("jax-sn", "jax_sn==0.1.0", ("jax_sn",)),
    Project("jax-solitons", "jax_solitons==0.1.0", ("jax_solitons",)),
    Project("jax-spatial", "jax_spatial==0.1.0", ("jax_spatial",)),
    Project("jaxfne", "jaxfne==0.5.8", ("jaxfne",)),
    Project("jaxgl", "jaxgl==1.0.1", ("jaxgl",)),
    Project("jaxhps", "jaxhps==0.2", ("jaxhps",)),
    Project("jaxili", "jaxili==0.1.3", ("jaxili",)),
    Project("jaxknn", "jaxknn==0.1.1", ("jaxknn",)),
    Project("jaxlayerlumos", "jaxlayerlumos==0.3.5", ("jaxlayerlumos",)),
    Project("jaxlem", "jaxlem==0.1.8", ("jaxlem",)),
    Project("jaxlens", "jaxlens==0.0.1", ("jaxlens",)),
    Project("jaxpip", "jaxpip==1.0.0", ("jaxpip",)),
    Project("jaxstar", "jaxstar==0.1.1", ("jaxstar",)),
    Project("jaxvacua", "jaxvacua==0.1.2", ("jaxvacua",)),
    Project("kim-jax", "kim_jax==1.4.0", ("kim",)),
    Project("lorem-jax", "lorem_jax==0.2.0", ("lorem",)),
    Project("minijax", "minijax==0.1.1", ("minijax",)),
    Project("numba4jax", "numba4jax==0.0.14", ("numba4jax",)),
    Project("phijax", "phijax==0.2.0b5", ("phijax",)),
    Project("pylcp-jax", "pylcp_jax==0.0.1", ("pylcp_jax",)),
    Project("rnn-jax", "rnn_jax==0.0.2", ("rnn_jax",)),
    Project("roughpy-jax", "roughpy_jax==1.2.0", ("roughpy_jax",)),
    Project("sapphire-jax", "sapphire_jax==0.130", ("sapphire",)),
    Project("sglang-jax", "sglang_jax==0.0.2", ("sgl_jax",)),
    Project("starccato-jax", "starccato_jax==0.4.0", ("starccato_jax",)),
    Project("stringjax-tools", "stringjax_tools==0.1.0", ("stringjax_tools",)),
    Project("transjax", "transjax==0.1.0", ("transjax",)),
    Project("umapjax", "umapjax==0.1.0", ("umapjax",)),
    Project("vijax", "vijax==0.0.3", ("vijax",)),
    # held-out batch 14 (first linted 2026-12-08, session 9; drawn from the PyPI names with
    # `jax` in them, released 2024-06 or later; CUDA kernel wheels and one that failed to
    # fetch left out)
    Project("abjax", "abjax==0.0.1", ("abjax",)),
    Project("adjaxt", "adjaxt==0.0.2.34", ("adjaxt",)),
    Project("algebraic-jax", "algebraic-jax==1.0.0", ("algebraic",)),
    Project("almond-jaxls", "almond-jaxls==0.1.0", ("jaxls",)),
    Project("booz-xform-jax", "booz-xform-jax==0.5.3", ("booz_xform_jax",)),
    Project("bqskit-qfactor-jax", "bqskit-qfactor-jax==1.0.1", ("qfactorjax",)),
    Project("clapeyron-jax", "clapeyron-jax==0.0.9", ("clapeyron_jax",)),
    Project(
        "clm-ml-jax",
        "clm-ml-jax==0.1.0",
        (
            "offline_driver",
            "clm_src_cpl",
            "clm_src_main",
            "clm_src_biogeophys",
            "multilayer_canopy",
            "clm_src_utils",
            "clm_share",
            "utils",
            "offline_executable",
        ),
    ),
    Project("cyjax-cti", "cyjax-cti==2.2.0", ("cyjax",)),
    Project("fa4-jax", "fa4-jax==0.1.0", ("fa4_jax",)),
    Project("fpt-jax", "fpt-jax==0.2.0", ("fpt_jax",)),
    Project("jax-causal", "jax-causal==0.1.0", ("jax_causal",)),
    Project("jax-cgd", "jax-cgd==1.0.4", ("jax_cgd",)),
    Project("jax-decision-making", "jax-decision-making==0.0.3", ("jax_decision_making",)),
    Project("jax-grid-search", "jax-grid-search==0.2.1", ("jax_grid_search",)),
    Project("jax-image-models", "jax-image-models==0.4.0", ("jimm",)),
    Project("jax-jynx", "jax-jynx==0.3.1", ("jynx",)),
    Project("jax-solar", "jax-solar==0.1.1", ("jax_solar",)),
    Project("jaxfi", "jaxfi==0.7.3", ("jaxfi",)),
    Project("jaxflow", "jaxflow==0.1.5.dev0", ("jaxflow",)),
    Project("jaxility", "jaxility==1.1.0", ("jaxility",)),
    Project("jaxmod", "jaxmod==0.4.0", ("jaxmod",)),
    Project("jaxparrow", "jaxparrow==1.1.1", ("jaxparrow",)),
    Project("jaxpurify", "jaxpurify==0.0.2", ("jaxpurify",)),
    Project("jaxsnn", "jaxsnn==0.3.0", ("jaxsnn",)),
    Project("jaxtorch", "jaxtorch==0.6.0", ("jaxtorch",)),
    Project("jaxtra", "jaxtra==0.0.2", ("jaxtra",)),
    Project("jaxvidflow", "jaxvidflow==0.0.8", ("JaxVidFlow",)),
    Project("lovely-jax", "lovely-jax==0.1.4", ("lovely_jax",)),
    Project("mamba2-jax", "mamba2-jax==1.1.2", ("mamba2_jax",)),
    Project("mamba3-jax", "mamba3-jax==1.0.1", ("mamba3_jax",)),
    Project("noxjax", "noxjax==0.4.0", ("flarejax",)),
    Project("paxjaxlib", "paxjaxlib==0.2.1", ("paxjaxlib",)),
    Project("pdmp-jax", "pdmp-jax==0.1.1", ("pdmp_jax",)),
    Project("pemjax", "pemjax==0.2.3", ("pemja",)),
    Project("probjax", "probjax==0.1.0", ("probjax",)),
    Project("qjax", "qjax==0.2.0", ("qjax",)),
    Project("scikit-jax", "scikit-jax==0.0.2", ("skjax",)),
    Project("sedpy-jax", "sedpy-jax==0.1.1", ("sedpy_jax",)),
    Project("sfincs-jax", "sfincs-jax==1.2.0", ("sfincs_jax",)),
    Project("sphericart-jax", "sphericart-jax==2.0.4", ("sphericart",)),
    Project("stljax", "stljax==1.1.3", ("stljax",)),
    Project("stories-jax", "stories-jax==0.1.1", ("stories",)),
    # held-out batch 15 (first linted 2026-12-08, session 9; the next 50 of the same draw)
    Project("ace-jax", "ace-jax==0.4.1", ("ace_jax",)),
    Project("actinn-jax", "actinn-jax==0.3.1", ("actinn_jax",)),
    Project("agrijax", "agrijax==0.0.1", ("agrijax",)),
    Project("bayesjax", "bayesjax==0.7.0", ("bayesjax",)),
    Project("bbob-jax", "bbob-jax==2.1.0", ("bbob_jax",)),
    Project("cbfjax", "cbfjax==0.2.0", ("cbfjax",)),
    Project("clausal-jax", "clausal-jax==0.1.0", ("clausal",)),
    Project("clip-jax", "clip-jax==0.0.6", ("clip_jax",)),
    Project("cyjax-misp-input-module", "cyjax-misp-input-module==1.2.0", ("cyjax_misp",)),
    Project("djaxei", "djaxei==1.2.2", ("djaxei",)),
    Project("flash-attn3-jax", "flash-attn3-jax==0.2.3", ("flash_attn3_jax",)),
    Project("genjaxmix", "genjaxmix==0.1.0", ("genjaxmix",)),
    Project("geojax", "geojax==0.1.1", ("geojax",)),
    Project("ginjax", "ginjax==0.1.8", ("ginjax",)),
    Project("gridvoting-jax", "gridvoting-jax==0.50.0", ("gridvoting_jax",)),
    Project(
        "jax-bidirectional-tree-rake-compress",
        "jax-bidirectional-tree-rake-compress==0.3.6",
        ("jax_bidirectional_tree_rake_compress",),
    ),
    Project("jax-bigvgan", "jax-bigvgan==0.0.8", ("jax_bigvgan",)),
    Project("jax-cdft", "jax-cdft==0.0.2", ("jax_cdft",)),
    Project("jax-envelope", "jax-envelope==0.6.1", ("envelope",)),
    Project("jax-sbgeom", "jax-sbgeom==0.1.1", ("jax_sbgeom",)),
    Project("jax-scalify", "jax-scalify==0.1.1", ("jax_scalify",)),
    Project("jax-tvm-ffi", "jax-tvm-ffi==0.1.3", ("jax_tvm_ffi",)),
    Project("jax2onnx", "jax2onnx==0.17.1", ("jax2onnx",)),
    Project("jaxabm", "jaxabm==0.1.5", ("jaxabm",)),
    Project("jaxcmr", "jaxcmr==0.1.1", ("jaxcmr",)),
    Project("jaxdecomp", "jaxdecomp==0.3.4", ("jaxdecomp",)),
    Project("jaxdiffmodal", "jaxdiffmodal==0.1.0", ("jaxdiffmodal",)),
    Project("jaxfm", "jaxfm==0.1.3", ("jaxfm",)),
    Project("jaxfvld", "jaxfvld==0.1.0", ("jaxfvld",)),
    Project("jaxglm", "jaxglm==0.1.1", ("jaxglm",)),
    Project("jaxmix", "jaxmix==0.1.0", ("jaxmix",)),
    Project("jaxn", "jaxn==0.0.5", ("jaxn",)),
    Project("jaxopensimplexnoise", "jaxopensimplexnoise==0.1.0", ("jaxopensimplexnoise",)),
    Project("jaxplorer", "jaxplorer==0.2.0", ("jaxplorer",)),
    Project("jaxpolylog", "jaxpolylog==0.4.0", ("jaxpolylog",)),
    Project("jaxpy", "jaxpy==0.0.0", ("jaxpy",)),
    Project("jaxray", "jaxray==0.1.0", ("jaxray",)),
    Project("jaxtyc", "jaxtyc==0.7.2", ("jaxtyc",)),
    Project("jaxvlse", "jaxvlse==0.1.3", ("vlse",)),
    Project("matlab4jax", "matlab4jax==0.1.6", ("matlab4jax",)),
    Project("nerva-jax", "nerva-jax==1.0.0", ("nerva_jax",)),
    Project("neural-compressor-jax", "neural-compressor-jax==3.10", ("neural_compressor",)),
    Project("ninjax", "ninjax==3.6.3", ("ninjax",)),
    Project("phasespace-jax", "phasespace-jax==2.0.1", ("phasespace",)),
    Project("quickjax", "quickjax==0.1.0", ("quickjax",)),
    Project("tinyjax", "tinyjax==0.1.0.dev0", ("tinyjax",)),
    Project("torch2jax", "torch2jax==0.1.0", ("torch2jax",)),
    Project("waxjax", "waxjax==0.1.0", ("safejax", "waxjax")),
    Project("zoomy-jax", "zoomy-jax==0.1.0", ("zoomy_jax",)),
    # held-out batch 16 (first linted 2026-12-08, session 9; PyPI names with flax, equinox, eqx,
    # optax, gymnax, brax, numpyro, diffrax, pallas or haiku in them that depend on one of
    # those or on jax, released 2024-06 or later: 26 wheels)
    Project("aura-optax", "aura-optax==0.1.0", ("aura_optax",)),
    Project("bilby-numpyro", "bilby-numpyro==0.0.1", ("bilby_numpyro",)),
    Project("calibrax", "calibrax==0.1.14", ("calibrax",)),
    Project("diffraxtra", "diffraxtra==1.6.0", ("diffraxtra",)),
    Project("eqx-cam", "eqx-cam==0.1.2", ("eqx_cam",)),
    Project("eqx-learn", "eqx-learn==0.2.4", ("eqxlearn",)),
    Project("eqx-zoo", "eqx-zoo==0.3.5", ("eqx_zoo",)),
    Project("eqxbatch", "eqxbatch==0.3.0", ("eqxbatch",)),
    Project("eqxconfig", "eqxconfig==1.0.3", ("eqxconfig",)),
    Project("eqxpress", "eqxpress==0.0.4", ("eqxpress",)),
    Project("flax-metrics", "flax-metrics==0.4.0", ("flax_metrics",)),
    Project("flax-orbax", "flax-orbax==0.1.4", ("flax_orbax",)),
    Project("flax-pilot", "flax-pilot==0.2.5", ("fpilot",)),
    Project("flax-weightwatcher", "flax-weightwatcher==0.1.1", ("flax_weightwatcher",)),
    Project("flaxspeaker", "flaxspeaker==0.4.0", ("flaxspeaker",)),
    Project("fleqx", "fleqx==0.0.5", ("fleqx",)),
    Project("gdn2-pallas", "gdn2-pallas==0.1.1", ("atomic_ops",)),
    Project("hyperoptax", "hyperoptax==0.2.0", ("hyperoptax",)),
    Project("nequip-eqx", "nequip-eqx==0.1.0", ("nequip_eqx",)),
    Project("numpyro-forecast", "numpyro-forecast==0.4.0", ("numpyro_forecast",)),
    Project("numpyro-inferutils", "numpyro-inferutils==0.2.2", ("numpyro_inferutils",)),
    Project("numpyro-oop", "numpyro-oop==0.1.1", ("numpyro_oop",)),
    Project("numpyro-schechter", "numpyro-schechter==1.1.0", ("numpyro_schechter",)),
    Project("oncequinox", "oncequinox==0.1.0", ("oncequinox",)),
    Project("pallas-forge", "pallas-forge==0.1.2", ("pallas_forge",)),
    Project("synthetic-gymnax", "synthetic-gymnax==0.0.1", ("synthetic_gymnax",)),
)

# Small wheels that download in seconds: run in CI. optax has findings (true ones, triaged), so
# the slice exercises triage matching and --fix too.
SLICE: tuple[str, ...] = ("rejax", "quax", "optax")

# pip's words when it cannot reach the index at all (as opposed to a package it cannot find).
NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution"
    r"|Name or service not known|Network is unreachable|ConnectTimeout|ProxyError"
    r"|Max retries exceeded|No route to host|Connection refused|ReadTimeoutError",
)


class FetchError(RuntimeError):
    """pip could not download a pinned release, or its archive holds none of the listed packages."""

    def __init__(self, project: str, output: str) -> None:
        super().__init__(f"{project}: {output.strip()[-2000:]}")
        self.project = project
        self.output = output

    @property
    def index_unreachable(self) -> bool:
        """True when pip failed because it reached no index (the only reason tests may skip):
        pip's connection warnings, or (with retries off pip prints none) no version found and
        the index itself not answering."""
        if NETWORK_ERRORS.search(self.output):
            return True
        return "(from versions: none)" in self.output and not index_answers(self.project)


def index_answers(project: str) -> bool:
    """Whether pip's index URL (as ``pip config list`` resolves it) answers for ``project``."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    url = "https://pypi.org/simple"
    for line in proc.stdout.splitlines():  # files first, the environment last: the last one wins
        key, _, value = line.partition("=")
        if key.endswith(".index-url"):
            url = value.strip().strip("'\"")
    if not url.startswith(("http://", "https://")):
        return True  # a local index: nothing to reach
    dist = next((p.dist_name for p in PROJECTS if p.name == project), project)
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/{dist}/", timeout=30):
            return True
    except (OSError, ValueError):
        return False


# ---------------------------------------------------------------------------------------- fetch


def _download(project: Project, dist_dir: Path) -> Path:
    """The release archive in ``dist_dir``, downloaded by pip unless already there."""
    existing = _archives(dist_dir)
    if existing:
        return existing[0]
    dist_dir.mkdir(parents=True, exist_ok=True)
    # The source is read, never installed: a release that asks for a newer Python still counts.
    base = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--ignore-requires-python",
        "--dest",
        str(dist_dir),
    ]
    # Wheels first (no build step); an sdist only where no wheel exists. The sdist's metadata is
    # built in isolation with wheels of its build tools (`--no-binary` names only the project: a
    # setuptools_scm project built without its build tools reports version 0.0.0 and is refused).
    output = ""
    for extra in (["--only-binary=:all:"], [f"--no-binary={project.dist_name}"]):
        proc = subprocess.run(
            [*base, *extra, project.requirement],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        output += proc.stdout + proc.stderr
        found = _archives(dist_dir)
        if proc.returncode == 0 and found:
            return found[0]
        if NETWORK_ERRORS.search(output):
            break
    raise FetchError(project.name, output)


def _archives(dist_dir: Path) -> list[Path]:
    if not dist_dir.is_dir():
        return []
    return sorted(
        (p for p in dist_dir.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip"))),
        key=lambda p: not p.name.endswith(".whl"),
    )


def _members(archive: Path) -> Iterable[tuple[str, bytes]]:
    """(path inside the distribution, bytes) of each ``.py`` file; sdists lose their top folder."""
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".py") and not info.is_dir():
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                handle = tf.extractfile(member)
                if handle is not None:
                    name = member.name.split("/", 1)[1] if "/" in member.name else member.name
                    # src/ layouts: src/pkg/... -> pkg/...
                    yield name.removeprefix("src/"), handle.read()


def _wanted(name: str, packages: Sequence[str]) -> bool:
    """A file of a listed package, or an ``__init__.py`` of a package above one (module names
    come from the ``__init__.py`` files above a file: without them the TFP substrate's
    ``substrates/jax`` would be named like the real ``jax``)."""
    for pkg in packages:
        if name.startswith(pkg + "/"):
            return True
        parent = name.rsplit("/", 1)[0]
        if name.endswith("/__init__.py") and (pkg + "/").startswith(parent + "/"):
            return True
    return False


def fetch(project: Project, root: Path) -> Path:
    """``<root>/src/<project>`` with the ``.py`` files of the listed packages; idempotent."""
    dest = root / "src" / project.name
    marker = dest / MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == project.requirement:
        return dest
    archive = _download(project, root / "dist" / project.name)
    if dest.exists():
        shutil.rmtree(dest)
    count = 0
    for name, data in _members(archive):
        if _wanted(name, project.packages) and ".." not in name.split("/"):
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            count += 1
    if count == 0:
        raise FetchError(
            project.name, f"{archive.name} holds none of {', '.join(project.packages)}"
        )
    (dest / "pyproject.toml").write_text("", encoding="utf-8")
    marker.write_text(project.requirement + "\n", encoding="utf-8")
    return dest


# ----------------------------------------------------------------------------------------- lint


@dataclass
class LintRun:
    """One ``jaxlint check`` subprocess: its findings (project-relative paths) and wall time."""

    status: str  # ok | timeout | error
    seconds: float
    findings: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _jaxlint(
    args: Sequence[str], timeout: float
) -> tuple[str, subprocess.CompletedProcess[str] | None, float]:
    """Run this worktree's jaxlint (cwd and PYTHONPATH are the repo root, whatever is installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "jaxlint", "check", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", None, time.perf_counter() - t0
    return "ok", proc, time.perf_counter() - t0


def lint(dirs: dict[str, Path], timeout: float) -> LintRun:
    """Lint the given project directories in one run; each finding gets ``project`` and a
    ``path`` relative to its project directory."""
    status, proc, seconds = _jaxlint(
        [*map(str, dirs.values()), "--format", "json", "--exit-zero", "--no-cache"], timeout
    )
    if proc is None:
        return LintRun(status, seconds, error=f"no result after {timeout:.0f} s")
    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return LintRun(
            "error", seconds, error=f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"
        )
    if proc.returncode != 0:
        return LintRun(
            "error", seconds, error=f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"
        )
    roots = {name: d.resolve() for name, d in dirs.items()}
    findings = []
    for item in raw:
        path = Path(item["path"])
        path = (path if path.is_absolute() else REPO / path).resolve()
        for name, base in roots.items():
            if path.is_relative_to(base):
                rel = path.relative_to(base).as_posix()
                source = _source_line(path, int(item["line"]))
                findings.append({**item, "project": name, "path": rel, "source": source})
                break
        else:
            return LintRun("error", seconds, error=f"finding outside the projects: {item['path']}")
    return LintRun("ok", seconds, findings)


_LINES: dict[Path, list[str]] = {}


def _source_line(path: Path, line: int) -> str:
    if path not in _LINES:
        _LINES[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
    lines = _LINES[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def finding_key(f: dict[str, Any]) -> tuple[Any, ...]:
    """Identity of a finding across runs (alone vs together)."""
    return (f["project"], f["path"], f["line"], f["column"], f["code"], f["message"])


def count_lines(directory: Path) -> tuple[int, int]:
    """(files, non-empty lines) of the ``.py`` files under ``directory``."""
    files = lines = 0
    for path in sorted(directory.rglob("*.py")):
        files += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        lines += sum(1 for line in text.splitlines() if line.strip())
    return files, lines


# --------------------------------------------------------------------------------------- triage


def load_triage(path: Path) -> list[dict[str, Any]]:
    """The hand-made verdicts; an entry must name project, path, line, code, source, verdict."""
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    for i, entry in enumerate(entries):
        missing = {"project", "path", "line", "code", "source", "verdict", "reason"} - entry.keys()
        if missing or entry["verdict"] not in ("true", "false"):
            raise SystemExit(
                f"{path}: entry {i} is malformed (missing {sorted(missing)} or bad verdict)"
            )
    return entries


def apply_triage(
    findings: list[dict[str, Any]], entries: list[dict[str, Any]], projects: Iterable[str]
) -> list[dict[str, Any]]:
    """Give each finding the verdict of the entry with the same project, path, code and source
    line (the nearest line where several match); return the stale entries of ``projects``."""
    by_key: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for entry in entries:
        key = (entry["project"], entry["path"], entry["code"], entry["source"].strip())
        by_key.setdefault(key, []).append(entry)
    used: set[int] = set()
    for f in findings:
        candidates = by_key.get((f["project"], f["path"], f["code"], f["source"]), [])
        if candidates:
            best = min(candidates, key=lambda e: abs(int(e["line"]) - int(f["line"])))
            used.add(id(best))
            f["verdict"], f["reason"] = best["verdict"], best["reason"]
        else:
            f["verdict"], f["reason"] = None, ""
    wanted = set(projects)
    return [e for e in entries if e["project"] in wanted and id(e) not in used]


# ------------------------------------------------------------------------------------------ fix


def fix_project(
    name: str, src: Path, findings: list[dict[str, Any]], timeout: float
) -> dict[str, Any]:
    """``--fix --unsafe-fixes`` on a copy of the project: which files changed, how many edited
    regions, whether each still parses and byte-compiles, and which edited files had only
    findings triaged false (the linter edited working code)."""
    with tempfile.TemporaryDirectory(prefix=f"realcode-fix-{name}-") as tmp:
        copy = Path(tmp) / name
        shutil.copytree(src, copy)
        status, proc, seconds = _jaxlint(
            [str(copy), "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero", "--quiet"], timeout
        )
        result: dict[str, Any] = {"status": status, "seconds": round(seconds, 2), "files": []}
        if proc is None:
            result["error"] = f"no result after {timeout:.0f} s"
            return result
        if proc.returncode != 0:
            result["status"] = "error"
            result["error"] = f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"
        by_file: dict[str, list[dict[str, Any]]] = {}
        for f in findings:
            by_file.setdefault(f["path"], []).append(f)
        for original in sorted(src.rglob("*.py")):
            rel = original.relative_to(src).as_posix()
            before, after = original.read_bytes(), (copy / rel).read_bytes()
            if before == after:
                continue
            text = after.decode("utf-8", errors="replace")
            old_lines = before.decode("utf-8", errors="replace").splitlines()
            matcher = difflib.SequenceMatcher(None, old_lines, text.splitlines(), autojunk=False)
            edits = sum(1 for op in matcher.get_opcodes() if op[0] != "equal")
            problem = ""
            try:
                ast.parse(text, filename=rel)
                compile(text, rel, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            verdicts = [f["verdict"] for f in by_file.get(rel, [])]
            result["files"].append(
                {
                    "path": rel,
                    "edits": edits,
                    "compiles": not problem,
                    "error": problem,
                    "findings": len(verdicts),
                    "all_false": bool(verdicts) and all(v == "false" for v in verdicts),
                }
            )
    return result


# --------------------------------------------------------------------------------------- report


def per_10k(findings: int, lines: int) -> float:
    return round(findings * 10_000 / lines, 2) if lines else 0.0


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(lines)


def git_commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip()


def select(args: argparse.Namespace) -> list[Project]:
    known = {p.name: p for p in PROJECTS}
    if args.projects:
        names = [n.strip() for n in args.projects.split(",") if n.strip()]
    elif args.slice:
        names = list(SLICE)
    else:
        return list(PROJECTS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown project(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def run(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """Fetch, lint, triage (and fix); return the results and the exit code."""
    projects = select(args)
    root: Path = args.dir.expanduser().resolve()
    if root.is_relative_to(REPO):
        raise SystemExit(f"--dir {root} is inside the repository; the corpus must live outside it")
    dirs: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for project in projects:
        try:
            dirs[project.name] = fetch(project, root)
        except (FetchError, subprocess.TimeoutExpired) as exc:
            failed[project.name] = str(exc)
            print(f"fetch failed: {exc}", file=sys.stderr)
            if isinstance(exc, FetchError) and exc.index_unreachable:
                raise
    results: dict[str, Any] = {
        "jaxlint_commit": git_commit(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "corpus_dir": str(root),
        "projects": [],
        "fetch_failed": failed,
    }
    findings: list[dict[str, Any]] = []
    totals = Counter()
    for name, directory in dirs.items():
        files, lines = count_lines(directory)
        t = lint({name: directory}, args.timeout)
        print(
            f"{name:<24} {files:>5} files {lines:>8} lines {len(t.findings):>4} findings "
            f"{t.seconds:7.1f} s {t.status}",
            file=sys.stderr,
            flush=True,
        )
        findings += t.findings
        row = {
            "project": name,
            "requirement": next(p.requirement for p in projects if p.name == name),
            "files": files,
            "lines": lines,
            "findings": len(t.findings),
            "per_10k_lines": per_10k(len(t.findings), lines),
            "seconds": round(t.seconds, 2),
            "status": t.status,
            "error": t.error,
            "by_code": dict(Counter(f["code"] for f in t.findings)),
        }
        results["projects"].append(row)
        totals.update(files=files, lines=lines, findings=len(t.findings))
        totals["seconds"] += t.seconds
    ok = [r["project"] for r in results["projects"] if r["status"] == "ok"]
    results["total"] = {
        "projects": len(dirs),
        "files": totals["files"],
        "lines": totals["lines"],
        "findings": totals["findings"],
        "per_10k_lines": per_10k(totals["findings"], totals["lines"]),
        "seconds": round(totals["seconds"], 2),
        "by_code": dict(Counter(f["code"] for f in findings)),
    }

    if not args.no_together and len(dirs) > 1:
        t = lint(dirs, args.together_timeout)
        together: dict[str, Any] = {
            "status": t.status,
            "seconds": round(t.seconds, 2),
            "error": t.error,
        }
        if t.status == "ok":
            alone_keys = {finding_key(f) for f in findings if f["project"] in ok}
            both = {finding_key(f) for f in t.findings if f["project"] in ok}
            together.update(
                findings=len(t.findings),
                equal_union=alone_keys == both,
                only_together=[list(k) for k in sorted(both - alone_keys)],
                only_alone=[list(k) for k in sorted(alone_keys - both)],
            )
        results["together"] = together

    entries = load_triage(args.triage)
    stale = apply_triage(findings, entries, ok)
    verdicts = Counter(f["verdict"] for f in findings)
    true, false, untriaged = verdicts["true"], verdicts["false"], verdicts[None]
    results["triage"] = {
        "true": true,
        "false": false,
        "untriaged": untriaged,
        "precision": round(true / (true + false), 4) if true + false else None,
        "stale": stale,
    }
    results["findings"] = [{k: f.get(k) for k in FINDING_FIELDS} for f in findings]

    broken = 0
    if args.fix:
        fixes = {}
        for name in ok:
            mine = [f for f in findings if f["project"] == name]
            fixes[name] = fix_project(name, dirs[name], mine, args.timeout)
            broken += sum(not f["compiles"] for f in fixes[name]["files"])
        edited = [f for r in fixes.values() for f in r["files"]]
        results["fix"] = {
            "projects": fixes,
            "files_edited": len(edited),
            "edits": sum(f["edits"] for f in edited),
            "files_broken": broken,
            "edited_all_false": sum(f["all_false"] for f in edited),
            "edited_without_findings": sum(f["findings"] == 0 for f in edited),
        }

    code = 0
    if failed or len(ok) < len(dirs) or results.get("together", {}).get("status", "ok") != "ok":
        code = 2
    elif broken or (args.check_triage and untriaged):
        code = 1
    return results, code


def report(results: dict[str, Any]) -> str:
    """The readable form of ``results``."""
    out = []
    rows = [
        [
            r["project"],
            r["files"],
            r["lines"],
            r["findings"],
            f"{r['per_10k_lines']:.2f}",
            f"{r['seconds']:.1f}",
            r["status"],
        ]
        for r in results["projects"]
    ]
    t = results["total"]
    rows.append(
        [
            "TOTAL",
            t["files"],
            t["lines"],
            t["findings"],
            f"{t['per_10k_lines']:.2f}",
            f"{t['seconds']:.1f}",
            "",
        ]
    )
    out.append(table(rows, ["project", "files", "lines", "findings", "/10k", "time s", "status"]))
    out.append(
        "findings by rule: " + ", ".join(f"{c} {n}" for c, n in sorted(t["by_code"].items()))
    )
    for r in results["projects"]:
        if r["error"]:
            out.append(f"{r['project']}: {r['status']}: {r['error']}")
    for name, err in results["fetch_failed"].items():
        out.append(f"{name}: fetch failed: {err}")
    tg = results.get("together")
    if tg:
        if tg["status"] == "ok":
            out.append(
                f"together: {tg['findings']} findings in {tg['seconds']:.1f} s; "
                f"equal to the union of each alone: {'yes' if tg['equal_union'] else 'NO'}"
            )
            for label in ("only_together", "only_alone"):
                for k in tg[label]:
                    out.append(f"  {label}: {k[0]} {k[1]}:{k[2]} {k[4]} {k[5][:100]}")
        else:
            out.append(f"together: {tg['status']} after {tg['seconds']:.1f} s {tg['error']}")
    tr = results["triage"]
    precision = "n/a" if tr["precision"] is None else f"{tr['precision']:.1%}"
    out.append(
        f"triage: {tr['true']} true, {tr['false']} false, {tr['untriaged']} untriaged; "
        f"precision {precision}; {len(tr['stale'])} stale entries"
    )
    for e in tr["stale"]:
        out.append(
            f"  stale: {e['project']} {e['path']}:{e['line']} {e['code']} {e['source'][:80]}"
        )
    for f in results["findings"]:
        if f["verdict"] is None:
            out.append(
                f"  untriaged: {f['project']} {f['path']}:{f['line']} {f['code']} {f['message'][:120]}"
            )
    fx = results.get("fix")
    if fx:
        rows = []
        for name, r in fx["projects"].items():
            files = r["files"]
            rows.append(
                [
                    name,
                    len(files),
                    sum(f["edits"] for f in files),
                    sum(not f["compiles"] for f in files),
                    sum(f["all_false"] for f in files),
                    f"{r['seconds']:.1f}",
                    r["status"],
                ]
            )
        out.append(
            table(
                rows, ["fix: project", "files", "edits", "broken", "all-false", "time s", "status"]
            )
        )
        out.append(
            f"fix: {fx['files_edited']} files edited ({fx['edits']} edits), {fx['files_broken']} "
            f"no longer compile, {fx['edited_all_false']} edited files had only findings triaged "
            f"false, {fx['edited_without_findings']} had no finding at all"
        )
        for name, r in fx["projects"].items():
            for f in r["files"]:
                if not f["compiles"]:
                    out.append(f"  broken: {name} {f['path']}: {f['error']}")
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help=f"corpus cache (default {DEFAULT_DIR})"
    )
    ap.add_argument("--projects", help="comma-separated project names (default: all)")
    ap.add_argument("--slice", action="store_true", help=f"the small CI set: {', '.join(SLICE)}")
    ap.add_argument("--fix", action="store_true", help="also run --fix --unsafe-fixes on copies")
    ap.add_argument("--check-triage", action="store_true", help="exit 1 on any untriaged finding")
    ap.add_argument(
        "--triage", type=Path, default=TRIAGE, help="triage file (default: %(default)s)"
    )
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--timeout", type=float, default=600, help="seconds per project run (default 600)"
    )
    ap.add_argument(
        "--together-timeout",
        type=float,
        default=1800,
        help="seconds for the run of all (default 1800)",
    )
    ap.add_argument(
        "--no-together", action="store_true", help="skip the run of all projects at once"
    )
    ap.add_argument("--fetch-only", action="store_true", help="download and unpack, lint nothing")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fetch_only:
        root = args.dir.expanduser().resolve()
        for project in select(args):
            print(fetch(project, root))
        return 0
    try:
        results, code = run(args)
    except FetchError as exc:
        print(f"realcode: pip cannot reach the package index: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(report(results))
    return code


if __name__ == "__main__":
    sys.exit(main())

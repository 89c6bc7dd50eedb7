"""Random streams for initial weights: one set per experiment, reproducible from its seed.

- ``legacy``: one ``numpy.random.RandomState(seed)``; tensors are drawn in the order W1, b1, W2,
  b2, … (a constant initializer draws nothing), exactly as the Coursera notebook draws them.
- ``numpy``: ``initlab.fastrng.FastStream`` streams from ``SeedSequence(seed).spawn(2·L)``, one
  independent stream per weight and per bias tensor, so a tensor's values depend only on the seed
  and its position, not on the sizes of the other layers. A FastStream fills large tensors on all
  cores (SFC64 blocks; float64 normals by NumPy's ziggurat, float32 by Box–Muller) and gives the
  same values whatever the thread count; see ``fastrng`` for the layout and the float32 tail limit.

An experiment's streams depend on its seed alone: initializers compared under the same seed draw
from the same underlying numbers (common random numbers), and slice ``seed = s`` of a batched run
equals a run of seed ``s`` alone.
"""

from __future__ import annotations

import numpy as np

from initlab.errors import InitlabError
from initlab.inits.fastrng import FastStream

Rng = FastStream | np.random.Generator | np.random.RandomState
RNG_KINDS = ("numpy", "legacy")
LEGACY_SEED_LIMIT = 2**32  # RandomState takes seeds 0 ≤ s < 2³²


def check_seed(seed: int, kind: str) -> None:
    """InitlabError unless ``seed`` is one the ``kind`` of stream accepts."""
    if kind not in RNG_KINDS:
        raise InitlabError(f"unknown rng {kind!r}; valid: {', '.join(RNG_KINDS)}")
    if seed < 0 or (kind == "legacy" and seed >= LEGACY_SEED_LIMIT):
        top = " and < 2^32 (numpy.random.RandomState)" if kind == "legacy" else ""
        raise InitlabError(f"seed {seed} is out of range: rng {kind} takes seeds >= 0{top}")


def layer_streams(seed: int, kind: str, n_layers: int) -> list[tuple[Rng, Rng]]:
    """[(weight rng, bias rng) for each layer] for one experiment."""
    if kind == "legacy":
        rs = np.random.RandomState(seed)
        return [(rs, rs)] * n_layers
    children = np.random.SeedSequence(seed).spawn(2 * n_layers)
    gens = [FastStream(c) for c in children]
    return [(gens[2 * l], gens[2 * l + 1]) for l in range(n_layers)]

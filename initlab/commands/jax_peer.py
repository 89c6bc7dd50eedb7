"""The peer ``initlab bench-train`` measures the fused engine against: the he_circles network
(relu, relu, sigmoid; bce; full-batch gradient descent) for E models trained by an expert's JAX
loop — ``vmap`` over the models, one ``jit`` over the whole loop (``lax.fori_loop``), a
hand-written backward, the models split over all cores as XLA host devices (``pmap``).

Run as its own process (``python -m initlab.commands.jax_peer FILE.npz DEVICES``): it reads the
data and starting weights from FILE.npz, prints one JSON line {"compile_s", "train_s",
"final_cost"} and writes the final weights back beside it, so the caller can check that it
trained the same models. Needs jax, which initlab does not depend on.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(path: str, devices: int) -> None:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + f" --xla_force_host_platform_device_count={devices}")
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp  # noqa: PLC0415

    saved = np.load(path)
    X, Y, lr, steps = saved["X"], saved["Y"], float(saved["lr"]), int(saved["steps"])
    dtype = saved["W1"].dtype
    names = sorted((k for k in saved.files if k[0] in "Wb"), key=lambda k: (int(k[1:]), k[0]))
    L = len(names) // 2
    E = saved["W1"].shape[0]
    D = min(devices, jax.local_device_count(), E)
    while E % D:
        D -= 1

    def one_model(params: tuple, x: jnp.ndarray, y: jnp.ndarray) -> tuple:
        m = x.shape[1]

        def step(_: int, ps: tuple) -> tuple:
            acts, a = [x], x
            zs = []
            for l in range(L):
                z = ps[2 * l] @ a + ps[2 * l + 1][:, None]
                zs.append(z)
                a = jax.nn.sigmoid(z) if l == L - 1 else jnp.maximum(z, 0.0)
                acts.append(a)
            dz = (a - y) / m
            grads = [None] * (2 * L)
            for l in range(L - 1, -1, -1):
                grads[2 * l] = dz @ acts[l].T
                grads[2 * l + 1] = dz.sum(axis=1)
                if l:
                    dz = (ps[2 * l].T @ dz) * (zs[l - 1] > 0)
            return tuple(p - lr * g for p, g in zip(ps, grads, strict=True))

        return jax.lax.fori_loop(0, steps, step, params)

    def cost(params: tuple, x: jnp.ndarray, y: jnp.ndarray) -> jnp.ndarray:
        a = x
        for l in range(L):
            z = params[2 * l] @ a + params[2 * l + 1][:, None]
            a = z if l == L - 1 else jnp.maximum(z, 0.0)
        return jnp.mean(jnp.sum(jnp.logaddexp(0.0, a) - y * a, axis=0))

    train = jax.pmap(jax.vmap(one_model, in_axes=(0, None, None)), in_axes=(0, None, None))
    shaped = tuple(jnp.asarray(saved[n].reshape(D, E // D, *saved[n].shape[1:]), dtype=dtype)
                   for n in names)
    x, y = jnp.asarray(X, dtype=dtype), jnp.asarray(Y, dtype=dtype)
    t0 = time.perf_counter()
    compiled = train.lower(shaped, x, y).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(shaped, x, y))
    train_s = time.perf_counter() - t0
    final = {n: np.asarray(o).reshape(E, *saved[n].shape[1:]) for n, o in zip(names, out,
                                                                           strict=True)}
    first = tuple(jnp.asarray(final[n][0]) for n in names)
    np.savez(path.replace(".npz", "-out.npz"), **final)
    print(json.dumps({"compile_s": compile_s, "train_s": train_s, "devices": D,
                      "final_cost": float(cost(first, x, y))}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

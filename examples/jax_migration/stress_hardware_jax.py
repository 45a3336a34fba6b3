"""Hardware stress sweep: PPO throughput on the phase-1 env for several num_envs.

    python stress_hardware_jax.py --num-envs 256,1024,4096 --num-steps 128 --updates 10

Main entry point of the port:
    main -> sweep -> train -> collect_rollouts [jit] -> step_fn [scan] -> batch_reset [vmap] -> reset
"""

import argparse
import json
import time

import jax
import numpy as np

from data_loader import load_market_data
from env_phase1_jax import EnvParams, FuturesEnvPhase1
from train_ppo_jax_fixed import PPOConfig, make_train


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-envs", default="64,256,1024", help="comma-separated sweep")
    p.add_argument("--num-steps", type=int, default=64)
    p.add_argument("--updates", type=int, default=5)
    p.add_argument("--episode-bars", type=int, default=78)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--days", type=int, default=20)
    p.add_argument("--data", default=None, help=".npz/.csv/.parquet bars (default: synthetic)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    args.num_envs = [int(n) for n in args.num_envs.split(",")]
    return args


def run_config(train, env_params, num_envs, seed, num_steps, num_updates):
    t0 = time.perf_counter()
    train_state, history = train(env_params, jax.random.PRNGKey(seed), num_envs)
    jax.block_until_ready(train_state.params)
    wall = time.perf_counter() - t0
    history = [{k: float(v) for k, v in h.items()} for h in history]
    return {
        "num_envs": num_envs,
        "wall_s": wall,
        "env_steps_per_s": num_envs * num_steps * num_updates / wall,
        "history": history,
        "final_param_norm": float(
            np.sqrt(sum(np.sum(np.square(np.asarray(p))) for p in jax.tree.leaves(train_state.params)))
        ),
        "oom": False,
    }


def sweep(args):
    data = load_market_data(args.data, n_days=args.days, seed=args.seed)
    env = FuturesEnvPhase1(data, window=args.window)
    env_params = EnvParams(max_episode_bars=args.episode_bars)
    config = PPOConfig(num_steps=args.num_steps, num_updates=args.updates)
    train = make_train(config, env)
    results = []
    for num_envs in args.num_envs:
        try:
            res = run_config(train, env_params, num_envs, args.seed, args.num_steps, args.updates)
        except jax.errors.JaxRuntimeError as err:  # OOM: record it, keep sweeping
            if "RESOURCE_EXHAUSTED" not in str(err):
                raise
            res = {"num_envs": num_envs, "oom": True}
        results.append(res)
        if not res["oom"]:
            last = res["history"][-1]
            print(
                f"num_envs={num_envs:6d}  {res['env_steps_per_s']:12.0f} steps/s  "
                f"wall={res['wall_s']:.2f}s  ep_return={last['episode_return']:.2f}  loss={last['loss']:.4f}"
            )
        else:
            print(f"num_envs={num_envs:6d}  OOM")
    return results


def main(argv=None):
    args = parse_args(argv)
    print(f"devices: {jax.devices()}")
    results = sweep(args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()

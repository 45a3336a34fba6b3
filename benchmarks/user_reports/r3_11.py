# jax-ml/jax#19424 "using jnp.nozero is not possible in jax.eval_shape" (Mixtral sparse-MoE flax module, jnp.nonzero on the expert mask)
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from flax import linen as nn


@dataclass(frozen=True)
class MixtralConfig:
    hidden_size: int = 16
    intermediate_size: int = 32
    num_local_experts: int = 4
    num_experts_per_tok: int = 2


class FlaxMixtralBLockSparseTop2MLP(nn.Module):
    config: MixtralConfig
    dtype: jnp.dtype = jnp.float32

    def setup(self) -> None:
        self.w1 = nn.Dense(self.config.intermediate_size, use_bias=False, dtype=self.dtype)
        self.w2 = nn.Dense(self.config.hidden_size, use_bias=False, dtype=self.dtype)
        self.w3 = nn.Dense(self.config.intermediate_size, use_bias=False, dtype=self.dtype)

    def __call__(self, hidden_states):
        return self.w2(nn.silu(self.w1(hidden_states)) * self.w3(hidden_states))


class FlaxMixtralBlocKSparesTop2MLPCollection(nn.Module):
    config: MixtralConfig
    dtype: jnp.dtype = jnp.float32

    def setup(self) -> None:
        self.layers = [
            FlaxMixtralBLockSparseTop2MLP(config=self.config, dtype=self.dtype, name=str(i))
            for i in range(self.config.num_local_experts)
        ]

    def __call__(self, expert_mask, hidden_states, routing_weights, batch_size: int,
                 sequence_length: int, hidden_dim: int):
        assert hidden_states.ndim == 2
        final_hidden_states = jnp.zeros((batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype)

        for expert_idx, expert_layer in enumerate(self.layers):
            selected_mask = expert_mask[expert_idx]
            idx, top_x = jnp.nonzero(selected_mask)
            if top_x.shape[0] == 0:
                continue
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states = final_hidden_states.at[top_x].add(current_hidden_states)
        return final_hidden_states


class FlaxMixtralSparseMoeBlock(nn.Module):
    config: MixtralConfig

    @nn.compact
    def __call__(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.reshape(-1, hidden_dim)
        router_logits = nn.Dense(self.config.num_local_experts, use_bias=False)(hidden_states)
        routing_weights = jax.nn.softmax(router_logits, axis=1)
        routing_weights, selected_experts = jax.lax.top_k(routing_weights, self.config.num_experts_per_tok)
        routing_weights = routing_weights / routing_weights.sum(axis=-1, keepdims=True)
        expert_mask = jax.nn.one_hot(selected_experts, self.config.num_local_experts).transpose(2, 1, 0)
        out = FlaxMixtralBlocKSparesTop2MLPCollection(self.config)(
            expert_mask, hidden_states, routing_weights, batch_size, sequence_length, hidden_dim)
        return out.reshape(batch_size, sequence_length, hidden_dim)


def run():
    config = MixtralConfig()
    model = FlaxMixtralSparseMoeBlock(config)
    x = jnp.ones((1, 8, config.hidden_size))
    # get the parameter shapes without allocating them
    return jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x))


if __name__ == "__main__":
    run()

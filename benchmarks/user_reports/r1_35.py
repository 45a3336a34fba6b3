# jax-ml/jax#4418 "advanced boolean indexing" (ax1, ax2 = np_jax.where(...); index_update -> .at)
import jax
import jax.numpy as np_jax


@jax.jit
def make_mask(Dataset):
    ax1, ax2 = np_jax.where(~Dataset[:, 0].any(axis=2))
    mask = np_jax.ones(Dataset.shape[:2])
    mask = mask.at[ax1, ax2].set(0)
    return mask


def run():
    return make_mask(np_jax.ones((3, 4, 5, 2)))

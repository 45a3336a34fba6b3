# EiffL/Quarks2CosmosDataChallenge PR#6 "fix potential TracerIntegerConversionError in Decoder" (linen port of the hk Decoder)
import jax, jax.numpy as jnp
import flax.linen as nn

class Decoder(nn.Module):
    latent_shape: tuple = (4, 4)
    def setup(self):
        self.img_shape = jnp.array(self.latent_shape) * 2     # jnp array used as a shape
        self.dense = nn.Dense(64)
    def __call__(self, z):
        h = self.dense(z)
        return h.reshape((-1, self.img_shape[0], self.img_shape[1]))

def run():
    model = Decoder()
    z = jnp.ones((2, 8))
    params = model.init(jax.random.PRNGKey(0), z)
    return jax.jit(model.apply)(params, z)
if __name__ == "__main__": run()

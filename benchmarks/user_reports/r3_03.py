# google-research/multinerf#62 "Fix TracerArrayConversionError when Config.cast_rays_in_train_step=True" (pixels_to_rays calls convert_to_ndc without xnp)
import types

import jax
import jax.numpy as jnp
import numpy as np


def convert_to_ndc(origins, directions, pixtocam, near=1., xnp: types.ModuleType = np):
  """Converts a set of rays to normalized device coordinates (NDC)."""
  t = -(near + origins[..., 2]) / directions[..., 2]
  origins = origins + t[..., None] * directions

  dx, dy, dz = xnp.moveaxis(directions, -1, 0)
  ox, oy, oz = xnp.moveaxis(origins, -1, 0)

  xmult = 1. / pixtocam[0, 2]
  ymult = 1. / pixtocam[1, 2]

  origins_ndc = xnp.stack([xmult * ox / oz, ymult * oy / oz, -xnp.ones_like(oz)], axis=-1)
  infinity_ndc = xnp.stack([xmult * dx / dz, ymult * dy / dz, xnp.ones_like(oz)], axis=-1)
  directions_ndc = infinity_ndc - origins_ndc
  return origins_ndc, directions_ndc


def pixels_to_rays(pix_x_int, pix_y_int, pixtocams, camtoworlds,
                   pixtocam_ndc=None, xnp: types.ModuleType = np):
  def pix_to_dir(x, y):
    return xnp.stack([x + .5, y + .5, xnp.ones_like(x)], axis=-1)
  pixel_dirs_stacked = xnp.stack([
      pix_to_dir(pix_x_int, pix_y_int),
      pix_to_dir(pix_x_int + 1, pix_y_int),
      pix_to_dir(pix_x_int, pix_y_int + 1)
  ], axis=0)

  mat_vec_mul = lambda A, b: xnp.matmul(A, b[..., None])[..., 0]
  camera_dirs_stacked = mat_vec_mul(pixtocams, pixel_dirs_stacked)
  camera_dirs_stacked = xnp.matmul(camera_dirs_stacked,
                                   xnp.diag(xnp.array([1., -1., -1.])))
  directions_stacked = mat_vec_mul(camtoworlds[..., :3, :3], camera_dirs_stacked)
  directions, dx, dy = directions_stacked

  origins = xnp.broadcast_to(camtoworlds[..., :3, -1], directions.shape)
  viewdirs = directions / xnp.linalg.norm(directions, axis=-1, keepdims=True)

  if pixtocam_ndc is None:
    dx_norm = xnp.linalg.norm(dx - directions, axis=-1)
    dy_norm = xnp.linalg.norm(dy - directions, axis=-1)
  else:
    # Convert ray origins and directions into projective NDC space.
    origins_dx, _ = convert_to_ndc(origins, dx, pixtocam_ndc)
    origins_dy, _ = convert_to_ndc(origins, dy, pixtocam_ndc)
    origins, directions = convert_to_ndc(origins, directions, pixtocam_ndc)
    dx_norm = xnp.linalg.norm(origins_dx - origins, axis=-1)
    dy_norm = xnp.linalg.norm(origins_dy - origins, axis=-1)

  radii = (0.5 * (dx_norm + dy_norm))[..., None] * 2 / xnp.sqrt(12)
  return origins, directions, viewdirs, radii


def cast_ray_batch(cameras, pixels, xnp: types.ModuleType = np):
  pixtocams, camtoworlds, pixtocam_ndc = cameras
  return pixels_to_rays(pixels['pix_x_int'], pixels['pix_y_int'], pixtocams,
                        camtoworlds, pixtocam_ndc=pixtocam_ndc, xnp=xnp)


def train_step(params, batch, cameras):
  # Config.cast_rays_in_train_step=True: rays are cast inside the jitted step.
  origins, directions, viewdirs, radii = cast_ray_batch(cameras, batch, xnp=jnp)

  def loss_fn(params):
    rgb = jax.nn.sigmoid(origins @ params + directions @ params + radii)
    return jnp.mean((rgb - batch['rgb'])**2)

  return jax.value_and_grad(loss_fn)(params)


def run():
  focal, width, height = 20., 8, 6
  pixtocam = np.linalg.inv(np.array([[focal, 0, width * .5],
                                     [0, focal, height * .5],
                                     [0, 0, 1.]]))
  camtoworld = np.concatenate([np.eye(3), np.array([[0.], [0.], [2.]])], -1)
  pixtocam_ndc = pixtocam
  cameras = (jnp.asarray(pixtocam), jnp.asarray(camtoworld), jnp.asarray(pixtocam_ndc))
  batch = {
      'pix_x_int': jnp.arange(16) % width,
      'pix_y_int': jnp.arange(16) % height,
      'rgb': jnp.full((16, 3), 0.5),
  }
  params = jnp.eye(3)
  return jax.jit(train_step)(params, batch, cameras)


if __name__ == "__main__":
  run()

/* N-body gravitational simulation, all pairs (64 bodies around a heavy
 * central mass), leapfrog (kick-drift-kick) integration for argv[1] steps.
 * Check: total energy is conserved to 1e-4 relative and total momentum
 * (zero at the start) stays at zero. */
#include "bench.h"
#include <math.h>

#define BODIES 64

typedef struct {
  double x[BODIES], y[BODIES], z[BODIES];
  double vx[BODIES], vy[BODIES], vz[BODIES];
  double ax[BODIES], ay[BODIES], az[BODIES];
  double m[BODIES];
} System;

static void accelerations(System* s) {
  for (int i = 0; i < BODIES; i++)
    s->ax[i] = s->ay[i] = s->az[i] = 0;
  for (int i = 0; i < BODIES; i++)
    for (int j = i + 1; j < BODIES; j++) {
      double dx = s->x[j] - s->x[i], dy = s->y[j] - s->y[i], dz = s->z[j] - s->z[i];
      double d2 = dx * dx + dy * dy + dz * dz + 1e-4;
      double inv = 1.0 / (d2 * sqrt(d2));
      s->ax[i] += dx * s->m[j] * inv, s->ay[i] += dy * s->m[j] * inv,
          s->az[i] += dz * s->m[j] * inv;
      s->ax[j] -= dx * s->m[i] * inv, s->ay[j] -= dy * s->m[i] * inv,
          s->az[j] -= dz * s->m[i] * inv;
    }
}

static double energy(const System* s) {
  double e = 0;
  for (int i = 0; i < BODIES; i++) {
    e += 0.5 * s->m[i] * (s->vx[i] * s->vx[i] + s->vy[i] * s->vy[i] + s->vz[i] * s->vz[i]);
    for (int j = i + 1; j < BODIES; j++) {
      double dx = s->x[j] - s->x[i], dy = s->y[j] - s->y[i], dz = s->z[j] - s->z[i];
      e -= s->m[i] * s->m[j] / sqrt(dx * dx + dy * dy + dz * dz + 1e-4);
    }
  }
  return e;
}

int main(int argc, char** argv) {
  long steps = benchSize(argc, argv, 22000);
  static System s;
  BenchRng rng = {11};
  s.m[0] = 1000.0;
  for (int i = 1; i < BODIES; i++) {
    double r = 5.0 + 20.0 * benchUniform(&rng), phase = benchUniform(&rng);
    /* A point on a circle without libm: a rational parametrisation. */
    double t = 2 * phase - 1, c = (1 - t * t) / (1 + t * t), sn = 2 * t / (1 + t * t);
    double speed = sqrt(1000.0 / r);
    s.x[i] = r * c, s.y[i] = r * sn, s.z[i] = (benchUniform(&rng) - 0.5) * 0.5;
    s.vx[i] = -speed * sn, s.vy[i] = speed * c, s.vz[i] = 0;
    s.m[i] = 0.01 + 0.1 * benchUniform(&rng);
  }
  double px = 0, py = 0, pz = 0;
  for (int i = 1; i < BODIES; i++)
    px += s.m[i] * s.vx[i], py += s.m[i] * s.vy[i], pz += s.m[i] * s.vz[i];
  s.vx[0] = -px / s.m[0], s.vy[0] = -py / s.m[0], s.vz[0] = -pz / s.m[0];
  double e0 = energy(&s);
  const double dt = 1e-4;

  benchStart();
  accelerations(&s);
  for (long step = 0; step < steps; step++) {
    for (int i = 0; i < BODIES; i++) {
      s.vx[i] += 0.5 * dt * s.ax[i], s.vy[i] += 0.5 * dt * s.ay[i], s.vz[i] += 0.5 * dt * s.az[i];
      s.x[i] += dt * s.vx[i], s.y[i] += dt * s.vy[i], s.z[i] += dt * s.vz[i];
    }
    accelerations(&s);
    for (int i = 0; i < BODIES; i++)
      s.vx[i] += 0.5 * dt * s.ax[i], s.vy[i] += 0.5 * dt * s.ay[i], s.vz[i] += 0.5 * dt * s.az[i];
  }
  benchStop();

  double e1 = energy(&s);
  px = py = pz = 0;
  double scale = 0;
  for (int i = 0; i < BODIES; i++) {
    px += s.m[i] * s.vx[i], py += s.m[i] * s.vy[i], pz += s.m[i] * s.vz[i];
    scale += s.m[i] * sqrt(s.vx[i] * s.vx[i] + s.vy[i] * s.vy[i]);
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", e1);
  int ok = fabs((e1 - e0) / e0) < 1e-4 && fabs(px) + fabs(py) + fabs(pz) < 1e-9 * scale;
  return benchFinish(checksum, ok, "energy or momentum not conserved");
}

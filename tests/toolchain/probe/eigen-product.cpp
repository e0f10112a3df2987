// Uses Eigen3::Eigen from the host's header-only package.
#include <Eigen/Dense>
#include <cstdio>

int main() {
  Eigen::Matrix2d m;
  m << 1, 2, 3, 4;
  Eigen::Vector2d product = m * Eigen::Vector2d(1, 1);
  std::printf("%g %g\n", product(0), product(1));
  return product(0) == 3 && product(1) == 7 ? 0 : 1;
}

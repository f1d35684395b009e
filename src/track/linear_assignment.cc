#include "track/linear_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace custos::track {

std::vector<std::pair<int, int>> SolveAssignment(std::span<const double> cost, int rows, int cols,
                                                 double cost_limit) {
  std::vector<std::pair<int, int>> pairs;
  if (rows <= 0 || cols <= 0) return pairs;
  // Square problem of size rows + cols: real rows may take a dummy column and real columns
  // a dummy row at cost_limit / 2 each; dummy-dummy pairs are free. Pairs above the limit are
  // capped just above it, so they lose to leaving both sides unassigned.
  const int n = rows + cols;
  const double unassigned = cost_limit / 2;
  const double forbidden = cost_limit + 1;
  std::vector<double> a(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double c;
      if (i < rows && j < cols) {
        const double v = cost[static_cast<size_t>(i) * cols + j];
        c = (std::isnan(v) || v > cost_limit) ? forbidden : v;
      } else if (i < rows || j < cols) {
        c = unassigned;
      } else {
        c = 0;
      }
      a[static_cast<size_t>(i) * n + j] = c;
    }
  }
  // Hungarian algorithm with potentials, O(n^3) (e-maxx formulation, 1-based).
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0), minv(n + 1);
  std::vector<int> p(n + 1, 0), way(n + 1, 0);
  std::vector<char> used(n + 1);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::fill(minv.begin(), minv.end(), kInf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int i0 = p[j0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = a[static_cast<size_t>(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= cols; ++j) {
    const int i = p[j] - 1;
    if (i < 0 || i >= rows) continue;
    const double c = cost[static_cast<size_t>(i) * cols + (j - 1)];
    if (c <= cost_limit) pairs.emplace_back(i, j - 1);
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

}  // namespace custos::track

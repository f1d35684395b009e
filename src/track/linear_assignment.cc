#include "track/linear_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace custos::track {

namespace {

// The Hungarian algorithm on one problem, padded as described in the header.
void SolveDense(std::span<const double> cost, int cols, const std::vector<int>& row_ids,
                const std::vector<int>& col_ids, double cost_limit,
                std::vector<std::pair<int, int>>& pairs) {
  const int rows_n = static_cast<int>(row_ids.size());
  const int cols_n = static_cast<int>(col_ids.size());
  // Square problem of size rows + cols: real rows may take a dummy column and real columns
  // a dummy row at cost_limit / 2 each; dummy-dummy pairs are free. Pairs above the limit are
  // capped just above it, so they lose to leaving both sides unassigned.
  const int n = rows_n + cols_n;
  const double unassigned = cost_limit / 2;
  const double forbidden = cost_limit + 1;
  const auto real_cost = [&](int i, int j) {
    return cost[static_cast<size_t>(row_ids[i]) * cols + col_ids[j]];
  };
  std::vector<double> a(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double c;
      if (i < rows_n && j < cols_n) {
        const double v = real_cost(i, j);
        c = (std::isnan(v) || v > cost_limit) ? forbidden : v;
      } else if (i < rows_n || j < cols_n) {
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
  for (int j = 1; j <= cols_n; ++j) {
    const int i = p[j] - 1;
    if (i < 0 || i >= rows_n) continue;
    if (real_cost(i, j - 1) <= cost_limit) pairs.emplace_back(row_ids[i], col_ids[j - 1]);
  }
}

}  // namespace

std::vector<std::pair<int, int>> SolveAssignment(std::span<const double> cost, int rows, int cols,
                                                 double cost_limit) {
  std::vector<std::pair<int, int>> pairs;
  if (rows <= 0 || cols <= 0) return pairs;
  // The problem splits into independent ones along the connected components of the
  // allowed pairs (cost <= limit): tracks far apart never compete. Tracking scenes are
  // mostly many tiny components, so this turns one O((rows + cols)^3) solve into a few
  // small ones.
  const auto allowed = [&](int r, int c) {
    return cost[static_cast<size_t>(r) * cols + c] <= cost_limit;
  };
  std::vector<int> row_component(rows, -1);
  std::vector<int> col_component(cols, -1);
  std::vector<int> row_ids;
  std::vector<int> col_ids;
  std::vector<int> queue;  // Rows to expand.
  int component = 0;
  for (int start = 0; start < rows; ++start) {
    if (row_component[start] >= 0) continue;
    row_ids.clear();
    col_ids.clear();
    queue.assign(1, start);
    row_component[start] = component;
    while (!queue.empty()) {
      const int r = queue.back();
      queue.pop_back();
      row_ids.push_back(r);
      for (int c = 0; c < cols; ++c) {
        if (col_component[c] >= 0 || !allowed(r, c)) continue;
        col_component[c] = component;
        col_ids.push_back(c);
        for (int r2 = 0; r2 < rows; ++r2) {
          if (row_component[r2] < 0 && allowed(r2, c)) {
            row_component[r2] = component;
            queue.push_back(r2);
          }
        }
      }
    }
    ++component;
    if (col_ids.empty()) continue;  // A row with no allowed pair stays unassigned.
    if (row_ids.size() == 1 && col_ids.size() == 1) {
      pairs.emplace_back(row_ids[0], col_ids[0]);
      continue;
    }
    std::sort(row_ids.begin(), row_ids.end());
    std::sort(col_ids.begin(), col_ids.end());
    SolveDense(cost, cols, row_ids, col_ids, cost_limit, pairs);
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

}  // namespace custos::track

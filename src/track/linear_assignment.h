// Minimum-cost assignment between rows and columns with a cost limit, as lap.lapjv with
// cost_limit (which ByteTrack uses): pairs costing more than the limit are never made, and a
// row or column may stay unassigned when that is cheaper than a poor pairing.
#pragma once

#include <span>
#include <utility>
#include <vector>

namespace custos::track {

// `cost` is row-major, rows x cols. Returns (row, col) pairs with cost <= cost_limit that
// minimise the total cost, where an unassigned row or column costs cost_limit / 2. Use a
// value above cost_limit (or infinity) for pairs that must never be made.
std::vector<std::pair<int, int>> SolveAssignment(std::span<const double> cost, int rows, int cols,
                                                 double cost_limit);

}  // namespace custos::track

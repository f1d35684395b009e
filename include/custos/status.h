// Status helpers shared by every module. Errors cross module boundaries as absl::Status;
// see docs/errors.md for which code means what to the caller.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CUSTOS_STATUS_CONCAT_INNER_(a, b) a##b
#define CUSTOS_STATUS_CONCAT_(a, b) CUSTOS_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` yields a non-OK absl::Status.
#define CUSTOS_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status custos_status_ = (expr);          \
    if (!custos_status_.ok()) return custos_status_; \
  } while (false)

// `CUSTOS_ASSIGN_OR_RETURN(auto x, Foo());` assigns the value of an absl::StatusOr or returns
// its status from the current function.
#define CUSTOS_ASSIGN_OR_RETURN(lhs, expr) \
  CUSTOS_ASSIGN_OR_RETURN_IMPL_(CUSTOS_STATUS_CONCAT_(custos_statusor_, __LINE__), lhs, expr)
#define CUSTOS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = *std::move(tmp)

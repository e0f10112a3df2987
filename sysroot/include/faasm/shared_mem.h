// Faasm's markup of memory shared by the threads of a distributed OpenMP
// program: reduction variables and critical sections local to a host. There
// are no threads here (no wasm threads, no OpenMP runtime), so each macro
// reaches a __faasm_sm_* function of faasm/host_interface.h that fails the
// call (one line on stderr, then a trap).
#pragma once

#include "faasm/host_interface.h"

// Variable types (Faasm's numbering, faabric's SnapshotDataType).
#define FAASM_TYPE_RAW 0
#define FAASM_TYPE_BOOL 1
#define FAASM_TYPE_INT 2
#define FAASM_TYPE_LONG 3
#define FAASM_TYPE_FLOAT 4
#define FAASM_TYPE_DOUBLE 5

// Reduction operations (faabric's SnapshotMergeOperation).
#define FAASM_OP_OVERWRITE 0
#define FAASM_OP_SUM 1
#define FAASM_OP_PRODUCT 2
#define FAASM_OP_SUBTRACT 3
#define FAASM_OP_MAX 4
#define FAASM_OP_MIN 5

// `var` is reduced with `op` when the threads of the next batch finish...
#define FAASM_REDUCE(var, type, op) __faasm_sm_reduce((void*)&(var), type, op, 0);
// ... of the batch running now.
#define FAASM_REDUCE_INNER(var, type, op) __faasm_sm_reduce((void*)&(var), type, op, 1);

#define FAASM_START_CRITICAL_LOCAL() __faasm_sm_critical_local();
#define FAASM_END_CRITICAL_LOCAL() __faasm_sm_critical_local_end();
#define FAASM_CRITICAL_LOCAL(op)                                                                   \
  __faasm_sm_critical_local();                                                                     \
  {                                                                                                \
    op;                                                                                            \
  }                                                                                                \
  __faasm_sm_critical_local_end();

// An integer incremented by every thread, summed across hosts.
#define FAASM_ATOMIC_INCR(var)                                                                     \
  __faasm_sm_reduce((void*)&(var), FAASM_TYPE_INT, FAASM_OP_SUM, 1);                               \
  FAASM_CRITICAL_LOCAL(var++)
#define FAASM_ATOMIC_INCR_BY(var, value)                                                           \
  __faasm_sm_reduce((void*)&(var), FAASM_TYPE_INT, FAASM_OP_SUM, 1);                               \
  FAASM_CRITICAL_LOCAL(var += value)

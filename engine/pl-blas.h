/* pl-blas.h — OpenBLAS's thread count, set in one place
 *
 * Under ThreadSanitizer the count is never changed: OpenBLAS's pool hands work to its threads
 * and takes results back with spin-waits on plain memory inside the uninstrumented library,
 * which TSan cannot see, so every product computed on the pool would be reported as a race
 * on its output (and each report, even suppressed, costs a stack symbolization: the suite ran
 * for hours). The TSan suite runs with OPENBLAS_NUM_THREADS=1 (tests/meson.build), so OpenBLAS
 * computes on the calling thread and TSan checks our own threads' hand-overs only.
 */
#pragma once

#include <cblas.h>

#include "pl-tsan-private.h"

/* Sets OpenBLAS's thread count to @n (≥ 1) and returns the count before, to restore. */
static inline int
pl_blas_set_threads (int n)
{
  int before = openblas_get_num_threads ();

#ifndef PL_TSAN
  if (n != before)
    openblas_set_num_threads (n);
#else
  (void) n;
#endif
  return before;
}

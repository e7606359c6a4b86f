/* pl-simd.h — compiling hot loops for the vector units the machine has
 *
 * The build targets baseline x86-64 (SSE2), so plain -O3 vectorises 4 floats at a time. A
 * function marked PL_TARGET_CLONES is compiled also for AVX2 and AVX-512 and picked at load
 * time (GCC's and Clang's target_clones, through an ifunc). FMA is not enabled: results stay
 * the same whichever copy runs, and C11 mode keeps floating-point contraction off.
 */
#pragma once

/* Not under ThreadSanitizer: it instruments the ifunc resolver, which the dynamic loader runs
 * before the TSan runtime is initialised, and the program crashes before main. Not with clang
 * (the fuzzing build): clang 14 emits no symbol for a target_clones function that is not
 * static, so the other files calling pl-optim's kernels fail to link. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) \
    && !defined(__SANITIZE_THREAD__)
# define PL_TARGET_CLONES __attribute__((target_clones ("default", "avx2", "avx512f")))
#else
# define PL_TARGET_CLONES
#endif

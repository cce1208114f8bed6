// Compile the functions that follow for AVX-512 (F, BW, VL) with VBMI (byte permutes). Same rules
// as x86-avx2-begin.h: include every shared header before this one. Callers check
// CpuHasAvx512Vbmi() (dispatch.h): VBMI is not implied by the AVX512VNNI variant (Cascade Lake has
// VNNI without it).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi"))), \
                             apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")
#endif

// Compile the functions that follow for AVX2+FMA without changing the flags of the whole build,
// so one source list serves cmake-js, node-gyp and emscripten. Include every shared header
// BEFORE this one: inline functions defined after it would be AVX2 code that the linker could
// pick for callers on machines without AVX2.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

// Workgroup-wide reductions through shared memory for one-dimensional workgroups of REDUCE_SIZE
// invocations (a power of two, equal to local_size_x; define it before including). Every invocation
// of the workgroup must call them together (they contain barriers) and gets the result; the buffer
// may be reused by the next call at once.
#ifndef LOWBIT_COMMON_REDUCE_GLSL
#define LOWBIT_COMMON_REDUCE_GLSL

#ifndef REDUCE_SIZE
#error "define REDUCE_SIZE (the workgroup size) before including common/reduce.glsl"
#endif

shared float reduce_buf[REDUCE_SIZE];

float reduce_sum(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_buf[t] = v;
  barrier();
  for (uint s = REDUCE_SIZE / 2u; s > 0u; s >>= 1u) {
    if (t < s) reduce_buf[t] += reduce_buf[t + s];
    barrier();
  }
  const float r = reduce_buf[0];
  barrier();
  return r;
}

float reduce_max(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_buf[t] = v;
  barrier();
  for (uint s = REDUCE_SIZE / 2u; s > 0u; s >>= 1u) {
    if (t < s) reduce_buf[t] = max(reduce_buf[t], reduce_buf[t + s]);
    barrier();
  }
  const float r = reduce_buf[0];
  barrier();
  return r;
}

float reduce_min(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_buf[t] = v;
  barrier();
  for (uint s = REDUCE_SIZE / 2u; s > 0u; s >>= 1u) {
    if (t < s) reduce_buf[t] = min(reduce_buf[t], reduce_buf[t + s]);
    barrier();
  }
  const float r = reduce_buf[0];
  barrier();
  return r;
}

#endif  // LOWBIT_COMMON_REDUCE_GLSL

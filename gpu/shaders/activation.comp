#version 450
// activation: the feed-forward nonlinearity in place on G[n] (the gate projection, or the up
// projection where there is no gate), as core's forward pass computes it:
//   ACT_SILU       silu(x) = x / (1 + exp(−x))
//   ACT_GELU_TANH  gelu_tanh(x) = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))  (gpt2's gelu_new)
// and with GATED, G = act(G) · U (SwiGLU and its GELU sibling). Variants (gpu/CMakeLists.txt):
// activation_swiglu, activation_silu, activation_geglu, activation_gelu_tanh.
// One invocation per element; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) buffer GBuf { float g[]; };
#if defined(GATED)
layout(std430, set = 0, binding = 1) readonly buffer UBuf { float u[]; };
#endif

// Mirrored by ActivationPush in gpu/ops/activation_op.cpp.
layout(push_constant) uniform Params {
  uint n;
} p;

float act(float x) {
#if defined(ACT_SILU)
  return x / (1.0 + exp(-x));
#elif defined(ACT_GELU_TANH)
  // tanh from exp, written out: Vulkan lets a driver's tanh be as coarse as its hardware
  // approximation (NVIDIA's is good to about 2⁻¹¹), while exp is required to about 3 ulp. The
  // cancellation in 1 − e for small |k| costs absolute, not relative, accuracy, which 1 + tanh does
  // not notice; |k| ≤ 10 keeps e away from underflow (tanh is ±1 in fp32 well before that).
  const float k = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  const float e = exp(-2.0 * min(abs(k), 10.0));
  const float t = sign(k) * (1.0 - e) / (1.0 + e);
  return 0.5 * x * (1.0 + t);
#else
#error "define ACT_SILU or ACT_GELU_TANH"
#endif
}

void main() {
  const uint i = element_index();
  if (i >= p.n) return;
#if defined(GATED)
  g[i] = act(g[i]) * u[i];
#else
  g[i] = act(g[i]);
#endif
}

// Weight storage shared by the ops that read a weight matrix: declares the buffer `WeightBuf` at
// set 0, binding WEIGHT_BINDING (define it before including) and `float load_weight(uint i)`, the
// i-th weight in row-major order, for the storage type chosen by the variant's defines:
//   (default)      fp32 weights, one float per element;
//   WEIGHT_F16=1   IEEE fp16 weights packed two per uint (element i in the low half of word i/2 when i
//                  is even), read with unpackHalf2x16 so no 16-bit storage feature is needed.
#ifndef LOWBIT_COMMON_WEIGHTS_GLSL
#define LOWBIT_COMMON_WEIGHTS_GLSL

#ifndef WEIGHT_BINDING
#error "define WEIGHT_BINDING before including common/weights.glsl"
#endif

#if defined(WEIGHT_F16) && WEIGHT_F16
layout(std430, set = 0, binding = WEIGHT_BINDING) readonly buffer WeightBuf { uint weight_words[]; };
float load_weight(uint i) { return unpackHalf2x16(weight_words[i >> 1])[i & 1u]; }
#else
layout(std430, set = 0, binding = WEIGHT_BINDING) readonly buffer WeightBuf { float weight_values[]; };
float load_weight(uint i) { return weight_values[i]; }
#endif

#endif  // LOWBIT_COMMON_WEIGHTS_GLSL

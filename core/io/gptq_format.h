// The GPTQ checkpoint format of AutoGPTQ and GPTQModel, read and written here (DESIGN.md "Export"):
// each quantized linear layer `p` ([out, in]) is stored as
//   p.qweight  I32 [in·bits/32, out]  codes, packed along the input dimension: column o holds the
//                                     codes of output o as one little-endian bit stream, code i at
//                                     bit bits·i (2, 4, 8 bits: 32/bits codes per word; 3 bits: 32
//                                     codes in 3 words, codes 10 and 21 straddling two words —
//                                     AutoGPTQ's and GPTQModel's 10|1|10|1|10 pack, which is that stream);
//   p.qzeros   I32 [groups, out·bits/32]  zero points, packed the same way along the outputs;
//   p.scales   F16 [groups, out];
//   p.g_idx    I32 [in]               the group of each input column (act-order checkpoints permute it);
// and ŵ[o, i] = scales[g, o] · (q[i, o] − zero[g, o]) with g = g_idx[i].
// Zero points: checkpoint_format "gptq" (v1) stores zero − 1, "gptq_v2" the zero itself. The v1
// offset is applied as GPTQModel's v1↔v2 conversion does, by whole integers rather than field by
// field: the packed zeros of one packing unit (a 32-bit word for 2, 4 and 8 bits; the 3 words that
// hold 32 fields for 3 bits, as one 96-bit little-endian integer, so the fields that straddle two
// words are offset like the others) minus the unit with a 1 in every field, modulo 2^(32·words);
// reading adds it back. Where every zero is ≥ 1 nothing borrows and each field is exactly zero − 1,
// as AutoGPTQ writes it. A zero of 0 borrows from the field above it; it still round-trips exactly
// here and in GPTQModel (2, 4, 8 bits: the same word arithmetic), but loaders that unpack v1 zeros
// field by field and add 1 (AutoGPTQ, exllama, vLLM) misread that group and its upper neighbour,
// so the exporter counts those groups in a warning. (GPTQModel's 3-bit conversion constants are
// per word and do not follow the 3-bit field layout; this reader follows the layout.)
// Mixed precision lives in quantization_config.dynamic, GPTQModel's syntax: an object whose keys are
// Python regular expressions matched at the start of the module name (re.match), tried in file
// order; "-:" marks modules left unquantized, "+:" (or no prefix) gives overrides of bits,
// group_size, sym, desc_act.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor/tensor_info.h"
#include "core/util/expected.h"

namespace lowbit {
namespace tok {
class Regex;
}

// One entry of `dynamic`, its pattern compiled.
struct GptqDynamicRule {
  std::string key;
  bool skip = false;  // "-:"
  std::shared_ptr<const tok::Regex> pattern;
  nlohmann::ordered_json overrides;
};

// quantization_config of a GPTQ checkpoint (the fields this project reads and writes).
struct GptqQuantConfig {
  int bits = 4;
  int64_t group_size = 128;  // -1: one group per row
  bool sym = true;
  bool desc_act = false;
  bool zeros_minus_one = true;           // checkpoint_format "gptq" (v1); "gptq_v2" stores the zeros themselves
  std::vector<GptqDynamicRule> dynamic;  // in file order
};

// Whether config.json declares a GPTQ checkpoint (quantization_config.quant_method == "gptq").
bool is_gptq_config(const nlohmann::json& config);
// Parses quantization_config; `where` names config.json in messages.
Expected<GptqQuantConfig> parse_gptq_config(const nlohmann::ordered_json& qc, const std::string& where);

// The settings of one module after `dynamic` (GPTQModel's dynamic_get).
struct GptqModuleConfig {
  bool quantized = true;  // false: a "-:" rule matched
  int bits = 4;
  int64_t group_size = 128;
  bool sym = true;
};
Expected<GptqModuleConfig> gptq_module_config(const GptqQuantConfig& c, const std::string& module,
                                              const std::string& where);
// A dynamic key matching exactly `module`: "+:^model\.layers\.0\.mlp\.down_proj$" (or "-:…").
std::string gptq_dynamic_key(const std::string& module, bool quantized);

inline bool gptq_bits_supported(int bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

// n codes of `bits` bits as the little-endian bit stream above: n·bits/32 words written at
// words[0], words[stride], … (n·bits must be a multiple of 32).
void gptq_pack(const uint8_t* codes, int64_t n, int bits, uint32_t* words, int64_t stride);
void gptq_unpack(const uint32_t* words, int64_t stride, int64_t n, int bits, uint8_t* codes);
// The v1 offset of packed zeros: a 1 at the first bit of every field that starts in word `word`.
uint32_t gptq_zero_offset(int bits, int64_t word);
// Converts one row of n packed zero words (n·32/bits zeros) from zeros to the v1 form (zero − 1,
// by packing units as above) and back.
void gptq_zeros_to_v1(uint32_t* words, int64_t n, int bits);
void gptq_zeros_from_v1(uint32_t* words, int64_t n, int bits);

// Replaces the packed tensors of every quantized module of a GPTQ checkpoint (p.qweight, p.qzeros,
// p.scales, p.g_idx) by one tensor p.weight decoded on read (fp32, [out, in], or [in, out] when the
// architecture stores Conv1D weights, as gpt2 does). Shapes and dtypes are checked here (header
// only); g_idx values and the codes are checked when a tensor is decoded. `keep_alive` owns the
// mapped files the packed tensors point into; `where` names the checkpoint in messages.
Expected<std::vector<TensorInfo>> gptq_resolve_tensors(const std::vector<TensorInfo>& stored, const GptqQuantConfig& c,
                                                       bool conv1d, std::shared_ptr<const void> keep_alive,
                                                       const std::string& where);

}  // namespace lowbit

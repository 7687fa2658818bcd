// Decoders and post-processors of tokenizer.json (tokenizers 0.2x semantics).
// Decoders turn token strings back into text: ByteLevel, Metaspace, Replace, ByteFallback, Fuse,
// Strip, BPEDecoder and Sequence (no decoder: tokens joined with spaces, as tokenizers does).
// Post-processors add the special tokens of `add_special`: TemplateProcessing (single sequence),
// RobertaProcessing, BertProcessing, ByteLevel (nothing to add) and Sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/json_access.h"
#include "core/util/expected.h"

namespace lowbit::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

Expected<std::unique_ptr<Decoder>> make_decoder(const Json& value, const JsonPath& at);

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // The ids of one sequence with the special tokens added around it.
  virtual std::vector<int32_t> process(std::vector<int32_t> ids) const = 0;
};

Expected<std::unique_ptr<PostProcessor>> make_post_processor(const Json& value, const JsonPath& at);

}  // namespace lowbit::tok

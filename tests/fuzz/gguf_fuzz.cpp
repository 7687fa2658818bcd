// libFuzzer target: the GGUF reader (core/io/gguf.h) and what reads its metadata — the model
// config (core/model/config.h) and the tokenizer.ggml.* vocabulary (Tokenizer::from_gguf) — reached
// as `lowbit info/tokenize x.gguf` reach them. Every input gives a result or an Error naming the
// file; accepted tensors lie inside the file, and small ones decode (ggml block types included) or,
// for integer dtypes, give an Unsupported error; an accepted tokenizer encodes and decodes a fixed
// text with every id in its vocabulary.
#include <cstddef>
#include <cstdint>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/tokenizer/tokenizer.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lowbit;
  const auto path = fuzz::write_input(data, size, "input.gguf");
  const auto ck = Checkpoint::open(path);
  if (!ck) {
    fuzz::require_names(ck.error().message, path.string());
    return 0;
  }
  for (const TensorInfo& t : (*ck)->tensors()) {
    fuzz::require(t.file_offset <= size && t.nbytes <= size - t.file_offset, "tensor data lies inside the file", t.name);
    if (t.numel() > (int64_t{1} << 16)) continue;
    // Integer tensors do not decode to fp32: an Unsupported error naming the file, not a crash.
    const auto v = (*ck)->read_f32(t.name);
    if (!v) {
      fuzz::require(v.error().code == ErrorCode::Unsupported, "only the dtype stops a tensor from decoding", v.error().message);
      fuzz::require_names(v.error().message, path.string());
      continue;
    }
    fuzz::require(v->size() == static_cast<size_t>(t.numel()), "decoding gives numel values", t.name);
  }
  const GgufFile& gguf = *(*ck)->gguf();
  if (const auto config = read_model_config(**ck); !config) fuzz::require_names(config.error().message, path.string());
  for (const bool parse_special : {false, true}) {
    const auto tok = Tokenizer::from_gguf(gguf, GgufTokenizerOptions{parse_special});
    if (!tok) {
      fuzz::require_names(tok.error().message, path.string());
      return 0;
    }
    for (const bool add_special : {false, true}) {
      const auto ids = (*tok)->encode(fuzz::kSampleText, add_special);
      if (!ids) continue;  // e.g. a character the vocabulary cannot spell and no unknown token
      for (const int32_t id : *ids) fuzz::require(id >= 0 && id < (*tok)->vocab_size(), "ids lie in the vocabulary", std::to_string(id));
      (void)(*tok)->decode(*ids);
    }
  }
  return 0;
}

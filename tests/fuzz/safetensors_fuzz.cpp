// libFuzzer target: the safetensors reader (core/io/safetensors.h), reached as `lowbit info
// x.safetensors` reaches it, through Checkpoint::open. Every input gives a checkpoint or an Error
// naming the file; in a checkpoint every tensor lies inside the file, and small ones decode
// (touching every byte of their range) or, for integer dtypes, give an Unsupported error.
#include <cstddef>
#include <cstdint>

#include "core/io/checkpoint.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lowbit;
  const auto path = fuzz::write_input(data, size, "input.safetensors");
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
  return 0;
}

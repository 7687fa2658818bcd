// BitsData: the bits per weight of every tensor of a layout, in file order — what the layer table
// page and the report draw as one bar per tensor, coloured by format and labelled by decoder block.
#pragma once

#include <string>
#include <vector>

namespace lowbit {

struct TensorBits {
  std::string name;             // "blk.3.attn_q.weight"
  std::string format;           // "Q4_K"
  double bits_per_weight = 0;
  int block = -1;               // the decoder block; -1 outside the blocks (embeddings, output head)
};

struct BitsData {
  std::vector<TensorBits> tensors;
  double target_bpw = 0;        // the budget, drawn as a dashed line; 0: none
  std::string title;
};

}  // namespace lowbit

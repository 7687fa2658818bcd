#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tiny valid inputs, one folder per target under
tests/fuzz/corpus/. Run it again after changing it (python3 tests/fuzz/make_seeds.py); the files
are checked in so that the fuzz build needs no Python. Standard library only.

Seeds reach the parsers' main branches: every safetensors dtype family, GGUF v2 and v3 with metadata
of every value type, ggml block tensors and both tokenizer models (llama/SentencePiece and gpt2/BPE),
tokenizer.json files using each supported normalizer, pre-tokenizer, decoder and post-processor,
layout files with each format family, and project files from minimal to complete.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- safetensors

def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] packed in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def bf16(*v):
    return b"".join(struct.pack("<f", x)[2:] for x in v)


def f16(*v):
    return struct.pack("<%de" % len(v), *v)


def write_safetensors():
    write("safetensors", "f32_bf16_i64.safetensors", safetensors([
        ("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
        ("v", "BF16", [4], bf16(1.0, -2.0, 0.5, 3.0)),
        ("ids", "I64", [2], struct.pack("<2q", 7, -1)),
    ], {"format": "pt"}))
    write("safetensors", "empty.safetensors", safetensors([]))
    write("safetensors", "small_types.safetensors", safetensors([
        ("h", "F16", [1, 2], f16(0.25, -1.5)),
        ("d", "F64", [1], struct.pack("<d", 3.5)),
        ("b", "BOOL", [3], b"\x01\x00\x01"),
        ("u", "U8", [2], b"\x07\xff"),
        ("i8", "I8", [2], b"\x80\x7f"),
        ("i16", "I16", [1], struct.pack("<h", -3)),
        ("i32", "I32", [1], struct.pack("<i", 65536)),
        ("scalar", "F32", [], f32(9.0)),
        ("none", "F32", [0, 4], b""),
    ]))
    # A Hugging Face-style llama layer with tensors out of file order in the header.
    raw = safetensors([
        ("model.layers.0.input_layernorm.weight", "BF16", [4], bf16(1, 1, 1, 1)),
        ("model.layers.0.self_attn.q_proj.weight", "BF16", [4, 4], bf16(*[0.02 * i for i in range(16)])),
        ("model.embed_tokens.weight", "BF16", [3, 4], bf16(*[0.1 * i for i in range(12)])),
    ], {"format": "pt", "total_size": "72"})
    write("safetensors", "llama_layer.safetensors", raw)


# ---------------------------------------------------------------- GGUF

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 8, 30


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gvalue(t, v):
    if t == STRING:
        return gstr(v)
    return struct.pack("<" + SCALAR[t], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)] with value (elem_type, [values]) for arrays; tensors: [(name, ggml_type, ne, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += gstr(key) + struct.pack("<I", t)
        if t == ARRAY:
            elem, values = v
            out += struct.pack("<IQ", elem, len(values)) + b"".join(gvalue(elem, x) for x in values)
        else:
            out += gvalue(t, v)
    offsets, off = [], 0
    for _, _, _, raw in tensors:
        off = (off + alignment - 1) // alignment * alignment
        offsets.append(off)
        off += len(raw)
    for (name, t, ne, _), o in zip(tensors, offsets):
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", t, o)
    data_start = (len(out) + alignment - 1) // alignment * alignment
    out += b"\0" * (data_start - len(out))
    for (_, _, _, raw), o in zip(tensors, offsets):
        out += b"\0" * (data_start + o - len(out)) + raw
    return out


def q8_0_block(scale_bits, start):
    return struct.pack("<H", scale_bits) + bytes((start + i) & 0xFF for i in range(32))


def write_gguf():
    # llama with a SentencePiece vocabulary: byte tokens, scores, token types.
    tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x20>", "\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "H", "e", "l", "o", "\u2581H"]
    types = [2, 3, 3, 6, 6] + [1] * (len(tokens) - 5)
    scores = [0.0, 0.0, 0.0, 0.0, 0.0] + [-float(i) for i in range(len(tokens) - 5)]
    hidden = 8
    kvs = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, "seed"),
        ("llama.context_length", U32, 64),
        ("llama.embedding_length", U32, hidden),
        ("llama.block_count", U32, 1),
        ("llama.feed_forward_length", U32, 16),
        ("llama.attention.head_count", U32, 2),
        ("llama.attention.head_count_kv", U32, 2),
        ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.scores", ARRAY, (F32, scores)),
        ("tokenizer.ggml.token_type", ARRAY, (I32, types)),
        ("tokenizer.ggml.bos_token_id", U32, 1),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.ggml.unknown_token_id", U32, 0),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
    ]
    tensors = [
        ("token_embd.weight", GGML_F32, [hidden, len(tokens)], f32(*[0.01 * i for i in range(hidden * len(tokens))])),
        ("output_norm.weight", GGML_F32, [hidden], f32(*[1.0] * hidden)),
        ("blk.0.ffn_down.weight", GGML_Q8_0, [32, 2], q8_0_block(0x3C00, 0) + q8_0_block(0x3800, 100)),
    ]
    write("gguf", "llama_spm.gguf", gguf(kvs, tensors))

    # gpt2-style byte-level BPE vocabulary with merges, a 64-byte alignment, f16 and q4_0 tensors.
    tokens = ["H", "e", "l", "o", ",", "!", "\u0120", "w", "r", "d", "ll", "llo", "\u0120w", "<|endoftext|>"]
    kvs = [
        ("general.architecture", STRING, "qwen2"),
        ("general.alignment", U32, 64),
        ("qwen2.embedding_length", U32, 4),
        ("qwen2.block_count", U32, 1),
        ("qwen2.feed_forward_length", U32, 8),
        ("qwen2.attention.head_count", U32, 2),
        ("tokenizer.ggml.model", STRING, "gpt2"),
        ("tokenizer.ggml.pre", STRING, "qwen2"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.token_type", ARRAY, (I32, [1] * (len(tokens) - 1) + [3])),
        ("tokenizer.ggml.merges", ARRAY, (STRING, ["l l", "ll o", "\u0120 w"])),
        ("tokenizer.ggml.eos_token_id", U32, len(tokens) - 1),
    ]
    tensors = [
        ("token_embd.weight", GGML_F16, [4, len(tokens)], f16(*[0.125 * (i % 7) for i in range(4 * len(tokens))])),
        ("blk.0.attn_q.weight", GGML_Q4_0, [32, 1], struct.pack("<H", 0x3C00) + bytes(range(16))),
    ]
    write("gguf", "gpt2_bpe.gguf", gguf(kvs, tensors, alignment=64))

    # GGUF v2, metadata of every value type, no tensors.
    kvs = [
        ("u8", U8, 200), ("i8", I8, -100), ("u16", U16, 60000), ("i16", I16, -30000),
        ("u32", U32, 4000000000), ("i32", I32, -2000000000), ("f32", F32, 0.5), ("bool", BOOL, False),
        ("string", STRING, "text \u00e9"), ("u64", U64, 2 ** 63), ("i64", I64, -(2 ** 62)), ("f64", F64, -2.25),
        ("arr.u8", ARRAY, (U8, [1, 2, 3])), ("arr.i64", ARRAY, (I64, [-1, 5])), ("arr.f64", ARRAY, (F64, [0.5])),
        ("arr.bool", ARRAY, (BOOL, [True, False])), ("arr.empty", ARRAY, (STRING, [])),
    ]
    write("gguf", "v2_all_types.gguf", gguf(kvs, [], version=2))


# ---------------------------------------------------------------- tokenizer.json

def byte_level_tokenizer():
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 8, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {"H": 0, "e": 1, "l": 2, "o": 3, "\u0120": 4, "ll": 5, "llo": 6, "\u0120w": 7, "w": 9},
                  "merges": ["l l", "ll o", ["\u0120", "w"]]},
    }


def sentencepiece_tokenizer():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in (0x0A, 0x20, 0x21, 0xC3, 0xA9):
        vocab["<0x%02X>" % b] = len(vocab)
    for t in ["\u2581", "H", "e", "l", "o", "\u2581H", "ll", "llo", "\u2581He"]:
        vocab[t] = len(vocab)
    return {
        "version": "1.0",
        "added_tokens": [
            {"id": 0, "content": "<unk>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
            {"id": 1, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
            {"id": 2, "content": "</s>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": ["\u2581 H", "l l", "ll o", "\u2581H e"]},
    }


def metaspace_tokenizer():
    return {
        "added_tokens": [{"id": 7, "content": "[MASK]", "single_word": True, "lstrip": True, "rstrip": True,
                          "normalized": True, "special": False}],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "NFC"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "Punctuation", "behavior": "Isolated"},
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}]},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1],
                           "trim_offsets": True, "add_prefix_space": True},
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
        "model": {"type": "BPE", "unk_token": "<unk>",
                  "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "\u2581": 3, "a": 4, "\u2581a": 5, "1": 6},
                  "merges": ["\u2581 a"]},
    }


def split_tokenizer():
    return {
        "added_tokens": [{"id": 6, "content": "<sep>", "single_word": False, "lstrip": True, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|\\p{L}+|\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
            {"type": "WhitespaceSplit"},
            {"type": "CharDelimiterSplit", "delimiter": "-"},
            {"type": "Whitespace"}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "trim_offsets": False},
            {"type": "BertProcessing", "sep": ["<sep>", 6], "cls": ["<sep>", 6]}]},
        "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
        "model": {"type": "BPE", "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>",
                  "vocab": {"a": 0, "##b": 1, "a</w>": 2, "##b</w>": 3, "ab</w>": 4, "c": 5},
                  "merges": ["a ##b</w>"], "ignore_merges": True},
    }


def write_tokenizers():
    for name, tok in [("byte_level", byte_level_tokenizer()), ("sentencepiece", sentencepiece_tokenizer()),
                      ("metaspace", metaspace_tokenizer()), ("split", split_tokenizer())]:
        write("tokenizer", name + ".json", json.dumps(tok, ensure_ascii=False, indent=1))
    write("tokenizer", "minimal.json", '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}')


# ---------------------------------------------------------------- layouts

def write_layouts():
    write("layout", "mixed.json", json.dumps({
        "format": "lowbit-layout", "version": 1, "model": "seed", "method": "gptq",
        "tensors": {"model.layers.0.self_attn.q_proj.weight": "q4_k", "model.layers.0.mlp.down_proj.weight": "q6_k",
                    "model.layers.0.mlp.up_proj.weight": "int4g128a", "model.layers.0.mlp.gate_proj.weight": "int3g0s",
                    "model.embed_tokens.weight": "q8_0", "lm_head.weight": "bf16", "model.layers.0.self_attn.o_proj.weight": "onebit"},
        "predicted": {"bpw": 4.5, "ppl": None, "per_tensor": [1, 2.5, "x"]}}, indent=2))
    write("layout", "minimal.json", '{"format": "lowbit-layout", "version": 1, "tensors": {}}')
    write("layout", "awq.json", json.dumps({"format": "lowbit-layout", "version": 1, "method": "awq+gptq",
                                            "tensors": {"a": "q2_k", "b": "q3_k", "c": "q4_0", "d": "q5_1", "e": "f16"}}))


# ---------------------------------------------------------------- projects

def write_projects():
    write("project", "minimal.lowbit", '{"format": "lowbit-project", "version": 1, "model": "model"}')
    write("project", "full.lowbit", json.dumps({
        "format": "lowbit-project", "version": 1, "model": "models/demo",
        "calibration": {"file": "calib.txt", "samples": 16, "ctx": 256, "seed": 3},
        "analysis_dir": "analysis",
        "plan": {"budget_bpw": 3.5, "formats": ["q2_k", "q4_k", "q8_0"], "method": "gptq"},
        "layouts": [{"name": "plan 1", "layout": {"format": "lowbit-layout", "version": 1, "method": "gptq",
                                                  "tensors": {"model.layers.0.mlp.down_proj.weight": "q4_k"}}}],
        "comparison": {"text": "/data/valid.txt", "ctx": 256, "rows": [
            {"name": "plan 1", "method": "gptq", "ppl": 31.9, "ppl_stderr": 0.2, "seconds": 4.5, "file_bytes": 123456,
             "bits_per_weight": 4.2, "kld": {"mean": 0.01, "p99": 0.2, "top1_agreement": 0.97}, "predicted_ppl": 31.8,
             "warnings": ["w"]},
            {"name": "q8_0", "method": "rtn", "ppl": 31.77, "file_bytes": None, "bits_per_weight_linear": 8.5}]},
        "exports": [{"path": "out/model.gguf", "to": "gguf", "layout": "plan 1", "bytes": 123456,
                     "bits_per_weight": 4.2, "seconds": 3.0}],
        "notes": ["Hessian of layer 3 not positive definite; damping raised to 0.05"]}, indent=1))
    write("project", "bytes_budget.lowbit", json.dumps({
        "format": "lowbit-project", "version": 1, "model": "/abs/model.gguf", "analysis_dir": None,
        "plan": {"budget_bytes": 1000000, "formats": ["q3_k"], "method": "rtn"}, "layouts": [], "exports": [], "notes": []}))


if __name__ == "__main__":
    write_safetensors()
    write_gguf()
    write_tokenizers()
    write_layouts()
    write_projects()
    for target in sorted(os.listdir(CORPUS)):
        files = sorted(os.listdir(os.path.join(CORPUS, target)))
        sizes = [os.path.getsize(os.path.join(CORPUS, target, f)) for f in files]
        print("%-12s %d seeds, %d to %d bytes" % (target, len(files), min(sizes), max(sizes)))

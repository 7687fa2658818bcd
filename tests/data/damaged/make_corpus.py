#!/usr/bin/env python3
"""Writes the damaged-file corpus of tests/data/damaged/ and its manifest.json: small files (a few
hundred bytes), each damaged in one named way, with the parser that reads it, the ErrorCode it must
give and a phrase its message must contain (tests/core/damaged_corpus_test.cpp checks each, and that
the message names the file). Regressions found by the fuzzers of tests/fuzz are added here as
`fuzz_*` cases (minimized by hand to the damage that mattered). Run it again after changing it:
    python3 tests/data/damaged/make_corpus.py
Standard library only; the file builders are shared with tests/fuzz/make_seeds.py.

Parsers (how the test opens a file):
  safetensors     SafetensorsFile::open
  gguf            GgufFile::open
  gguf-tokenizer  GgufFile::open must succeed, then Tokenizer::from_gguf fails
  gguf-config     Checkpoint::open must succeed, then read_model_config fails
  tokenizer       Tokenizer::from_json_file
  layout          read_layout
"""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fuzz"))
from make_seeds import (ARRAY, F32, GGML_F32, GGML_Q8_0, I32, STRING, U32, U64, U8,  # noqa: E402
                        f32, gguf, gstr, safetensors)

cases = []


def case(name, parser, code, message, data, about):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) <= 1024, name + " is too large for the corpus"
    folder = {"safetensors": "safetensors", "gguf": "gguf", "gguf-tokenizer": "gguf", "gguf-config": "gguf",
              "tokenizer": "tokenizer", "layout": "layout"}[parser]
    rel = folder + "/" + name
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, rel), "wb") as f:
        f.write(data)
    cases.append({"file": rel, "parser": parser, "code": code, "message": message, "about": about})


# ---------------------------------------------------------------- safetensors

def st_raw(header, data=b""):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h)) + h + data


def safetensors_cases():
    ok = safetensors([("w", "F32", [2], f32(1, 2))])
    case("too_short.safetensors", "safetensors", "Format", "shorter than the 8-byte header length", ok[:5],
         "5 bytes: the header length itself is cut")
    case("header_len_past_end.safetensors", "safetensors", "Format", "runs past the end of the file",
         struct.pack("<Q", 1 << 20) + b"{}", "a header length of 1 MiB in a 10-byte file")
    case("header_absurd_len.safetensors", "safetensors", "Format", "runs past the end of the file",
         struct.pack("<Q", 0xFFFFFFFFFFFFFFFF) + b"{}", "a header length of 2^64-1 (overflow bait)")
    case("header_not_json.safetensors", "safetensors", "Format", "header is not well-formed JSON",
         st_raw('{"w": {"dtype": "F32",'), "the JSON header stops mid-object")
    case("header_not_object.safetensors", "safetensors", "Format", "header is not a JSON object", st_raw("[1, 2]"),
         "the header is an array")
    case("entry_not_object.safetensors", "safetensors", "Format", "entry is not an object", st_raw('{"w": 3}'),
         "a tensor entry is a number")
    case("missing_dtype.safetensors", "safetensors", "Format", "has no string 'dtype'",
         st_raw('{"w": {"shape": [2], "data_offsets": [0, 8]}}', b"\0" * 8), "no dtype")
    case("unknown_dtype.safetensors", "safetensors", "Unsupported", "unknown dtype 'F12'",
         st_raw('{"w": {"dtype": "F12", "shape": [2], "data_offsets": [0, 4]}}', b"\0" * 4), "dtype F12")
    case("negative_dim.safetensors", "safetensors", "Format", "not a non-negative integer",
         st_raw('{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}', b"\0" * 8), "shape [-2]")
    case("shape_overflow.safetensors", "safetensors", "Format", "element count overflows",
         st_raw('{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}', b"\0" * 8),
         "2^32 x 2^32 elements")
    case("offsets_not_pair.safetensors", "safetensors", "Format", "no 'data_offsets' pair",
         st_raw('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}', b"\0" * 8), "one offset")
    case("offsets_reversed.safetensors", "safetensors", "Format", "end before they begin",
         st_raw('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}', b"\0" * 8), "[8, 0]")
    case("offsets_past_data.safetensors", "safetensors", "Format", "past the data area",
         st_raw('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', b"\0" * 4),
         "the data area is 4 bytes, the tensor 8 (a truncated file)")
    case("size_mismatch.safetensors", "safetensors", "Format", "but its data_offsets span",
         st_raw('{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', b"\0" * 8), "f32 [3] in 8 bytes")
    case("overlapping.safetensors", "safetensors", "Format", "overlapping byte ranges",
         st_raw('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
                '"b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}', b"\0" * 12), "two tensors share bytes")
    case("metadata_not_object.safetensors", "safetensors", "Format", "__metadata__ is not an object",
         st_raw('{"__metadata__": "pt"}'), "__metadata__ is a string")


# ---------------------------------------------------------------- GGUF

def gguf_header(version=3, n_tensors=0, n_kv=0):
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def kv_raw(key, t, payload):
    return gstr(key) + struct.pack("<I", t) + payload


def gguf_cases():
    case("bad_magic.gguf", "gguf", "Format", "expected magic 'GGUF', found 'GGML'", b"GGML" + gguf_header()[4:],
         "the magic of the old ggml format")
    case("short_header.gguf", "gguf", "Format", "shorter than the 24-byte GGUF header", gguf_header()[:20],
         "the header is cut inside the key/value count")
    case("version_1.gguf", "gguf", "Unsupported", "unsupported GGUF version 1", gguf_header(version=1),
         "the obsolete v1 layout")
    case("big_endian.gguf", "gguf", "Unsupported", "big-endian GGUF file", b"GGUF" + struct.pack(">I", 3) + b"\0" * 16,
         "version 3 written big-endian")
    case("absurd_tensor_count.gguf", "gguf", "Format", "tensor count 1152921504606846976 is absurd",
         gguf_header(n_tensors=1 << 60), "2^60 tensors in 24 bytes")
    case("absurd_kv_count.gguf", "gguf", "Format", "metadata key/value count 18446744073709551615 is absurd",
         gguf_header(n_kv=0xFFFFFFFFFFFFFFFF), "2^64-1 key/value pairs")
    case("key_past_end.gguf", "gguf", "Format", "bytes are left in the file",
         gguf_header(n_kv=1) + struct.pack("<Q", 1 << 40) + b"general.name" + b"\0" * 4, "a 1 TiB key")
    case("unknown_value_type.gguf", "gguf", "Format", "unknown value type 13",
         gguf_header(n_kv=1) + kv_raw("general.name", 13, b"\0" * 8), "value type 13")
    case("array_of_arrays.gguf", "gguf", "Unsupported", "arrays of arrays are not supported",
         gguf_header(n_kv=1) + kv_raw("a", ARRAY, struct.pack("<IQ", ARRAY, 1) + struct.pack("<IQ", U8, 0)),
         "an array whose elements are arrays")
    case("array_too_long.gguf", "gguf", "Format", "array claims 1099511627776 u8 elements",
         gguf_header(n_kv=1) + kv_raw("a", ARRAY, struct.pack("<IQ", U8, 1 << 40) + b"\0" * 8), "2^40 u8 in 8 bytes")
    case("string_value_past_end.gguf", "gguf", "Format", "string value claims 100 bytes",
         gguf_header(n_kv=1) + kv_raw("general.name", STRING, struct.pack("<Q", 100) + b"abc"), "a 100-byte string in 3")
    case("duplicate_key.gguf", "gguf", "Format", "duplicate key",
         gguf_header(n_kv=2) + kv_raw("k", U32, struct.pack("<I", 1)) + kv_raw("k", U32, struct.pack("<I", 2)),
         "key k twice")
    case("bad_alignment.gguf", "gguf", "Format", "general.alignment must be a nonzero power of two, found 24",
         gguf([("general.alignment", U32, 24)], []), "alignment 24")
    case("alignment_type.gguf", "gguf", "Format", "general.alignment must be a u32, found a u64",
         gguf([("general.alignment", U64, 32)], []), "alignment stored as u64")

    def one_tensor(n_dims, ne, ggml_type, offset, data=b""):
        out = gguf_header(n_tensors=1) + gstr("t") + struct.pack("<I", n_dims)
        out += b"".join(struct.pack("<Q", n) for n in ne) + struct.pack("<IQ", ggml_type, offset)
        out += b"\0" * (-len(out) % 32)
        return out + data

    case("n_dims_zero.gguf", "gguf", "Format", "n_dims is 0, expected 1 to 4", one_tensor(0, [], GGML_F32, 0),
         "a tensor of no dimensions")
    case("n_dims_five.gguf", "gguf", "Format", "n_dims is 5, expected 1 to 4",
         one_tensor(5, [1] * 5, GGML_F32, 0, b"\0" * 4), "five dimensions")
    case("dim_zero.gguf", "gguf", "Format", "expected a positive 63-bit count", one_tensor(1, [0], GGML_F32, 0),
         "ne[0] = 0")
    case("numel_overflow.gguf", "gguf", "Format", "element count overflows 63 bits",
         one_tensor(2, [1 << 40, 1 << 40], GGML_F32, 0), "2^40 x 2^40")
    case("unknown_ggml_type.gguf", "gguf", "Unsupported", "unsupported ggml type id 99",
         one_tensor(1, [4], 99, 0, b"\0" * 16), "type 99")
    case("row_not_blocks.gguf", "gguf", "Format", "not a multiple of the 32-element blocks",
         one_tensor(1, [16], GGML_Q8_0, 0, b"\0" * 34), "q8_0 rows of 16")
    case("tensor_too_big.gguf", "gguf", "Format", "needs more bytes than the whole file has",
         one_tensor(2, [1 << 20, 1 << 10], GGML_F32, 0), "4 GiB of f32 in a small file")
    case("misaligned_offset.gguf", "gguf", "Format", "expected a multiple of the alignment 32",
         one_tensor(1, [4], GGML_F32, 4, b"\0" * 40), "data offset 4")
    case("data_past_end.gguf", "gguf", "Format", "runs past the end of the file",
         one_tensor(1, [40], GGML_F32, 0, b"\0" * 100), "160 bytes of data, 100 present (truncated)")

    two = gguf_header(n_tensors=2)
    for name, offset in (("a", 0), ("b", 0)):
        two += gstr(name) + struct.pack("<I", 1) + struct.pack("<Q", 8) + struct.pack("<IQ", GGML_F32, offset)
    two += b"\0" * (-len(two) % 32) + b"\0" * 32
    case("overlapping_tensors.gguf", "gguf", "Format", "have overlapping data", two, "two tensors at offset 0")
    dup = gguf_header(n_tensors=2)
    for offset in (0, 32):
        dup += gstr("t") + struct.pack("<I", 1) + struct.pack("<Q", 8) + struct.pack("<IQ", GGML_F32, offset)
    dup += b"\0" * (-len(dup) % 32) + b"\0" * 64
    case("duplicate_tensor.gguf", "gguf", "Format", "duplicate tensor name", dup, "tensor t twice")


def gguf_tokenizer_cases():
    toks = ["<unk>", "<s>", "</s>", "a"]
    case("tok_missing_model.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.model is missing",
         gguf([("general.architecture", STRING, "llama")], []), "no tokenizer keys")
    case("tok_unknown_model.gguf", "gguf-tokenizer", "Unsupported", "tokenizer.ggml.model 'bert' is not supported",
         gguf([("tokenizer.ggml.model", STRING, "bert"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks))], []),
         "a WordPiece vocabulary")
    case("tok_tokens_not_strings.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.tokens is missing or not an array of strings",
         gguf([("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (U32, [1, 2]))], []),
         "tokens stored as integers")
    case("tok_duplicate_token.gguf", "gguf-tokenizer", "Format", "has 'a' twice",
         gguf([("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks + ["a"]))], []),
         "token a at ids 3 and 4")
    case("tok_short_scores.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.scores is not an array of 4 numbers",
         gguf([("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks)),
               ("tokenizer.ggml.scores", ARRAY, (F32, [0.0, 0.0]))], []), "two scores for four tokens")
    case("tok_scores_strings.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.scores is not an array of 4 numbers",
         gguf([("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks)),
               ("tokenizer.ggml.scores", ARRAY, (STRING, ["0", "1", "2", "3"]))], []),
         "scores stored as strings (read past an empty vector before the fix; found reading the code)")
    case("tok_short_types.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.token_type is not an array of 4 integers",
         gguf([("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks)),
               ("tokenizer.ggml.token_type", ARRAY, (I32, [1]))], []), "one token type for four tokens")
    case("tok_no_merges.gguf", "gguf-tokenizer", "Format", "tokenizer.ggml.merges is missing",
         gguf([("tokenizer.ggml.model", STRING, "gpt2"), ("tokenizer.ggml.tokens", ARRAY, (STRING, toks))], []),
         "a gpt2 vocabulary without merges")
    case("tok_unknown_pre.gguf", "gguf-tokenizer", "Unsupported", "tokenizer.ggml.pre 'martian' is not supported",
         gguf([("tokenizer.ggml.model", STRING, "gpt2"), ("tokenizer.ggml.pre", STRING, "martian"),
               ("tokenizer.ggml.tokens", ARRAY, (STRING, toks)), ("tokenizer.ggml.merges", ARRAY, (STRING, []))], []),
         "a pre-tokenizer llama.cpp does not know")
    case("cfg_no_architecture.gguf", "gguf-config", "Format", "GGUF has no general.architecture",
         gguf([("general.name", STRING, "x")], []), "no general.architecture")
    case("cfg_unknown_architecture.gguf", "gguf-config", "Unsupported", "GGUF architecture 'mamba' is not supported",
         gguf([("general.architecture", STRING, "mamba")], []), "architecture mamba")
    case("fuzz_cfg_implausible_dims.gguf", "gguf-config", "Format", "model config: dimensions are implausibly large",
         gguf([("general.architecture", STRING, "qwen2"), ("qwen2.embedding_length", U32, 1 << 21),
               ("qwen2.block_count", U32, 1), ("qwen2.feed_forward_length", U32, 8),
               ("qwen2.attention.head_count", U32, 2)], [("token_embd.weight", GGML_F32, [4, 2], f32(*[0.0] * 8))]),
         "fuzz_gguf: a hidden size of 2^21; the error did not name the file before the fix (ModelConfig::validate)")
    case("cfg_missing_sizes.gguf", "gguf-config", "Format", "GGUF lacks one of llama.",
         gguf([("general.architecture", STRING, "llama"), ("llama.embedding_length", U32, 8)], []),
         "no block count, heads or FFN size")


# ---------------------------------------------------------------- tokenizer.json

def tokenizer_cases():
    def tok(**changes):
        t = {"added_tokens": [{"id": 4, "content": "<s>", "special": True}],
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {"l": 0, "o": 1, "ll": 2, "llo": 3}, "merges": ["l l", "ll o"]}}
        for path, value in changes.items():
            node = t
            keys = path.split("__")
            for k in keys[:-1]:
                node = node[k]
            if value is None:
                node.pop(keys[-1], None)
            else:
                node[keys[-1]] = value
        return json.dumps(t, ensure_ascii=False)

    case("not_json.json", "tokenizer", "Format", "not valid JSON", '{"model": {"type": "BPE", ', "cut mid-object")
    case("top_level_array.json", "tokenizer", "Format", "expected an object, found array", "[1, 2, 3]",
         "the top level is an array")
    case("no_model.json", "tokenizer", "Format", "model: missing", tok(model=None), "no model")
    case("unigram.json", "tokenizer", "Unsupported", "model type 'Unigram' is not supported",
         json.dumps({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}), "a Unigram model")
    case("dropout.json", "tokenizer", "Unsupported", "BPE dropout is random", tok(model__dropout=0.1), "dropout 0.1")
    case("vocab_not_object.json", "tokenizer", "Format", "model.vocab: expected an object of token: id, found array",
         tok(model__vocab=["a", "b"]), "the vocabulary is a list")
    case("vocab_negative_id.json", "tokenizer", "Format", "is out of range", tok(model__vocab={"a": -1}),
         "id -1")
    case("sparse_vocab_id.json", "tokenizer", "Format", "id 2147483000 of token 'a' leaves more than 65536 ids unused",
         tok(model__vocab={"a": 2147483000}),
         "an id near 2^31: the dense id table asked for 64 GB (found reading the code; fuzz_tokenizer "
         "reported it as an ASan out-of-memory)")
    case("vocab_id_string.json", "tokenizer", "Format", "expected an integer id, found string",
         tok(model__vocab={"a": "0"}), "id \"0\"")
    case("merge_unknown_token.json", "tokenizer", "Format", "is not in the vocabulary", tok(model__merges=["l q"]),
         "a merge of a token the vocabulary lacks")
    case("merge_one_part.json", "tokenizer", "Format", 'expected "left right"',
         tok(model__merges=["llo"]), "a merge of one part")
    case("bad_regex.json", "tokenizer", "Format", "regex '(?<'",
         tok(pre_tokenizer={"type": "Split", "pattern": {"Regex": "(?<"}, "behavior": "Isolated", "invert": False}),
         "a Split pattern PCRE2 cannot compile")
    case("unknown_pre_tokenizer.json", "tokenizer", "Unsupported", "pre-tokenizer type 'BertPreTokenizer' is not supported",
         tok(pre_tokenizer={"type": "BertPreTokenizer"}), "a pre-tokenizer this loader lacks")
    case("unknown_normalizer.json", "tokenizer", "Unsupported", "normalizer type 'Lowercase' is not supported",
         tok(normalizer={"type": "Lowercase"}), "a normalizer this loader lacks")
    case("unknown_decoder.json", "tokenizer", "Unsupported", "decoder type 'WordPiece' is not supported",
         tok(decoder={"type": "WordPiece"}), "a decoder this loader lacks")
    case("template_no_ids.json", "tokenizer", "Format", "no ids for the template's token '<s>'",
         tok(post_processor={"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}], "special_tokens": {}}),
         "a template naming a token it has no ids for")
    case("template_id_outside.json", "tokenizer", "Format", "post_processor adds id 4000, which is not in the vocabulary",
         tok(post_processor={"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}],
                             "special_tokens": {"<s>": {"id": "<s>", "ids": [4000]}}}), "a template id past the vocabulary")
    case("added_token_no_content.json", "tokenizer", "Format", "added_tokens[0].content: missing",
         tok(added_tokens=[{"id": 9, "special": True}]), "an added token without content")
    case("strip_negative.json", "tokenizer", "Format", "start and stop must not be negative",
         tok(decoder={"type": "Strip", "content": " ", "start": -1, "stop": 0}), "Strip start -1")


# ---------------------------------------------------------------- layouts

def layout_cases():
    def layout(**changes):
        j = {"format": "lowbit-layout", "version": 1, "model": "m", "method": "rtn",
             "tensors": {"model.layers.0.mlp.up_proj.weight": "q4_k"}}
        j.update(changes)
        return json.dumps(j)

    case("not_json.json", "layout", "Format", "not valid JSON", '{"format": "lowbit-layout", "tensors": {', "cut mid-object")
    case("not_a_layout.json", "layout", "Format", "not a lowbit layout", layout(format="gguf"), "format gguf")
    case("format_number.json", "layout", "Format", "not a lowbit layout", layout(format=1),
         "\"format\": 1 (an uncaught nlohmann type_error before the fix; found reading the code, "
         "confirmed with fuzz_layout)")
    case("version_2.json", "layout", "Format", "unsupported layout version", layout(version=2), "version 2")
    case("unknown_method.json", "layout", "Format", "unknown method 'sparsegpt'", layout(method="sparsegpt"),
         "method sparsegpt")
    case("tensors_array.json", "layout", "Format", "\"tensors\" must be an object", layout(tensors=["q4_k"]),
         "tensors as a list")
    case("format_not_string.json", "layout", "Format", "must be a string", layout(tensors={"w": 4}), "format 4")
    case("unknown_format.json", "layout", "Format", "unknown format 'q9_k'", layout(tensors={"w": "q9_k"}),
         "format q9_k")
    case("int_group_too_small.json", "layout", "Format", "unknown format 'int4g4a'", layout(tensors={"w": "int4g4a"}),
         "groups of 4")


if __name__ == "__main__":
    for folder in ("safetensors", "gguf", "tokenizer", "layout"):  # no stale files from older runs
        shutil.rmtree(os.path.join(HERE, folder), ignore_errors=True)
    safetensors_cases()
    gguf_cases()
    gguf_tokenizer_cases()
    tokenizer_cases()
    layout_cases()
    names = [c["file"] for c in cases]
    assert len(names) == len(set(names)), "duplicate file names"
    manifest = {"about": "Damaged inputs and the error each must give; written by make_corpus.py, "
                         "checked by tests/core/damaged_corpus_test.cpp.",
                "cases": cases}
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%d cases" % len(cases))

#!/usr/bin/env python3
"""Builds tiny random-weight sentence-transformers models and their reference
embeddings, the fixtures of crates/embed/tests/local_tiny_models.rs.

No real weights of XLM-RoBERTa or Qwen3 embedding models can be fetched here,
so each architecture the local provider runs is checked against PyTorch
`transformers` + `sentence-transformers` on a model with the same code path
and a few dozen hidden units. Writes, per architecture, a model directory
(config.json, model.safetensors, tokenizer.json, modules.json,
sentence_bert_config.json, 1_Pooling/config.json) and reference.json with
the vectors sentence-transformers computes for TEXTS in one padded batch.

The Rust test needs none of this at run time: the outputs are committed.
Regenerate (the output changes only if the libraries change their numerics):

    python3 -m venv /tmp/venv-tiny
    /tmp/venv-tiny/bin/pip install torch transformers tokenizers safetensors sentence-transformers
    /tmp/venv-tiny/bin/python scripts/make-tiny-models.py [OUT_DIR]

OUT_DIR defaults to crates/embed/tests/fixtures/tiny.
"""

import json
import os
import shutil
import sys

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertModel,
    MPNetConfig,
    MPNetModel,
    PreTrainedTokenizerFast,
    Qwen3Config,
    Qwen3Model,
    XLMRobertaConfig,
    XLMRobertaModel,
)
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling
from sentence_transformers.base.modules import Normalize, Transformer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "crates", "embed", "tests", "fixtures", "tiny")

# Training text for the tiny tokenizers, and the texts embedded as references:
# short and long (past max_seq_length), empty, whitespace, mixed case,
# CJK, Cyrillic, Arabic, emoji, code.
CORPUS = [
    "A database stores rows in tables.",
    "Vector search finds the nearest neighbours of a query embedding.",
    "The quick brown fox jumps over the lazy dog.",
    "Rust guarantees memory safety without a garbage collector.",
    "Espresso is brewed by forcing hot water through finely ground coffee.",
    "Jakarta is the capital of Indonesia. Java island is densely populated.",
    "TiDB is a distributed SQL database compatible with MySQL.",
    "SELECT id FROM t ORDER BY distance LIMIT 10;",
    "fn main() { println!(\"hello\"); }",
    "数据库是按照数据结构来组织、存储和管理数据的仓库。",
    "東京は日本の首都です。",
    "Москва — столица России.",
    "مرحبا بالعالم",
    "naïve café résumé",
    "Hello, world! HELLO, WORLD!",
    "🚀🔥 launch day! 🎉",
]

TEXTS = [
    "A database stores rows in tables.",
    "How to start learning Java programming?",
    "",
    "   leading and trailing spaces   ",
    "UPPER lower MiXeD CaSe",
    "数据库是按照数据结构来组织、存储和管理数据的仓库。",
    "Москва — столица России.",
    "🚀🔥 launch day! 🎉",
    "fn main() { println!(\"hello\"); }",
    # Long: past every tiny model's max_seq_length.
    " ".join(f"word{i} database vector" for i in range(60)),
    "The quick brown fox jumps over the lazy dog. " * 6,
]

# Qwen3 is cut at 512 tokens (TiDB's documented input limit for
# Qwen3-Embedding-0.6B) even though its sentence_bert_config says more.
QWEN3_LONG = " ".join(f"token{i % 97} vector search" for i in range(400))


def randomize(model, seed):
    """Replace transformers' init (tiny std, LayerNorm 1/0) by values that make
    every parameter matter: a loader that swapped weight and bias, or skipped
    a norm, must show up in the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "relative_attention_bias" in name:
                p.copy_(1.0 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def wordpiece_tokenizer(specials, cls, sep, lowercase=True, vocab_size=400):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials)
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
    )
    return tok


def unigram_tokenizer(vocab_size=500):
    """SentencePiece-like, as XLM-RoBERTa's: Metaspace and a Unigram model."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(r"\s+", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>")
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    return tok


def byte_bpe_tokenizer(vocab_size=600):
    """Qwen-like: byte-level BPE, the end-of-text token appended to every input."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS * 3 + [QWEN3_LONG], trainer)
    eot = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", pair="$A <|endoftext|> $B:1 <|endoftext|>:1", special_tokens=[("<|endoftext|>", eot)]
    )
    return tok


def save_tokenizer(tok, out, **special):
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    fast.save_pretrained(out)


def poison_tokenizer_json(out, pad_id, pad_token):
    """Give tokenizer.json the settings all-MiniLM-L6-v2's ships with
    (truncation at a short fixed length, fixed padding): a loader that uses
    them as they are gets every long text wrong."""
    path = os.path.join(out, "tokenizer.json")
    with open(path) as f:
        t = json.load(f)
    t["truncation"] = {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
    t["padding"] = {
        "strategy": {"Fixed": 12},
        "direction": "Right",
        "pad_to_multiple_of": None,
        "pad_id": pad_id,
        "pad_type_id": 0,
        "pad_token": pad_token,
    }
    with open(path, "w") as f:
        json.dump(t, f, ensure_ascii=False)


def write_st_files(out, dim, max_seq_length, pooling, normalize, legacy_pooling):
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if normalize:
        # No folder, as in the original all-MiniLM-L6-v2.
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(out, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
    with open(os.path.join(out, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": max_seq_length, "do_lower_case": False}, f, indent=2)
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    if legacy_pooling:
        keys = {
            "cls": "pooling_mode_cls_token",
            "max": "pooling_mode_max_tokens",
            "mean": "pooling_mode_mean_tokens",
            "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens",
            "weightedmean": "pooling_mode_weightedmean_tokens",
            "lasttoken": "pooling_mode_lasttoken",
        }
        cfg = {"word_embedding_dimension": dim}
        cfg.update({v: (k in pooling) for k, v in keys.items()})
        cfg["include_prompt"] = True
    else:
        cfg = {"embedding_dimension": dim, "pooling_mode": pooling[0] if len(pooling) == 1 else pooling,
               "include_prompt": True}
    with open(os.path.join(out, "1_Pooling", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def reference(out, name, texts, max_seq_length=None, note=""):
    """Embeds `texts` with sentence-transformers as one padded batch."""
    st = SentenceTransformer(out, device="cpu")
    if max_seq_length is not None:
        st.max_seq_length = max_seq_length
    with torch.no_grad():
        emb = st.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=False)
        tokens = st.tokenize(texts)
    lengths = tokens["attention_mask"].sum(dim=1).tolist()
    items = [
        {"text": t, "n_tokens": int(n), "embedding": [float(x) for x in e]}
        for t, n, e in zip(texts, lengths, emb)
    ]
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"model": name, "note": note, "dims": int(emb.shape[1]), "items": items}, f, ensure_ascii=False)
    print(f"{name}: dims {emb.shape[1]}, token counts {lengths}")


def clean(out):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)


def make_bert(root):
    out = os.path.join(root, "bert")
    clean(out)
    tok = wordpiece_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "[CLS]", "[SEP]")
    save_tokenizer(tok, out, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                   mask_token="[MASK]")
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=48, max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
                     hidden_act="gelu")
    randomize(BertModel(cfg, add_pooling_layer=False), 1).save_pretrained(out, safe_serialization=True)
    # Max and mean concatenated, no Normalize: covers concatenation order and
    # the path without normalisation.
    write_st_files(out, 32, 24, ["max", "mean"], normalize=False, legacy_pooling=True)
    poison_tokenizer_json(out, 0, "[PAD]")
    reference(out, "tiny-bert", TEXTS, note="BertModel, Pooling(max+mean), no Normalize, max_seq_length 24")


def make_mpnet(root):
    out = os.path.join(root, "mpnet")
    clean(out)
    tok = wordpiece_tokenizer(["<s>", "<pad>", "</s>", "[UNK]", "<mask>"], "<s>", "</s>")
    save_tokenizer(tok, out, unk_token="[UNK]", pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                   cls_token="<s>", sep_token="</s>", mask_token="<mask>")
    cfg = MPNetConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=48, max_position_embeddings=80, pad_token_id=1, bos_token_id=0,
                      eos_token_id=2, relative_attention_num_buckets=32, layer_norm_eps=1e-5, hidden_act="gelu")
    randomize(MPNetModel(cfg, add_pooling_layer=False), 2).save_pretrained(out, safe_serialization=True)
    write_st_files(out, 32, 48, ["mean"], normalize=True, legacy_pooling=True)
    poison_tokenizer_json(out, 1, "<pad>")
    reference(out, "tiny-mpnet", TEXTS, note="MPNetModel, Pooling(mean), Normalize, max_seq_length 48")
    # The bucket function itself, for relative positions -600..600.
    from transformers.models.mpnet.modeling_mpnet import MPNetEncoder
    rel = torch.arange(-600, 601)
    buckets = MPNetEncoder.relative_position_bucket(rel, num_buckets=32, max_distance=128)
    with open(os.path.join(root, "mpnet_buckets.json"), "w") as f:
        json.dump({"from": -600, "num_buckets": 32, "max_distance": 128, "buckets": buckets.tolist()}, f)


def make_xlm_roberta(root):
    out = os.path.join(root, "xlm_roberta")
    clean(out)
    tok = unigram_tokenizer()
    # Like the real ones, the tokenizer config says 512-style limit (64 here).
    save_tokenizer(tok, out, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                   cls_token="<s>", sep_token="</s>", model_max_length=64)
    cfg = XLMRobertaConfig(vocab_size=tok.get_vocab_size(), hidden_size=48, num_hidden_layers=2,
                           num_attention_heads=4, intermediate_size=64, max_position_embeddings=66, type_vocab_size=1,
                           pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu")
    randomize(XLMRobertaModel(cfg, add_pooling_layer=False), 3).save_pretrained(out, safe_serialization=True)
    # bge-m3's pipeline: CLS pooling, then Normalize. No max_seq_length in
    # sentence_bert_config: the limit comes from the tokenizer's
    # model_max_length and the positions (66 - 2 = 64).
    write_st_files(out, 48, None, ["cls"], normalize=True, legacy_pooling=False)
    poison_tokenizer_json(out, 1, "<pad>")
    reference(out, "tiny-xlm-roberta", TEXTS + [QWEN3_LONG],
              note="XLMRobertaModel, Pooling(cls), Normalize, positions limit input to 64 tokens")


def make_qwen3(root):
    out = os.path.join(root, "qwen3")
    clean(out)
    tok = byte_bpe_tokenizer()
    save_tokenizer(tok, out, pad_token="<|endoftext|>", eos_token="<|endoftext|>", padding_side="left")
    cfg = Qwen3Config(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=1024,
                      rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
                      attention_bias=False, use_sliding_window=False)
    randomize(Qwen3Model(cfg), 4).save_pretrained(out, safe_serialization=True)
    # Qwen3-Embedding's pipeline: last-token pooling, Normalize; its
    # sentence_bert_config allows far more than the 512 tokens TiDB documents.
    write_st_files(out, 32, 8192, ["lasttoken"], normalize=True, legacy_pooling=True)
    poison_tokenizer_json(out, tok.token_to_id("<|endoftext|>"), "<|endoftext|>")
    reference(out, "tiny-qwen3", TEXTS + [QWEN3_LONG], max_seq_length=512,
              note="Qwen3Model (GQA 4/2, head_dim 16), Pooling(lasttoken), Normalize, input cut at 512 tokens, "
                   "sentence-transformers pads on the left")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    make_bert(out)
    make_mpnet(out)
    make_xlm_roberta(out)
    make_qwen3(out)
    # Files nobody reads: keep the fixtures small.
    for d, _, files in os.walk(out):
        if os.path.samefile(d, out):
            continue
        for f in files:
            if f in ("README.md", "generation_config.json", "chat_template.jinja"):
                os.remove(os.path.join(d, f))


if __name__ == "__main__":
    main()

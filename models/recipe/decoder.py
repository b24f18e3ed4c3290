"""A decoder-only transformer in plain torch, exported in Hugging Face Optimum's layout.

Two styles share one implementation:
  gpt2  - learned absolute positions, LayerNorm, GELU MLP, biases, multi-head attention;
  llama - rotary positions, RMSNorm, SwiGLU MLP, no biases, grouped-query attention.

The ONNX graph takes input_ids [batch, seq], attention_mask [batch, past + seq],
position_ids [batch, seq] and past_key_values.N.key / .value [batch, kv_heads, past, head_dim]
(past may be 0 long), and returns logits [batch, seq, vocab] and present.N.key / .value
[batch, kv_heads, past + seq, head_dim] - what Optimum's decoder exports (and transformers.js)
use, so Cairn's engine runs these models and real exported ones the same way.
"""
import dataclasses
import math

import torch
from torch import nn


@dataclasses.dataclass
class Config:
    style: str  # "gpt2" | "llama"
    vocab_size: int
    d_model: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int = 4
    d_ff: int = 256
    max_positions: int = 512
    rope_theta: float = 10000.0

    @property
    def head_dim(self):
        return self.d_model // self.n_head


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        bias = c.style == "gpt2"
        self.c = c
        self.q = nn.Linear(c.d_model, c.n_head * c.head_dim, bias=bias)
        self.k = nn.Linear(c.d_model, c.n_kv_head * c.head_dim, bias=bias)
        self.v = nn.Linear(c.d_model, c.n_kv_head * c.head_dim, bias=bias)
        self.o = nn.Linear(c.n_head * c.head_dim, c.d_model, bias=bias)

    def forward(self, x, rope, past_k, past_v, mask):
        c = self.c
        b, t, _ = x.shape
        q = self.q(x).view(b, t, c.n_head, c.head_dim).transpose(1, 2)
        k = self.k(x).view(b, t, c.n_kv_head, c.head_dim).transpose(1, 2)
        v = self.v(x).view(b, t, c.n_kv_head, c.head_dim).transpose(1, 2)
        if rope is not None:
            cos, sin = rope
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        present = (k, v)
        if c.n_kv_head != c.n_head:  # grouped-query attention: each kv head serves a group
            rep = c.n_head // c.n_kv_head
            s = k.shape[2]
            k = k[:, :, None].expand(b, c.n_kv_head, rep, s, c.head_dim).reshape(b, c.n_head, s, c.head_dim)
            v = v[:, :, None].expand(b, c.n_kv_head, rep, s, c.head_dim).reshape(b, c.n_head, s, c.head_dim)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(c.head_dim)) + mask
        y = torch.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, c.n_head * c.head_dim)
        return self.o(y), present


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        norm = (lambda: nn.LayerNorm(c.d_model)) if c.style == "gpt2" else (lambda: RMSNorm(c.d_model))
        self.norm1 = norm()
        self.attn = Attention(c)
        self.norm2 = norm()
        if c.style == "gpt2":
            self.up = nn.Linear(c.d_model, c.d_ff)
            self.down = nn.Linear(c.d_ff, c.d_model)
        else:
            self.gate = nn.Linear(c.d_model, c.d_ff, bias=False)
            self.up = nn.Linear(c.d_model, c.d_ff, bias=False)
            self.down = nn.Linear(c.d_ff, c.d_model, bias=False)

    def forward(self, x, rope, past_k, past_v, mask):
        a, present = self.attn(self.norm1(x), rope, past_k, past_v, mask)
        x = x + a
        h = self.norm2(x)
        if self.c.style == "gpt2":
            h = self.down(nn.functional.gelu(self.up(h)))
        else:
            h = self.down(nn.functional.silu(self.gate(h)) * self.up(h))
        return x + h, present


class Decoder(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        assert c.style in ("gpt2", "llama")
        assert c.n_head % c.n_kv_head == 0
        self.c = c
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.pos = nn.Embedding(c.max_positions, c.d_model) if c.style == "gpt2" else None
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.norm = nn.LayerNorm(c.d_model) if c.style == "gpt2" else RMSNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied, as in GPT-2 and small Llamas
        if c.style == "llama":
            inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2).float() / c.head_dim))
            self.register_buffer("inv_freq", inv, persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        """GPT-2's initialization: N(0, 0.02), residual projections scaled by depth."""
        for name, p in self.named_parameters():
            if p.dim() < 2:
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                continue
            std = 0.02
            if name.endswith("attn.o.weight") or name.endswith("down.weight"):
                std = 0.02 / math.sqrt(2 * self.c.n_layer)
            nn.init.normal_(p, 0.0, std)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        """past: key0, value0, key1, value1, ...; returns (logits, key0, value0, ...)."""
        c = self.c
        x = self.embed(input_ids)
        rope = None
        if c.style == "gpt2":
            x = x + self.pos(position_ids)
        else:
            freqs = position_ids[..., None].float() * self.inv_freq  # [b, t, hd/2]
            emb = torch.cat((freqs, freqs), dim=-1)[:, None]           # [b, 1, t, hd]
            rope = (emb.cos(), emb.sin())
        t = input_ids.shape[1]
        s = attention_mask.shape[1]
        q_pos = torch.arange(t, device=input_ids.device)[:, None] + (s - t)
        k_pos = torch.arange(s, device=input_ids.device)[None, :]
        allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
        mask = torch.where(allowed, torch.zeros((), dtype=x.dtype),
                           torch.full((), -1e4, dtype=x.dtype))
        presents = []
        for i, blk in enumerate(self.blocks):
            x, (k, v) = blk(x, rope, past[2 * i], past[2 * i + 1], mask)
            presents += [k, v]
        return (self.head(self.norm(x)), *presents)


def io_names(c: Config):
    inputs = ["input_ids", "attention_mask", "position_ids"]
    outputs = ["logits"]
    for i in range(c.n_layer):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs


def empty_past(c: Config, batch=1, length=0, dtype=torch.float32):
    return [torch.zeros(batch, c.n_kv_head, length, c.head_dim, dtype=dtype)
            for _ in range(2 * c.n_layer)]


def export_onnx(model: Decoder, path):
    """Exports with dynamic batch and lengths, traced with a non-empty past."""
    c = model.c
    model.eval()
    t, past = 3, 2
    ids = torch.randint(0, c.vocab_size, (1, t))
    mask = torch.ones(1, past + t, dtype=torch.int64)
    pos = torch.arange(past, past + t)[None]
    inputs, outputs = io_names(c)
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for name in inputs[3:]:
        axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in outputs[1:]:
        axes[name] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, pos, *empty_past(c, 1, past)), path,
                          input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True, dynamo=False)


def tensor_specs(c: Config):
    """The manifest's inputs/outputs for a variant of this model."""
    kv = ["batch_size", str(c.n_kv_head), "past_sequence_length", str(c.head_dim)]
    present = ["batch_size", str(c.n_kv_head), "total_sequence_length", str(c.head_dim)]
    inputs = [{"name": "input_ids", "type": "int64", "shape": ["batch_size", "sequence_length"]},
              {"name": "attention_mask", "type": "int64",
               "shape": ["batch_size", "total_sequence_length"]},
              {"name": "position_ids", "type": "int64", "shape": ["batch_size", "sequence_length"]}]
    outputs = [{"name": "logits", "type": "float32",
                "shape": ["batch_size", "sequence_length", str(c.vocab_size)]}]
    for i in range(c.n_layer):
        for kind in ("key", "value"):
            inputs.append({"name": f"past_key_values.{i}.{kind}", "type": "float32", "shape": kv})
            outputs.append({"name": f"present.{i}.{kind}", "type": "float32", "shape": present})
    return inputs, outputs

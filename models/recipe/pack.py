"""Model pack writing: the manifest (models/README.md) with each file's size and BLAKE2b-256.

The recipe writes manifest.json unsigned; `cairn-cli pack sign` signs it with an Ed25519 key
(the recipe's local key, or a throwaway key in tests).
"""
import hashlib
import json
import os

SCHEMA = "cairn.model-manifest/1"

DEFAULT_PRESETS = {
    "low": {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "repetition_penalty": 1.0,
            "max_new_tokens": 96},
    "preview": {"temperature": 0.7, "top_k": 40, "top_p": 0.9, "repetition_penalty": 1.1,
                "max_new_tokens": 160},
    "final": {"temperature": 0.8, "top_k": 50, "top_p": 0.95, "repetition_penalty": 1.1,
              "max_new_tokens": 256},
}


def file_entry(directory, name):
    h = hashlib.blake2b(digest_size=32)
    size = 0
    with open(os.path.join(directory, name), "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
    return {"name": name, "size": size, "blake2b": h.hexdigest()}


def write_manifest(directory, *, id, version, task, licence, variants, tokenizer_file,
                   chat_format, description, presets=None, extra_files=(), context_length=None):
    files = sorted({v["file"] for v in variants} | ({tokenizer_file} if tokenizer_file else set())
                   | set(extra_files))
    manifest = {
        "schema": SCHEMA,
        "id": id,
        "version": version,
        "task": task,
        "description": description,
        "licence": licence,
        "files": [file_entry(directory, f) for f in files],
        "variants": variants,
    }
    if tokenizer_file:
        manifest["tokenizer"] = {"file": tokenizer_file, "chat_format": chat_format}
    if context_length:
        manifest["context_length"] = context_length
    if presets:
        manifest["presets"] = presets
    with open(os.path.join(directory, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return manifest

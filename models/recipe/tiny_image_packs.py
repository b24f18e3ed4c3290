"""TEST DOUBLES of the image packs, for the browser tests: `tiny-image-safety` and
`tiny-image-tags`, tiny ONNX graphs with the same inputs, outputs, labels, pre- and
post-processing as `cairn-image-safety` (nsfwjs) and `cairn-image-tags` (CenterNet), so the app's
decoding, preprocessing, ONNX Runtime Web sessions, post-processing, licence policy and
provenance run for real in seconds. Their outputs are made up, not a model's:

- tiny-image-safety: logits = W · (mean R, G, B of the [batch, 224, 224, 3] input) + b, so a
  red photo is "Porn" (unsafe) and a grey or green one "Neutral"; probabilities = softmax.
- tiny-image-tags: detections [1, 100, 6] are fixed rows (a dog and an overlapping weaker dog
  box that non-max suppression must drop, a person, a kite under the 0.2 threshold) plus
  0 x the input's mean (so the graph reads its input); wh and keypoints are zeros of their
  shapes. Licence LicenseRef-unknown, commercial_use false, as the real pack.

  python3 tiny_image_packs.py OUT_DIR      # unsigned; tests sign a copy
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_int8  # noqa: E402
import pack  # noqa: E402

SAFETY_LABELS = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
COCO = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
        "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
        "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
        "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
        "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
        "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
        "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
        "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
        "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
        "toothbrush"]
SAFETY_PRE = {"input": "input", "layout": "NHWC", "size": [224, 224], "channels": "RGB (alpha dropped)",
              "dtype": "float32", "scale": "pixel / 255, so values are in [0, 1]",
              "resize": "bilinear with align_corners=true to 224x224"}
TAGS_PRE = {"input": "images", "layout": "NHWC", "size": [512, 512], "channels": "RGB (alpha dropped)",
            "dtype": "float32", "scale": "pixel values as they are, 0-255 (no normalisation)",
            "resize": "bilinear to 512x512, align_corners=false, half_pixel_centers=false"}
TAGS_POST = {"suggested": "drop rows under score 0.2, then non-max suppression at IoU 0.4, keep 10; "
                          "scale boxes by width/512 and height/512"}
# x1, y1, x2, y2 (512 px), score, class
DETECTIONS = [[100, 120, 300, 400, 0.9, 16],   # dog
              [110, 130, 310, 410, 0.8, 16],   # the same dog again: NMS drops it
              [320, 40, 500, 500, 0.6, 0],     # person
              [10, 10, 60, 60, 0.1, 33]]       # kite, under the threshold


def safety_graph():
    w = np.zeros((3, 5), np.float32)
    w[:, 2] = [-8, 4, 4]   # Neutral
    w[:, 3] = [8, -4, -4]  # Porn
    b = np.array([0, 0, 3, 0, 0], np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["rgb"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["rgb", "w"], ["wx"]),
        helper.make_node("Add", ["wx", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    g = helper.make_graph(
        nodes, "tiny-image-safety",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 224, 224, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 5])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def tags_graph():
    det = np.zeros((1, 100, 6), np.float32)
    det[0, :len(DETECTIONS)] = DETECTIONS
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=1),  # [1,1,1,1]
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Reshape", ["nothing", "shape3"], ["nothing3"]),
        helper.make_node("Add", ["det", "nothing3"], ["detections"]),
        helper.make_node("Expand", ["nothing", "wh_shape"], ["wh"]),
        helper.make_node("Expand", ["nothing", "kp_shape"], ["keypoints"]),
    ]
    inits = [numpy_helper.from_array(det, "det"),
             numpy_helper.from_array(np.zeros((1,), np.float32), "zero"),
             numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape3"),
             numpy_helper.from_array(np.array([1, 128, 128, 4], np.int64), "wh_shape"),
             numpy_helper.from_array(np.array([1, 128, 128, 80], np.int64), "kp_shape")]
    g = helper.make_graph(
        nodes, "tiny-image-tags",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 512, 512, 3])],
        [helper.make_tensor_value_info("wh", TensorProto.FLOAT, [1, 128, 128, 4]),
         helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, [1, 128, 128, 80]),
         helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, 100, 6])],
        inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def write(out, name, model, **manifest_args):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    # The wasm variant as the real packs have it (image_int8.py's weight-only int8): the safety
    # double's 3x5 weight becomes int8; the tags double has no weights, so its int8 file is the
    # same graph.
    image_int8.make_int8(os.path.join(d, "model.onnx"), os.path.join(d, image_int8.INT8_FILE),
                         min_elements=1)
    extra = {k: manifest_args.pop(k) for k in ("labels", "preprocessing", "postprocessing")
             if k in manifest_args}
    io = manifest_args.pop("io")
    variants = [dict(name="native-fp32", runtime="ort-native", precision="fp32",
                     execution_providers=["cpu"], file="model.onnx", **io),
                dict(name="wasm-int8", runtime="ort-web", precision="int8",
                     execution_providers=["wasm"], file=image_int8.INT8_FILE, **io),
                dict(name="webgpu-fp32", runtime="ort-web", precision="fp32",
                     execution_providers=["webgpu", "wasm"], file="model.onnx", **io)]
    m = pack.write_manifest(d, version="1.0.0", variants=variants, tokenizer_file=None,
                            chat_format=None, **manifest_args)
    m.update(extra)
    with open(os.path.join(d, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(m, f, indent=2)
        f.write("\n")


def main():
    out = sys.argv[1]
    spec = lambda n, s: {"name": n, "type": "float32", "shape": s}  # noqa: E731
    write(out, "tiny-image-safety", safety_graph(), id="cairn-test-tiny-image-safety",
          task="image-safety",
          licence={"spdx": "CC0-1.0", "commercial_use": True, "attribution": "test double"},
          description="TEST DOUBLE of cairn-image-safety: made-up outputs (red means unsafe).",
          labels=SAFETY_LABELS, preprocessing=SAFETY_PRE,
          io={"inputs": [spec("input", ["batch", "224", "224", "3"])],
              "outputs": [spec("logits", ["batch", "5"]), spec("probabilities", ["batch", "5"])]})
    write(out, "tiny-image-tags", tags_graph(), id="cairn-test-tiny-image-tags", task="image-tags",
          licence={"spdx": "LicenseRef-unknown", "commercial_use": False,
                   "attribution": "test double (licence unknown, as the real pack's)"},
          description="TEST DOUBLE of cairn-image-tags: fixed detections (a dog twice, a person).",
          labels=COCO, preprocessing=TAGS_PRE, postprocessing=TAGS_POST,
          io={"inputs": [spec("images", ["1", "512", "512", "3"])],
              "outputs": [spec("wh", ["1", "128", "128", "4"]),
                          spec("keypoints", ["1", "128", "128", "80"]),
                          spec("detections", ["1", "100", "6"])]})
    print("tiny-image-safety, tiny-image-tags: test doubles written")


if __name__ == "__main__":
    main()

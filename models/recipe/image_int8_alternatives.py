"""The measurement behind image_int8.py's choice of weight-only int8: ONNX Runtime's own
quantizers on a converted image pack, each compared with the fp32 graph like the int8 variant is.
Not part of the build.

  python3 image_int8_alternatives.py PACK_DIR OUT_DIR

Tries image_int8.py's weight-only int8, quantize_dynamic (per channel, int8 and uint8 weights)
and quantize_static (QDQ, per channel, uint8 activations calibrated on 8 generated images) and
prints, for each, the file size and image_int8's agreement figures on 24 other generated images
(4 for image-tags), or why it could not be made or run.
"""
import json
import os
import sys

# Debian's onnx and onnxruntime share one operator-schema registry: onnx.reference (which the
# quantizer imports) must be imported before ONNX Runtime (see quantize.py).
import onnx.reference  # noqa: F401
import onnxruntime as ort  # noqa: E402
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,  # noqa: E402
                                      quantize_dynamic, quantize_static)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_int8  # noqa: E402


class Calibration(CalibrationDataReader):
    def __init__(self, name, images):
        self.items = iter([{name: images[i:i + 1]} for i in range(len(images))])

    def get_next(self):
        return next(self.items, None)


def main():
    pack_dir, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(pack_dir, "manifest.json"), encoding="utf-8") as f:
        task = json.load(f)["task"]
    fp32 = os.path.join(pack_dir, image_int8.FP32_FILE)
    x = image_int8.model_inputs(task, 24 if task == "image-safety" else 4, seed=3)
    ref = image_int8.run_native(fp32, task, x)

    def report(name, make):
        path = os.path.join(out, name.replace(" ", "-") + ".onnx")
        try:
            make(path)
        except Exception as e:  # the quantizer's own failure is the finding
            print(f"{name}: cannot be made: {str(e)[:300]}", flush=True)
            return
        try:
            figures, problems = image_int8.agreement(task, ref, image_int8.run_native(path, task, x))
        except Exception as e:
            print(f"{name}: {os.path.getsize(path)} bytes, cannot run: {str(e)[:300]}", flush=True)
            return
        print(f"{name}: {os.path.getsize(path)} bytes, {json.dumps(figures)}, over the limits: "
              f"{problems or 'no'}", flush=True)

    report("weight-only (image_int8.py)", lambda p: image_int8.make_int8(fp32, p))
    for wt in (QuantType.QInt8, QuantType.QUInt8):
        report(f"dynamic {wt.name}", lambda p, wt=wt: quantize_dynamic(
            fp32, p, weight_type=wt, per_channel=True))
    name = ort.InferenceSession(fp32, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    calib = image_int8.model_inputs(task, 8, seed=5)
    report("static QDQ", lambda p: quantize_static(
        fp32, p, Calibration(name, calib), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8))


if __name__ == "__main__":
    main()

"""Tests of Cairn's tfjs graph-model → ONNX converter (models/recipe/tfjs_graph_to_onnx.py) on a
tiny synthetic graph with the op set of MobileNetV3-CenterNet: fused convolutions (SAME and
VALID, strided), depthwise, Relu6, squeeze-excite (Mean + Mul broadcast), ResizeBilinear,
ConcatV2, Sigmoid, MaxPool peak picking (Equal, Cast), Reshape, TopKV2, integer FloorDiv /
FloorMod, ExpandDims, GatherV2, StridedSlice, float16-quantized and int32 constants. ONNX Runtime
is compared with an independent numpy implementation of those TensorFlow ops. No npm package.

  python3 tests/models/tfjs_graph_to_onnx_test.py
"""
import base64
import json
import os
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "recipe"))
import tfjs_graph_to_onnx as g2o  # noqa: E402
import tfjs_to_onnx  # noqa: E402

K = 5  # top-k detections


def ints(*v):
    return {"list": {"i": [str(x) for x in v]}}


def text(s):
    return {"s": base64.b64encode(s.encode()).decode()}


def node(name, op, inputs=(), **attr):
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def graph_nodes():
    conv_attrs = dict(data_format=text("NHWC"), dilations=ints(1, 1, 1, 1))
    return [
        node("images", "Placeholder", shape={"shape": {"dim": [{"size": "1"}, {"size": "8"},
                                                                {"size": "8"}, {"size": "3"}]}},
             dtype={"type": "DT_FLOAT"}),
        node("c1", "_FusedConv2D", ["images", "c1_w", "c1_b"], strides=ints(1, 2, 2, 1),
             padding=text("SAME"), fused_ops={"list": {"s": [base64.b64encode(b"BiasAdd").decode(),
                                                             base64.b64encode(b"Relu").decode()]}},
             num_args={"i": "1"}, **conv_attrs),
        node("dw", "FusedDepthwiseConv2dNative", ["c1", "dw_w", "dw_b"], strides=ints(1, 1, 1, 1),
             padding=text("SAME"), fused_ops={"list": {"s": [base64.b64encode(b"BiasAdd").decode()]}},
             num_args={"i": "1"}, **conv_attrs),
        node("r6", "Relu6", ["dw"]),
        node("mean", "Mean", ["r6", "mean_axes"], keep_dims={"b": True}),
        node("se", "Mul", ["r6", "mean"]),
        node("up", "ResizeBilinear", ["se", "up_size"], align_corners={"b": False},
             half_pixel_centers={"b": False}),
        node("cat", "ConcatV2", ["up", "images", "axis3"]),
        node("head", "Conv2D", ["cat", "head_w"], strides=ints(1, 1, 1, 1), padding=text("VALID"),
             **conv_attrs),
        node("heat", "Sigmoid", ["head"]),
        node("peak", "MaxPool", ["heat"], ksize=ints(1, 3, 3, 1), strides=ints(1, 1, 1, 1),
             padding=text("SAME"), data_format=text("NHWC")),
        node("eq", "Equal", ["heat", "peak"]),
        node("eqf", "Cast", ["eq"], DstT={"type": "DT_FLOAT"}),
        node("masked", "Mul", ["heat", "eqf"]),
        node("flat", "Reshape", ["masked", "flat_shape"]),
        node("topk", "TopKV2", ["flat", "k"], sorted={"b": True}),
        node("cls", "FloorMod", ["topk:1", "n_cls"]),
        node("cell", "FloorDiv", ["topk:1", "n_cls"]),
        node("row", "FloorDiv", ["cell", "width"]),
        node("col", "FloorMod", ["cell", "width"]),
        node("rowf", "Cast", ["row"], DstT={"type": "DT_FLOAT"}),
        node("colf", "Cast", ["col"], DstT={"type": "DT_FLOAT"}),
        node("clsf", "Cast", ["cls"], DstT={"type": "DT_FLOAT"}),
        node("row3", "ExpandDims", ["rowf", "minus1"]),
        node("col3", "ExpandDims", ["colf", "minus1"]),
        node("cls3", "ExpandDims", ["clsf", "minus1"]),
        node("val3", "ExpandDims", ["topk", "minus1"]),
        node("heat2", "Reshape", ["heat", "heat2_shape"]),
        node("cellv", "Reshape", ["cell", "vec_shape"]),
        node("gath", "GatherV2", ["heat2", "cellv", "axis0"], batch_dims={"i": "0"}),
        node("gath3", "Reshape", ["gath", "gath3_shape"]),
        node("second", "StridedSlice", ["gath3", "ss_b", "ss_e", "ss_s"], begin_mask={"i": "3"},
             end_mask={"i": "3"}, ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"},
             shrink_axis_mask={"i": "0"}),
        node("det", "ConcatV2", ["col3", "row3", "val3", "cls3", "second", "minus1"]),
        node("detections", "Identity", ["det"]),
    ]


def constants(rng):
    f = lambda *s: (rng.normal(size=s) * 0.5).astype(np.float32)  # noqa: E731
    return {
        "c1_w": f(3, 3, 3, 4), "c1_b": f(4), "dw_w": f(3, 3, 4, 1), "dw_b": f(4),
        "head_w": f(1, 1, 7, 3) * np.float32(0.004),  # keeps the sigmoid off saturation
        "mean_axes": np.array([1, 2], np.int32), "up_size": np.array([8, 8], np.int32),
        "axis3": np.array(3, np.int32), "flat_shape": np.array([1, -1], np.int32),
        "k": np.array(K, np.int32), "n_cls": np.array(3, np.int32),
        "width": np.array(8, np.int32), "minus1": np.array(-1, np.int32),
        "heat2_shape": np.array([64, 3], np.int32), "vec_shape": np.array([-1], np.int32),
        "axis0": np.array(0, np.int32), "gath3_shape": np.array([1, K, 3], np.int32),
        "ss_b": np.array([0, 0, 1], np.int32), "ss_e": np.array([0, 0, 2], np.int32),
        "ss_s": np.array([1, 1, 1], np.int32),
    }


def write_model(directory, nodes=None, drop=None, seed=4):
    """model.json + one shard (float constants stored float16, as human-models does); returns
    the constants as TensorFlow.js sees them."""
    consts = constants(np.random.default_rng(seed))
    specs, blob, seen = [], bytearray(), {}
    all_nodes = list(nodes or graph_nodes())
    for name, v in consts.items():
        if name == drop:
            continue
        all_nodes.insert(0, node(name, "Const", dtype={"type": "DT_FLOAT" if v.dtype == np.float32
                                                              else "DT_INT32"}))
        if v.dtype == np.float32:
            blob += v.astype(np.float16).tobytes()
            specs.append({"name": name, "shape": list(v.shape), "dtype": "float32",
                          "quantization": {"dtype": "float16"}})
            seen[name] = v.astype(np.float16).astype(np.float32)
        else:
            blob += v.tobytes()
            specs.append({"name": name, "shape": list(v.shape), "dtype": "int32"})
            seen[name] = v
    with open(os.path.join(directory, "model.bin"), "wb") as fh:
        fh.write(blob)
    model = {"format": "graph-model",
             "signature": {"inputs": {"images": {"name": "images"}},
                           "outputs": {"detections": {"name": "detections"},
                                       "heat": {"name": "heat"}}},
             "modelTopology": {"node": all_nodes},
             "weightsManifest": [{"paths": ["model.bin"], "weights": specs}]}
    with open(os.path.join(directory, "model.json"), "w") as fh:
        json.dump(model, fh)
    return seen


# --- numpy reference of the TensorFlow ops (NHWC) ---------------------------------------------

def same_pad(x, k, s):
    def pads(n):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    return np.pad(x, ((0, 0), pads(x.shape[1]), pads(x.shape[2]), (0, 0)))


def conv(x, w, s, depthwise=False):
    kh, kw = w.shape[:2]
    oh, ow = (x.shape[1] - kh) // s + 1, (x.shape[2] - kw) // s + 1
    out = 0
    for a in range(kh):
        for b in range(kw):
            p = x[:, a:a + s * (oh - 1) + 1:s, b:b + s * (ow - 1) + 1:s, :]
            out = out + (p * w[a, b, :, 0] if depthwise else np.einsum("nhwc,co->nhwo", p, w[a, b]))
    return out


def resize_asymmetric(x, oh, ow):
    ih, iw = x.shape[1:3]
    ys, xs = np.arange(oh) * (ih / oh), np.arange(ow) * (iw / ow)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, ih - 1), np.minimum(x0 + 1, iw - 1)
    dy, dx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    top = x[:, y0][:, :, x0] * (1 - dx) + x[:, y0][:, :, x1] * dx
    bot = x[:, y1][:, :, x0] * (1 - dx) + x[:, y1][:, :, x1] * dx
    return top * (1 - dy) + bot * dy


def reference(img, c):
    x = img.astype(np.float64)
    c1 = np.maximum(conv(same_pad(x, 3, 2), c["c1_w"], 2) + c["c1_b"], 0)
    dw = conv(same_pad(c1, 3, 1), c["dw_w"], 1, depthwise=True) + c["dw_b"]
    r6 = np.clip(dw, 0, 6)
    se = r6 * r6.mean(axis=(1, 2), keepdims=True)
    cat = np.concatenate([resize_asymmetric(se, 8, 8), x], axis=3)
    heat = 1 / (1 + np.exp(-conv(cat, c["head_w"], 1)))
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    peak = np.max([padded[:, a:a + 8, b:b + 8] for a in range(3) for b in range(3)], axis=0)
    flat = (heat * (heat == peak)).reshape(1, -1)
    idx = np.argsort(-flat[0], kind="stable")[:K]
    cls, cell = idx % 3, idx // 3
    second = heat.reshape(64, 3)[cell, 1]
    det = np.stack([cell % 8, cell // 8, flat[0, idx], cls, second], axis=1)[None]
    return det, heat


def run(model, x):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    return sess.run(["detections", "heat"], {"images": x})


class GraphConverter(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.x = np.random.default_rng(11).uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)

    def tearDown(self):
        self.tmp.cleanup()

    def test_matches_the_numpy_reference(self):
        c = write_model(self.dir)
        det, heat = run(g2o.convert(self.dir), self.x)
        ref_det, ref_heat = reference(self.x, c)
        self.assertLess(np.abs(heat - ref_heat).max(), 1e-5)
        self.assertLess(np.abs(det - ref_det).max(), 1e-5)
        self.assertGreater(len(set(ref_det[0, :, 3])), 1)  # several classes among the peaks

    def test_a_wrong_depthwise_layout_is_caught(self):
        c = write_model(self.dir)
        right = tfjs_to_onnx.depthwise_kernel_to_onnx
        # Flipping the kernel spatially (a plausible layout bug) must show in the outputs.
        tfjs_to_onnx.depthwise_kernel_to_onnx = lambda k: right(k[::-1, ::-1].copy())
        try:
            _, heat = run(g2o.convert(self.dir), self.x)
        finally:
            tfjs_to_onnx.depthwise_kernel_to_onnx = right
        self.assertGreater(np.abs(heat - reference(self.x, c)[1]).max(), 1e-3)

    def test_unsupported_op_is_named(self):
        nodes = graph_nodes()
        nodes.insert(3, node("ein", "Einsum", ["dw"]))
        write_model(self.dir, nodes=nodes)
        with self.assertRaisesRegex(tfjs_to_onnx.ConvertError,
                                    "unsupported tfjs graph op 'Einsum' \\(node 'ein'\\)"):
            g2o.convert(self.dir)

    def test_missing_constant_and_bad_slice(self):
        nodes = [node("dw_b", "Const")] + graph_nodes()
        write_model(self.dir, nodes=nodes, drop="dw_b")
        with self.assertRaisesRegex(tfjs_to_onnx.ConvertError,
                                    "constant 'dw_b' is not in the weights manifest"):
            g2o.convert(self.dir)
        nodes = graph_nodes()
        for n in nodes:
            if n["name"] == "second":
                n["attr"]["shrink_axis_mask"] = {"i": "4"}
        write_model(self.dir, nodes=nodes)
        with self.assertRaisesRegex(tfjs_to_onnx.ConvertError,
                                    "node 'second': StridedSlice shrink_axis_mask unsupported"):
            g2o.convert(self.dir)

    def test_a_short_shard_is_named(self):
        write_model(self.dir)
        path = os.path.join(self.dir, "model.bin")
        data = open(path, "rb").read()
        with open(path, "wb") as fh:
            fh.write(data[:-2])
        with self.assertRaisesRegex(tfjs_to_onnx.ConvertError, "needs bytes"):
            g2o.convert(self.dir)


if __name__ == "__main__":
    unittest.main(verbosity=2)

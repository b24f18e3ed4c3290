"""Tests of Cairn's tfjs → ONNX converter (models/recipe/tfjs_to_onnx.py) on a tiny synthetic
tfjs layers model with the op set of nsfwjs' MobileNetV2 (ZeroPadding2D, Conv2D, DepthwiseConv2D
with valid and TF "same" padding, BatchNormalization, ReLU(6), Add, AveragePooling2D, Flatten,
Dense, Dropout, softmax), uint8-quantized and float32 weights split over two shards. ONNX
Runtime's output is compared with an independent numpy implementation of the tfjs ops (NHWC,
as TensorFlow.js computes them). No npm package needed.

  python3 tests/models/tfjs_to_onnx_test.py
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "recipe"))
import tfjs_to_onnx as t2o  # noqa: E402

SIZE = 12


def layer(name, kind, inbound, **config):
    config["name"] = name
    return {"name": name, "class_name": kind, "config": config,
            "inbound_nodes": [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def topology():
    return [
        layer("input_1", "InputLayer", [], batch_input_shape=[None, SIZE, SIZE, 3],
              dtype="float32"),
        layer("pad", "ZeroPadding2D", ["input_1"], padding=[[0, 1], [0, 1]]),
        layer("conv", "Conv2D", ["pad"], filters=4, kernel_size=[3, 3], strides=[2, 2],
              padding="valid", use_bias=False, activation="linear"),
        layer("conv_bn", "BatchNormalization", ["conv"], axis=-1, epsilon=1e-3),
        layer("conv_relu", "ReLU", ["conv_bn"], max_value=6, negative_slope=0, threshold=0),
        layer("dw", "DepthwiseConv2D", ["conv_relu"], kernel_size=[3, 3], strides=[1, 1],
              padding="same", depth_multiplier=1, use_bias=False, activation="linear"),
        layer("dw_bn", "BatchNormalization", ["dw"], axis=-1, epsilon=1e-3),
        layer("dw_relu", "ReLU", ["dw_bn"], max_value=6, negative_slope=0, threshold=0),
        layer("project", "Conv2D", ["dw_relu"], filters=4, kernel_size=[1, 1], strides=[1, 1],
              padding="valid", use_bias=True, activation="linear"),
        layer("add", "Add", ["project", "conv_relu"]),
        # Strided "same" on an even size: TensorFlow pads the odd pixel after.
        layer("dw2", "DepthwiseConv2D", ["add"], kernel_size=[3, 3], strides=[2, 2],
              padding="same", depth_multiplier=2, use_bias=True, activation="relu6"),
        layer("pool", "AveragePooling2D", ["dw2"], pool_size=[2, 2], strides=[1, 1],
              padding="valid"),
        layer("flat", "Flatten", ["pool"]),
        layer("dense_1", "Dense", ["flat"], units=6, activation="relu", use_bias=True),
        layer("drop", "Dropout", ["dense_1"], rate=0.5),
        layer("dense_2", "Dense", ["drop"], units=3, activation="softmax", use_bias=True),
    ]


def weight_shapes():
    return {"conv/kernel": [3, 3, 3, 4],
            "conv_bn/gamma": [4], "conv_bn/beta": [4], "conv_bn/moving_mean": [4],
            "conv_bn/moving_variance": [4],
            "dw/depthwise_kernel": [3, 3, 4, 1],
            "dw_bn/gamma": [4], "dw_bn/beta": [4], "dw_bn/moving_mean": [4],
            "dw_bn/moving_variance": [4],
            "project/kernel": [1, 1, 4, 4], "project/bias": [4],
            "dw2/depthwise_kernel": [3, 3, 4, 2], "dw2/bias": [8],
            "dense_1/kernel": [8 * 2 * 2, 6], "dense_1/bias": [6],
            "dense_2/kernel": [6, 3], "dense_2/bias": [3]}


def write_model(directory, seed=3, layers=None, drop_weight=None):
    """model.json + two shards; returns the float32 weights as TensorFlow.js will see them."""
    rng = np.random.default_rng(seed)
    specs, blob, weights = [], bytearray(), {}
    for i, (name, shape) in enumerate(weight_shapes().items()):
        if name == drop_weight:
            continue
        v = rng.normal(size=shape).astype(np.float32) * 0.5
        if name.endswith("moving_variance"):
            v = np.abs(v) + 0.5
        if i % 2 == 0:  # uint8-quantized, as nsfwjs ships them
            lo, hi = float(v.min()), float(v.max())
            scale = (hi - lo) / 255
            q = np.clip(np.rint((v - lo) / scale), 0, 255).astype(np.uint8)
            blob += q.tobytes()
            specs.append({"name": name, "shape": shape, "dtype": "float32",
                          "quantization": {"min": lo, "scale": scale, "dtype": "uint8"}})
            weights[name] = (q.astype(np.float64) * scale + lo).astype(np.float32)
        else:
            blob += v.tobytes()
            specs.append({"name": name, "shape": shape, "dtype": "float32"})
            weights[name] = v
    half = len(blob) // 2
    with open(os.path.join(directory, "group1-shard1of2"), "wb") as f:
        f.write(blob[:half])
    with open(os.path.join(directory, "group1-shard2of2"), "wb") as f:
        f.write(blob[half:])
    model = {"format": "layers-model",
             "modelTopology": {"model_config": {"class_name": "Functional", "config": {
                 "name": "tiny", "layers": layers or topology(),
                 "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}},
             "weightsManifest": [{"paths": ["group1-shard1of2", "group1-shard2of2"],
                                  "weights": specs}]}
    with open(os.path.join(directory, "model.json"), "w") as f:
        json.dump(model, f)
    return weights


# --- numpy reference of the tfjs ops (NHWC) ---------------------------------------------------

def tf_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv(x, k, s, padding, depthwise=False):
    kh, kw = k.shape[:2]
    if padding == "same":
        (t, b), (l, r) = tf_same(x.shape[1], kh, s), tf_same(x.shape[2], kw, s)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh, ow = (x.shape[1] - kh) // s + 1, (x.shape[2] - kw) // s + 1
    out = 0
    for a in range(kh):
        for c in range(kw):
            patch = x[:, a:a + s * (oh - 1) + 1:s, c:c + s * (ow - 1) + 1:s, :]
            if depthwise:
                y = np.einsum("nhwc,cm->nhwcm", patch, k[a, c])
                out = out + y.reshape(y.shape[:3] + (-1,))
            else:
                out = out + np.einsum("nhwc,co->nhwo", patch, k[a, c])
    return out


def reference(x, w):
    def bn(v, p):
        return ((v - w[p + "/moving_mean"]) / np.sqrt(w[p + "/moving_variance"] + 1e-3)
                * w[p + "/gamma"] + w[p + "/beta"])

    def relu6(v):
        return np.clip(v, 0, 6)
    x = x.astype(np.float64)
    x = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    a = relu6(bn(conv(x, w["conv/kernel"], 2, "valid"), "conv_bn"))
    d = relu6(bn(conv(a, w["dw/depthwise_kernel"], 1, "same", depthwise=True), "dw_bn"))
    p = conv(d, w["project/kernel"], 1, "valid") + w["project/bias"]
    s = p + a
    d2 = relu6(conv(s, w["dw2/depthwise_kernel"], 2, "same", depthwise=True) + w["dw2/bias"])
    pooled = (d2[:, :-1, :-1] + d2[:, 1:, :-1] + d2[:, :-1, 1:] + d2[:, 1:, 1:]) / 4
    flat = pooled.reshape(len(x), -1)  # NHWC order, as Keras flattens
    h = np.maximum(flat @ w["dense_1/kernel"] + w["dense_1/bias"], 0)
    logits = h @ w["dense_2/kernel"] + w["dense_2/bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return logits, e / e.sum(axis=1, keepdims=True)


def run_onnx(model, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(["logits", "probabilities"], {"input": x})


class Converter(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.x = np.random.default_rng(7).uniform(0, 1, (3, SIZE, SIZE, 3)).astype(np.float32)

    def tearDown(self):
        self.tmp.cleanup()

    def test_matches_the_numpy_reference(self):
        w = write_model(self.dir)
        logits, probs = run_onnx(t2o.convert(self.dir), self.x)
        ref_logits, ref_probs = reference(self.x, w)
        self.assertLess(np.abs(logits - ref_logits).max(), 1e-5)
        self.assertLess(np.abs(probs - ref_probs).max(), 1e-5)
        self.assertGreater(np.abs(ref_logits).max(), 0.1)  # not a degenerate model

    def test_a_wrong_kernel_layout_is_caught(self):
        # The comparison must be able to fail: a converter that reads Conv2D kernels with kh and
        # kw swapped (a plausible layout bug) gives outputs far from the reference.
        w = write_model(self.dir)
        right = t2o.conv_kernel_to_onnx
        t2o.conv_kernel_to_onnx = lambda k: np.ascontiguousarray(k.transpose(3, 2, 1, 0))
        try:
            logits, _ = run_onnx(t2o.convert(self.dir), self.x)
        finally:
            t2o.conv_kernel_to_onnx = right
        self.assertGreater(np.abs(logits - reference(self.x, w)[0]).max(), 1e-2)

    def test_check_against_a_reference_dir(self):
        # check() reads tfjs_reference.mjs' format; it passes on the right outputs and fails,
        # naming the output, when they differ.
        w = write_model(self.dir)
        path = os.path.join(self.dir, "model.onnx")
        with open(path, "wb") as f:
            f.write(t2o.convert(self.dir).SerializeToString())
        ref = os.path.join(self.dir, "ref")
        os.makedirs(ref)
        logits, probs = reference(self.x, w)
        self.x.tofile(os.path.join(ref, "inputs.f32"))
        probs.astype(np.float32).tofile(os.path.join(ref, "outputs.f32"))
        logits.astype(np.float32).tofile(os.path.join(ref, "logits.f32"))
        with open(os.path.join(ref, "reference.json"), "w") as f:
            json.dump({"n": 3, "input_shape": list(self.x.shape), "outputs_shape": [3, 3],
                       "logits_shape": [3, 3]}, f)
        diffs = t2o.check(path, ref)
        self.assertLess(max(diffs.values()), 1e-5)
        (logits + np.float32(1e-3)).astype(np.float32).tofile(os.path.join(ref, "logits.f32"))
        with self.assertRaisesRegex(AssertionError, "'logits'"):
            t2o.check(path, ref)

    def test_missing_short_and_long_shards(self):
        write_model(self.dir)
        shard = os.path.join(self.dir, "group1-shard2of2")
        data = open(shard, "rb").read()
        os.remove(shard)
        with self.assertRaisesRegex(t2o.ConvertError, "weight shard 'group1-shard2of2'.*missing"):
            t2o.convert(self.dir)
        with open(shard, "wb") as f:
            f.write(data[:-4])
        with self.assertRaisesRegex(t2o.ConvertError, "weight 'dense_2/bias' .* needs bytes"):
            t2o.convert(self.dir)
        with open(shard, "wb") as f:
            f.write(data + b"\0\0\0\0")
        with self.assertRaisesRegex(t2o.ConvertError, "does not match the shards"):
            t2o.convert(self.dir)

    def test_unsupported_layer_is_named(self):
        layers = topology()
        layers.insert(2, layer("lstm", "LSTM", ["pad"], units=4))
        write_model(self.dir, layers=layers)
        with self.assertRaisesRegex(t2o.ConvertError, "unsupported tfjs layer 'LSTM' \\(layer 'lstm'\\)"):
            t2o.convert(self.dir)

    def test_shape_mismatch_and_missing_weight(self):
        layers = topology()
        layers[2]["config"]["filters"] = 5  # the kernel holds 4
        write_model(self.dir, layers=layers)
        with self.assertRaisesRegex(t2o.ConvertError, "weight 'conv/kernel' has shape \\[3, 3, 3, 4\\]"):
            t2o.convert(self.dir)
        write_model(self.dir, drop_weight="project/bias")
        with self.assertRaisesRegex(t2o.ConvertError, "needs weight 'project/bias'"):
            t2o.convert(self.dir)

    def test_unsupported_options_are_named(self):
        layers = topology()
        layers[4]["config"]["negative_slope"] = 0.1
        write_model(self.dir, layers=layers)
        with self.assertRaisesRegex(t2o.ConvertError, "layer 'conv_relu': ReLU with negative_slope"):
            t2o.convert(self.dir)
        layers = topology()
        layers[-1]["config"]["activation"] = "gelu"
        write_model(self.dir, layers=layers)
        with self.assertRaisesRegex(t2o.ConvertError, "layer 'dense_2': unsupported activation 'gelu'"):
            t2o.convert(self.dir)


if __name__ == "__main__":
    unittest.main(verbosity=2)

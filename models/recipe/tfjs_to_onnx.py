"""TensorFlow.js layers model (model.json + binary weight shards) → ONNX, Cairn's own converter.

  python3 tfjs_to_onnx.py convert MODEL_DIR OUT.onnx
  python3 tfjs_to_onnx.py check OUT.onnx REFERENCE_DIR    (tfjs_reference.mjs run's output)

What it reads (the tfjs "layers-model" format): model.json with `modelTopology` (a Keras model
config: `model_config.config.layers`, each with `class_name`, `config` and `inbound_nodes`) and
`weightsManifest` (groups of weight specs `{name, shape, dtype, quantization?}` stored back to
back in the group's shard files, in order). Quantized weights are dequantized the way
TensorFlow.js does on load: uint8/uint16 as `q * scale + min` (in double, rounded to float32),
float16 widened.

What it writes: one ONNX graph (opset 18) with the model's input kept in the tfjs layout (NHWC,
float32, batch dimension "batch") and transposed once to NCHW inside; Conv2D and
DepthwiseConv2D become Conv (group = channels for depthwise), TF "same" padding becomes explicit
pads (TensorFlow puts the odd pixel after), BatchNormalization stays a BatchNormalization node
(ONNX Runtime folds it into the convolution when it loads the model), ReLU with max_value
becomes Clip, Dropout disappears (inference), Flatten transposes back to NHWC order first so
Dense kernels read features in Keras' order. A model whose last layer is a Dense with softmax
gets two outputs: `logits` (before the softmax) and `probabilities`.

Errors name what is wrong: a missing shard file, shards shorter or longer than the manifest
says, a weight whose shape does not fit its layer, a tfjs layer or option this converter does
not support (named, with the layer), a layer whose input was never produced.
"""
import json
import os
import sys

import numpy as np

OPSET = 18


class ConvertError(ValueError):
    pass


# --- weights ---------------------------------------------------------------------------------

_STORED = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "uint16": np.uint16,
           "float16": np.float16, "bool": np.bool_}


def read_weights(model_dir, manifest):
    """{weight name: float32/int32 array} from the manifest's groups and their shard files."""
    weights = {}
    for g, group in enumerate(manifest):
        blobs = []
        for path in group.get("paths", []):
            full = os.path.join(model_dir, path)
            if os.path.basename(path) != path or not os.path.isfile(full):
                raise ConvertError(f"weight shard '{path}' (group {g}) is missing from {model_dir}")
            with open(full, "rb") as f:
                blobs.append(f.read())
        data = b"".join(blobs)
        offset = 0
        for spec in group.get("weights", []):
            name, shape, dtype = spec["name"], list(spec["shape"]), spec["dtype"]
            q = spec.get("quantization")
            stored = q["dtype"] if q else dtype
            if stored not in _STORED or dtype not in ("float32", "int32"):
                raise ConvertError(f"weight '{name}': unsupported dtype {dtype}"
                                   f"{' quantized as ' + stored if q else ''}")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            nbytes = count * np.dtype(_STORED[stored]).itemsize
            if offset + nbytes > len(data):
                raise ConvertError(f"weight '{name}' {shape} needs bytes {offset}..{offset + nbytes}"
                                   f" but group {g}'s shards {group.get('paths')} hold "
                                   f"{len(data)}")
            raw = np.frombuffer(data, _STORED[stored], count, offset)
            offset += nbytes
            if q and stored in ("uint8", "uint16"):
                if "scale" not in q or "min" not in q:
                    raise ConvertError(f"weight '{name}': {stored} quantization without min/scale")
                value = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            else:
                value = raw.astype(np.float32 if dtype == "float32" else np.int32)
            weights[name] = value.reshape(shape)
        if offset != len(data):
            raise ConvertError(f"group {g}'s shards {group.get('paths')} hold {len(data)} bytes but "
                               f"its weights use {offset}: the manifest does not match the shards")
    return weights


# --- the graph -------------------------------------------------------------------------------

class Tensor:
    """A converted Keras tensor: its ONNX name and static shape in ONNX layout (NCHW for 4-D,
    batch first; the batch size is None)."""

    def __init__(self, name, shape):
        self.name, self.shape = name, list(shape)


def _pair(v, what, layer):
    if isinstance(v, int):
        return [v, v]
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return list(v)
    raise ConvertError(f"layer '{layer}': {what} {v!r} is not an int or a pair")


def same_pads(size, kernel, stride, dilation):
    """TensorFlow's SAME padding for one spatial dimension: (before, after, output size)."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2, out


def conv_kernel_to_onnx(kernel):
    """Keras Conv2D kernel [kh, kw, in, out] → ONNX Conv weight [out, in, kh, kw]."""
    return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))


def depthwise_kernel_to_onnx(kernel):
    """Keras depthwise kernel [kh, kw, in, multiplier] → ONNX grouped Conv weight
    [in * multiplier, 1, kh, kw] (output channel c * multiplier + m reads input channel c)."""
    kh, kw, cin, mult = kernel.shape
    return np.ascontiguousarray(kernel.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw))


class Converter:
    def __init__(self, model_json, weights):
        from onnx import TensorProto, helper, numpy_helper
        self.helper, self.numpy_helper, self.TP = helper, numpy_helper, TensorProto
        self.weights = weights
        self.used = set()
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.tensors = {}  # (layer, node index, tensor index) → Tensor
        topology = model_json.get("modelTopology")
        if not isinstance(topology, dict):
            raise ConvertError("model.json has no modelTopology (not a tfjs layers model; "
                               "graph models are not supported)")
        self.config = topology.get("model_config", topology)

    # helpers
    def node(self, op, inputs, outputs=None, **attrs):
        outputs = outputs or [f"t{len(self.nodes)}_{op}"]
        self.nodes.append(self.helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    def const(self, name, array):
        self.inits.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, layer, wname, shape=None):
        full = f"{layer}/{wname}"
        if full not in self.weights:
            raise ConvertError(f"layer '{layer}' needs weight '{full}', which the manifest lacks")
        w = self.weights[full]
        if shape is not None and list(w.shape) != list(shape):
            raise ConvertError(f"weight '{full}' has shape {list(w.shape)}, layer '{layer}' "
                               f"needs {list(shape)}")
        self.used.add(full)
        return w

    def activation(self, name, x, layer, act):
        if act in (None, "linear"):
            return x
        if act == "relu":
            return self.node("Relu", [x])
        if act == "relu6":
            return self.node("Clip", [x, self.const(f"{layer}/zero", np.float32(0)),
                                      self.const(f"{layer}/six", np.float32(6))])
        if act == "sigmoid":
            return self.node("Sigmoid", [x])
        if act == "tanh":
            return self.node("Tanh", [x])
        if act == "softmax":
            return self.node("Softmax", [x], axis=-1)
        raise ConvertError(f"layer '{layer}': unsupported activation '{act}'")

    # layers
    def convert(self):
        cls = self.config.get("class_name") if "class_name" in self.config else None
        cfg = self.config.get("config", self.config)
        layers = cfg["layers"] if isinstance(cfg, dict) else cfg
        sequential = cls == "Sequential" or (isinstance(cfg, dict) and "input_layers" not in cfg)
        prev = None
        for i, layer in enumerate(layers):
            kind, lc = layer.get("class_name"), layer.get("config", {})
            name = lc.get("name") or layer.get("name") or f"layer{i}"
            if sequential:
                if i == 0 and kind != "InputLayer":
                    self.input_layer(f"{name}_input", lc.get("batch_input_shape"))
                    prev = (f"{name}_input", 0, 0)
                ins = [prev] if prev else []
            else:
                nodes = layer.get("inbound_nodes", [])
                if len(nodes) > 1:
                    raise ConvertError(f"layer '{name}' is shared ({len(nodes)} calls): "
                                       "not supported")
                ins = [tuple(x[:3]) for x in nodes[0]] if nodes else []
            for t in ins:
                if t not in self.tensors:
                    raise ConvertError(f"layer '{name}' reads '{t[0]}', which no earlier layer "
                                       "produced")
            xs = [self.tensors[t] for t in ins]
            method = getattr(self, "layer_" + (kind or ""), None)
            if method is None:
                raise ConvertError(f"unsupported tfjs layer '{kind}' (layer '{name}')")
            if lc.get("data_format", "channels_last") != "channels_last":
                raise ConvertError(f"layer '{name}': data_format {lc['data_format']} unsupported")
            out = method(name, lc, xs)
            self.tensors[(name, 0, 0)] = out
            prev = (name, 0, 0)
        out_refs = [prev] if sequential else [tuple(x[:3]) for x in cfg["output_layers"]]
        if len(out_refs) != 1:
            raise ConvertError(f"{len(out_refs)} model outputs: only single-output models")
        self.finish(self.tensors[out_refs[0]])
        unused = sorted(set(self.weights) - self.used)
        if unused:
            raise ConvertError(f"weights no layer used (a manifest/topology mismatch): {unused[:5]}")
        return self.model()

    def input_layer(self, name, shape):
        if not shape or shape[0] is not None or len(shape) not in (2, 4) or None in shape[1:]:
            raise ConvertError(f"input '{name}': shape {shape} unsupported (need [null, H, W, C] "
                               "or [null, F] with static sizes)")
        self.inputs.append(self.helper.make_tensor_value_info(
            "input", self.TP.FLOAT, ["batch"] + list(shape[1:])))
        if len(shape) == 4:
            x = self.node("Transpose", ["input"], perm=[0, 3, 1, 2])
            t = Tensor(x, [None, shape[3], shape[1], shape[2]])
        else:
            t = Tensor("input", shape)
        self.tensors[(name, 0, 0)] = t

    def layer_InputLayer(self, name, lc, xs):
        self.input_layer(name, lc.get("batch_input_shape"))
        return self.tensors[(name, 0, 0)]

    def _spatial(self, x, name):
        if len(x.shape) != 4:
            raise ConvertError(f"layer '{name}' needs a 4-D (image) input, got shape {x.shape}")
        return x.shape[1:]

    def layer_ZeroPadding2D(self, name, lc, xs):
        (x,) = xs
        c, h, w = self._spatial(x, name)
        p = lc.get("padding", 1)
        if isinstance(p, int):
            (t, b), (l, r) = (p, p), (p, p)
        elif isinstance(p, list) and len(p) == 2 and all(isinstance(v, int) for v in p):
            (t, b), (l, r) = (p[0], p[0]), (p[1], p[1])
        else:
            (t, b), (l, r) = _pair(p[0], "padding", name), _pair(p[1], "padding", name)
        pads = self.const(f"{name}/pads", np.array([0, 0, t, l, 0, 0, b, r], np.int64))
        return Tensor(self.node("Pad", [x.name, pads]), [None, c, h + t + b, w + l + r])

    def _conv(self, name, lc, x, weight, bias, cout, group):
        c, h, w = self._spatial(x, name)
        kh, kw = weight.shape[2:]
        sh, sw = _pair(lc.get("strides", 1), "strides", name)
        dh, dw = _pair(lc.get("dilation_rate", 1), "dilation_rate", name)
        padding = lc.get("padding", "valid")
        if padding == "same":
            t, b, oh = same_pads(h, kh, sh, dh)
            l, r, ow = same_pads(w, kw, sw, dw)
        elif padding == "valid":
            t = b = l = r = 0
            oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
        else:
            raise ConvertError(f"layer '{name}': padding '{padding}' unsupported")
        ins = [x.name, self.const(f"{name}/W", weight)]
        if bias is not None:
            ins.append(self.const(f"{name}/B", bias))
        y = self.node("Conv", ins, kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
                      pads=[t, l, b, r], group=group)
        y = self.activation(name, y, name, lc.get("activation"))
        return Tensor(y, [None, cout, oh, ow])

    def layer_Conv2D(self, name, lc, xs):
        (x,) = xs
        cin = x.shape[1]
        kh, kw = _pair(lc["kernel_size"], "kernel_size", name)
        groups = lc.get("groups", 1)
        cout = lc["filters"]
        kernel = self.weight(name, "kernel", [kh, kw, cin // groups, cout])
        bias = self.weight(name, "bias", [cout]) if lc.get("use_bias", True) else None
        return self._conv(name, lc, x, conv_kernel_to_onnx(kernel), bias, cout, groups)

    def layer_DepthwiseConv2D(self, name, lc, xs):
        (x,) = xs
        cin, mult = x.shape[1], lc.get("depth_multiplier", 1)
        kh, kw = _pair(lc["kernel_size"], "kernel_size", name)
        kernel = self.weight(name, "depthwise_kernel", [kh, kw, cin, mult])
        bias = self.weight(name, "bias", [cin * mult]) if lc.get("use_bias", True) else None
        return self._conv(name, lc, x, depthwise_kernel_to_onnx(kernel), bias, cin * mult, cin)

    def layer_BatchNormalization(self, name, lc, xs):
        (x,) = xs
        axis = lc.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(x.shape) - 1):
            raise ConvertError(f"layer '{name}': BatchNormalization over axis {axis} unsupported")
        c = x.shape[1]
        gamma = self.weight(name, "gamma", [c]) if lc.get("scale", True) else np.ones(c, np.float32)
        beta = self.weight(name, "beta", [c]) if lc.get("center", True) else np.zeros(c, np.float32)
        mean = self.weight(name, "moving_mean", [c])
        var = self.weight(name, "moving_variance", [c])
        ins = [x.name] + [self.const(f"{name}/{k}", v) for k, v in
                          (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var))]
        return Tensor(self.node("BatchNormalization", ins, epsilon=float(lc.get("epsilon", 1e-3))),
                      x.shape)

    def layer_ReLU(self, name, lc, xs):
        (x,) = xs
        if lc.get("negative_slope", 0) not in (0, None) or lc.get("threshold", 0) not in (0, None):
            raise ConvertError(f"layer '{name}': ReLU with negative_slope/threshold unsupported")
        mv = lc.get("max_value")
        if mv is None:
            return Tensor(self.node("Relu", [x.name]), x.shape)
        return Tensor(self.node("Clip", [x.name, self.const(f"{name}/min", np.float32(0)),
                                          self.const(f"{name}/max", np.float32(mv))]), x.shape)

    def layer_Activation(self, name, lc, xs):
        (x,) = xs
        return Tensor(self.activation(name, x.name, name, lc.get("activation")), x.shape)

    def layer_Add(self, name, lc, xs):
        if len(xs) < 2 or any(t.shape != xs[0].shape for t in xs):
            raise ConvertError(f"layer '{name}': Add of shapes {[t.shape for t in xs]}")
        y = xs[0].name
        for t in xs[1:]:
            y = self.node("Add", [y, t.name])
        return Tensor(y, xs[0].shape)

    def _pool(self, op, name, lc, xs):
        (x,) = xs
        c, h, w = self._spatial(x, name)
        kh, kw = _pair(lc.get("pool_size", 2), "pool_size", name)
        sh, sw = _pair(lc.get("strides") or [kh, kw], "strides", name)
        if lc.get("padding", "valid") == "same":
            t, b, oh = same_pads(h, kh, sh, 1)
            l, r, ow = same_pads(w, kw, sw, 1)
        else:
            t = b = l = r = 0
            oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[t, l, b, r])
        if op == "AveragePool":
            attrs["count_include_pad"] = 0  # TensorFlow averages over the real pixels only
        return Tensor(self.node(op, [x.name], **attrs), [None, c, oh, ow])

    def layer_AveragePooling2D(self, name, lc, xs):
        return self._pool("AveragePool", name, lc, xs)

    def layer_MaxPooling2D(self, name, lc, xs):
        return self._pool("MaxPool", name, lc, xs)

    def layer_GlobalAveragePooling2D(self, name, lc, xs):
        (x,) = xs
        c, _, _ = self._spatial(x, name)
        if lc.get("keepdims"):
            raise ConvertError(f"layer '{name}': keepdims unsupported")
        y = self.node("GlobalAveragePool", [x.name])
        return Tensor(self.node("Flatten", [y], axis=1), [None, c])

    def layer_Flatten(self, name, lc, xs):
        (x,) = xs
        if len(x.shape) == 4:  # back to Keras' NHWC order before flattening
            c, h, w = x.shape[1:]
            y = self.node("Transpose", [x.name], perm=[0, 2, 3, 1])
            return Tensor(self.node("Flatten", [y], axis=1), [None, h * w * c])
        return x

    def layer_Dropout(self, name, lc, xs):
        return xs[0]  # inference: identity

    def layer_Dense(self, name, lc, xs):
        (x,) = xs
        if len(x.shape) != 2:
            raise ConvertError(f"layer '{name}': Dense on a {len(x.shape)}-D input unsupported")
        units = lc["units"]
        y = self.node("MatMul", [x.name, self.const(f"{name}/W",
                                                    self.weight(name, "kernel", [x.shape[1], units]))])
        if lc.get("use_bias", True):
            y = self.node("Add", [y, self.const(f"{name}/B", self.weight(name, "bias", [units]))])
        self.last_dense = (y, lc.get("activation"))
        return Tensor(self.activation(name, y, name, lc.get("activation")), [None, units])

    def finish(self, out):
        helper, TP = self.helper, self.TP
        pre, act = getattr(self, "last_dense", (None, None))
        dims = ["batch"] + out.shape[1:]
        if act == "softmax" and self.nodes[-1].op_type == "Softmax" and self.nodes[-1].output[0] == out.name:
            self.node("Identity", [pre], ["logits"])
            self.node("Identity", [out.name], ["probabilities"])
            self.outputs = [helper.make_tensor_value_info("logits", TP.FLOAT, dims),
                            helper.make_tensor_value_info("probabilities", TP.FLOAT, dims)]
        else:
            self.node("Identity", [out.name], ["output"])
            self.outputs = [helper.make_tensor_value_info("output", TP.FLOAT, dims)]

    def model(self):
        import onnx
        graph = self.helper.make_graph(self.nodes, "tfjs_layers_model", self.inputs, self.outputs,
                                       self.inits)
        model = self.helper.make_model(graph, producer_name="cairn-recipe tfjs_to_onnx",
                                       opset_imports=[self.helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def convert(model_dir):
    """Reads MODEL_DIR/model.json and its shards; returns the ONNX ModelProto."""
    path = os.path.join(model_dir, "model.json")
    try:
        with open(path, encoding="utf-8") as f:
            model_json = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ConvertError(f"{path}: {e}") from e
    fmt = model_json.get("format")
    if fmt not in (None, "layers-model"):
        raise ConvertError(f"{path}: format '{fmt}' is not a tfjs layers model")
    weights = read_weights(model_dir, model_json.get("weightsManifest", []))
    return Converter(model_json, weights).convert()


def check(onnx_path, ref_dir, tolerance=1e-4):
    """ONNX Runtime on the reference inputs (tfjs_reference.mjs run) against TensorFlow.js'
    outputs. Returns {output: max abs diff}; raises AssertionError over tolerance (every output
    the reference has: probabilities/output, and logits when present)."""
    import onnxruntime as ort
    with open(os.path.join(ref_dir, "reference.json"), encoding="utf-8") as f:
        meta = json.load(f)

    def load(name, shape):
        return np.fromfile(os.path.join(ref_dir, name), np.float32).reshape(shape)

    x = load("inputs.f32", meta["input_shape"])
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x})))
    want = {("probabilities" if "probabilities" in got else "output"):
            load("outputs.f32", meta["outputs_shape"])}
    if "logits_shape" in meta and "logits" in got:
        want["logits"] = load("logits.f32", meta["logits_shape"])
    diffs = {}
    for k, v in want.items():
        if got[k].shape != v.shape:
            raise AssertionError(f"{onnx_path}: output '{k}' has shape {got[k].shape}, the "
                                 f"reference {v.shape}")
        diffs[k] = float(np.abs(got[k] - v).max())
    bad = {k: d for k, d in diffs.items() if not d <= tolerance}
    if bad:
        raise AssertionError(f"{onnx_path} differs from TensorFlow.js by {bad} > {tolerance}")
    return diffs


def main():
    args = sys.argv[1:]
    try:
        if len(args) == 3 and args[0] == "convert":
            model = convert(args[1])
            with open(args[2], "wb") as f:
                f.write(model.SerializeToString())
            print(f"{args[2]}: {len(model.graph.node)} nodes, "
                  f"{sum(int(np.prod(i.dims)) for i in model.graph.initializer)} parameters")
        elif len(args) == 3 and args[0] == "check":
            print(json.dumps(check(args[1], args[2])))
        else:
            sys.exit("usage: python3 tfjs_to_onnx.py convert MODEL_DIR OUT.onnx\n"
                     "       python3 tfjs_to_onnx.py check OUT.onnx REFERENCE_DIR")
    except (ConvertError, AssertionError) as e:
        sys.exit(f"tfjs_to_onnx: {e}")


if __name__ == "__main__":
    main()

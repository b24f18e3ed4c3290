"""TensorFlow.js graph model (model.json with a TensorFlow GraphDef + weight shards) → ONNX.

  python3 tfjs_graph_to_onnx.py convert MODEL_DIR OUT.onnx
  python3 tfjs_graph_to_onnx.py check OUT.onnx REFERENCE_DIR

The graph-model half of Cairn's tfjs converter (tfjs_to_onnx.py does layers models and the
shard reading both share). model.json's `modelTopology.node` lists TensorFlow ops (`op`,
`input` as "name" or "name:k", `attr`); constants are the weights of the same name.

Layout: every tensor keeps TensorFlow's meaning (NHWC images, TF axes), so reductions,
concatenations, reshapes and broadcasts convert one to one; only the ops ONNX defines on NCHW
(convolutions, pooling) are wrapped in a Transpose pair, which ONNX Runtime's transpose
optimizer cancels between neighbours when it loads the model. TF "SAME" padding is ONNX
SAME_UPPER (TensorFlow puts the odd pixel after). Integer FloorDiv/FloorMod keep TF's floor
semantics. The graph's inputs and outputs are the model's `signature`, named by the last part
of their TF names ("tower_0/images" → "images").

Supported ops: the set of the object detectors Cairn converts (MobileNetV3-CenterNet): Const,
Placeholder, Identity, _FusedConv2D, Conv2D, FusedDepthwiseConv2dNative,
DepthwiseConv2dNative, BiasAdd, Add, AddV2, Sub, Mul, RealDiv, Maximum, Minimum, Relu, Relu6,
LeakyRelu, Sigmoid, Tanh, Mean, MaxPool, AvgPool, ResizeBilinear, ConcatV2, Reshape, Equal,
Cast, TopKV2, ExpandDims, Squeeze, FloorDiv, FloorMod, GatherV2, StridedSlice (masks: begin,
end). Anything else is an error naming the op and the node.
"""
import base64
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfjs_to_onnx as layers  # noqa: E402
from tfjs_to_onnx import ConvertError, OPSET, read_weights  # noqa: E402

_TF_TYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_,
             "DT_INT64": np.int64}


def _attr(node, key, default=None):
    """A node attribute, decoded from tfjs' JSON (ints arrive as strings, strings as base64)."""
    v = node.get("attr", {}).get(key)
    if v is None:
        return default
    if "list" in v:
        lst = v["list"]
        if "i" in lst:
            return [int(x) for x in lst["i"]]
        if "f" in lst:
            return [float(x) for x in lst["f"]]
        if "s" in lst:
            return [base64.b64decode(x).decode() for x in lst["s"]]
        return []
    if "s" in v:
        return base64.b64decode(v["s"]).decode()
    if "i" in v:
        return int(v["i"])
    if "f" in v:
        return float(v["f"])
    if "b" in v:
        return bool(v["b"])
    if "type" in v:
        return v["type"]
    return v


class GraphConverter:
    def __init__(self, model_json, weights):
        from onnx import TensorProto, helper, numpy_helper
        self.helper, self.numpy_helper, self.TP = helper, numpy_helper, TensorProto
        topo = model_json.get("modelTopology") or {}
        self.nodes_json = topo.get("node")
        if not isinstance(self.nodes_json, list):
            raise ConvertError("model.json has no modelTopology.node (not a tfjs graph model)")
        self.signature = model_json.get("signature") or {}
        self.weights = weights
        self.consts = {}     # TF name → numpy value (Const nodes)
        self.names = {}      # TF tensor ref ("node" or "node:k") → ONNX name
        self.dtypes = {}     # ONNX name → numpy dtype
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.const_cache = {}

    # --- helpers ---
    def emit(self, op, inputs, dtype, n_out=1, **attrs):
        outs = [f"n{len(self.nodes)}_{op}" + (f"_{i}" if i else "") for i in range(n_out)]
        self.nodes.append(self.helper.make_node(op, inputs, outs, **attrs))
        for o in outs:
            self.dtypes[o] = dtype
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=None):
        a = np.asarray(value, dtype=dtype)
        key = (a.dtype.str, a.shape, a.tobytes())
        if key not in self.const_cache:
            name = f"c{len(self.const_cache)}"
            self.inits.append(self.numpy_helper.from_array(a, name))
            self.dtypes[name] = a.dtype.type
            self.const_cache[key] = name
        return self.const_cache[key]

    def ref(self, r):
        r = r.split("^")[-1]
        base = r.split(":")[0]
        if base in self.consts:
            return self.const(self.consts[base])
        key = r if ":" in r and not r.endswith(":0") else base
        if key not in self.names:
            raise ConvertError(f"tensor '{r}' is read before any node produced it")
        return self.names[key]

    def const_value(self, r, node, what):
        base = r.split(":")[0]
        if base not in self.consts:
            raise ConvertError(f"node '{node['name']}' ({node['op']}): {what} must be a constant")
        return self.consts[base]

    def to_nchw(self, x):
        return self.emit("Transpose", [x], self.dtypes[x], perm=[0, 3, 1, 2])

    def to_nhwc(self, x):
        return self.emit("Transpose", [x], self.dtypes[x], perm=[0, 2, 3, 1])

    def activation(self, x, fused, node):
        for op in fused:
            if op in ("BiasAdd", "FusedBatchNorm"):
                continue
            if op == "Relu":
                x = self.emit("Relu", [x], np.float32)
            elif op == "Relu6":
                x = self.emit("Clip", [x, self.const(np.float32(0)), self.const(np.float32(6))],
                              np.float32)
            elif op == "LeakyRelu":
                x = self.emit("LeakyRelu", [x], np.float32, alpha=_attr(node, "leakyrelu_alpha", 0.2))
            elif op == "Sigmoid":
                x = self.emit("Sigmoid", [x], np.float32)
            else:
                raise ConvertError(f"node '{node['name']}': unsupported fused op '{op}'")
        return x

    def conv(self, node, depthwise):
        ins = node["input"]
        x = self.ref(ins[0])
        w = self.const_value(ins[1], node, "the filter")
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise ConvertError(f"node '{node['name']}': data_format {_attr(node, 'data_format')}")
        strides = _attr(node, "strides", [1, 1, 1, 1])
        dil = _attr(node, "dilations", [1, 1, 1, 1])
        kh, kw = w.shape[:2]
        if depthwise:  # TF's depthwise filter [kh, kw, in, multiplier], like Keras'
            weight, group = layers.depthwise_kernel_to_onnx(w), w.shape[2]
        else:
            weight, group = layers.conv_kernel_to_onnx(w), 1
        conv_in = [self.to_nchw(x), self.const(np.ascontiguousarray(weight, np.float32))]
        fused = _attr(node, "fused_ops", [])
        if fused and fused[0] not in ("BiasAdd",):
            raise ConvertError(f"node '{node['name']}': unsupported fused op '{fused[0]}'")
        if fused:
            num_args = _attr(node, "num_args", 1)
            if num_args != 1:
                raise ConvertError(f"node '{node['name']}': {num_args} fused args unsupported")
            conv_in.append(self.const(np.asarray(self.const_value(ins[2], node, "the bias"),
                                                 np.float32)))
        attrs = dict(kernel_shape=[kh, kw], strides=strides[1:3], dilations=dil[1:3], group=group)
        padding = _attr(node, "padding", "VALID")
        if padding == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
        elif padding == "VALID":
            attrs["pads"] = [0, 0, 0, 0]
        elif padding == "EXPLICIT":
            p = _attr(node, "explicit_paddings")
            attrs["pads"] = [p[2], p[4], p[3], p[5]]
        else:
            raise ConvertError(f"node '{node['name']}': padding {padding}")
        y = self.emit("Conv", conv_in, np.float32, **attrs)
        return self.to_nhwc(self.activation(y, fused[1:] if fused else [], node))

    def pool(self, node, op):
        x = self.ref(node["input"][0])
        k, s = _attr(node, "ksize"), _attr(node, "strides")
        attrs = dict(kernel_shape=k[1:3], strides=s[1:3])
        if _attr(node, "padding") == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
            if op == "AveragePool":
                attrs["count_include_pad"] = 0
        y = self.emit(op, [self.to_nchw(x)], np.float32, **attrs)
        return self.to_nhwc(y)

    def binary(self, node, op):
        a, b = (self.ref(i) for i in node["input"][:2])
        # Constants take the other side's dtype (TF's graph already agrees; tfjs stores int32).
        da, db = self.dtypes[a], self.dtypes[b]
        if da != db:
            raise ConvertError(f"node '{node['name']}' ({node['op']}): operand types {da} and {db}")
        if op == "FloorDiv" and np.issubdtype(da, np.integer):
            # floor(a / b) = (a - floor_mod(a, b)) / b, exact for integers of either sign.
            m = self.emit("Mod", [a, b], da, fmod=0)
            return self.emit("Div", [self.emit("Sub", [a, m], da), b], da)
        if op == "FloorDiv":
            return self.emit("Floor", [self.emit("Div", [a, b], da)], da)
        if op == "FloorMod":
            if not np.issubdtype(da, np.integer):
                raise ConvertError(f"node '{node['name']}': FloorMod on floats unsupported")
            return self.emit("Mod", [a, b], da, fmod=0)
        return self.emit(op, [a, b], da if op != "Equal" else np.bool_)

    def strided_slice(self, node):
        ins = node["input"]
        x = self.ref(ins[0])
        begin, end, strides = (np.asarray(self.const_value(i, node, "begin/end/strides"),
                                          np.int64).copy() for i in ins[1:4])
        for m in ("ellipsis_mask", "new_axis_mask", "shrink_axis_mask"):
            if _attr(node, m, 0):
                raise ConvertError(f"node '{node['name']}': StridedSlice {m} unsupported")
        bm, em = _attr(node, "begin_mask", 0), _attr(node, "end_mask", 0)
        big = np.iinfo(np.int64).max
        for i in range(len(begin)):
            if bm >> i & 1:
                begin[i] = 0 if strides[i] > 0 else big
            if em >> i & 1:
                end[i] = big if strides[i] > 0 else -big
        axes = np.arange(len(begin), dtype=np.int64)
        return self.emit("Slice", [x, self.const(begin), self.const(end), self.const(axes),
                                   self.const(strides)], self.dtypes[x])

    def node(self, n):
        op, ins, name = n["op"], n.get("input", []), n["name"]
        ins = [i for i in ins if not i.startswith("^")]
        if op == "Const":
            if name not in self.weights:
                raise ConvertError(f"constant '{name}' is not in the weights manifest")
            self.consts[name] = self.weights[name]
            return
        if op == "Placeholder":
            shape = [int(d.get("size", -1)) for d in
                     _attr(n, "shape", {}).get("shape", {}).get("dim", [])]
            if not shape or any(d < 1 for d in shape):
                raise ConvertError(f"input '{name}' needs a static shape, has {shape}")
            dtype = _TF_TYPES.get(_attr(n, "dtype", "DT_FLOAT"))
            short = name.split("/")[-1]
            self.inputs.append(self.helper.make_tensor_value_info(
                short, self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), shape))
            self.names[name] = short
            self.dtypes[short] = dtype
            return
        x = None
        if op in ("_FusedConv2D", "Conv2D"):
            x = self.conv(n, depthwise=False)
        elif op in ("FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
            x = self.conv(n, depthwise=True)
        elif op in ("Add", "AddV2", "BiasAdd"):
            x = self.binary(n, "Add")
        elif op in ("Sub", "Mul", "Equal"):
            x = self.binary(n, op)
        elif op == "RealDiv":
            x = self.binary(n, "Div")
        elif op in ("Maximum", "Minimum"):
            x = self.binary(n, op[:3])
        elif op in ("FloorDiv", "FloorMod"):
            x = self.binary(n, op)
        elif op in ("Relu", "Sigmoid", "Tanh", "Identity"):
            a = self.ref(ins[0])
            x = self.emit(op, [a], self.dtypes[a])
        elif op == "Relu6":
            x = self.emit("Clip", [self.ref(ins[0]), self.const(np.float32(0)),
                                   self.const(np.float32(6))], np.float32)
        elif op == "LeakyRelu":
            x = self.emit("LeakyRelu", [self.ref(ins[0])], np.float32, alpha=_attr(n, "alpha", 0.2))
        elif op == "Mean":
            axes = np.asarray(self.const_value(ins[1], n, "the axes"), np.int64).reshape(-1)
            x = self.emit("ReduceMean", [self.ref(ins[0]), self.const(axes)], np.float32,
                          keepdims=int(bool(_attr(n, "keep_dims", False))))
        elif op == "MaxPool":
            x = self.pool(n, "MaxPool")
        elif op == "AvgPool":
            x = self.pool(n, "AveragePool")
        elif op == "ResizeBilinear":
            size = np.asarray(self.const_value(ins[1], n, "the size"), np.int64)
            if _attr(n, "align_corners", False):
                mode = "align_corners"
            elif _attr(n, "half_pixel_centers", False):
                mode = "half_pixel"
            else:
                mode = "asymmetric"
            a = self.ref(ins[0])
            # sizes for all four NHWC dimensions: N and C from the input, H and W from TF's.
            n_dim = self.emit("Shape", [a], np.int64, start=0, end=1)
            c_dim = self.emit("Shape", [a], np.int64, start=3, end=4)
            sizes = self.emit("Concat", [n_dim, self.const(size.reshape(2)), c_dim], np.int64,
                              axis=0)
            x = self.emit("Resize", [a, "", "", sizes], np.float32, mode="linear",
                          coordinate_transformation_mode=mode)
        elif op == "ConcatV2":
            axis = int(np.asarray(self.const_value(ins[-1], n, "the axis")))
            parts = [self.ref(i) for i in ins[:-1]]
            x = self.emit("Concat", parts, self.dtypes[parts[0]], axis=axis)
        elif op == "Reshape":
            shape = np.asarray(self.const_value(ins[1], n, "the shape"), np.int64)
            a = self.ref(ins[0])
            x = self.emit("Reshape", [a, self.const(shape)], self.dtypes[a])
        elif op == "Cast":
            to = _TF_TYPES.get(_attr(n, "DstT"))
            if to is None:
                raise ConvertError(f"node '{name}': Cast to {_attr(n, 'DstT')} unsupported")
            x = self.emit("Cast", [self.ref(ins[0])], to,
                          to=self.helper.np_dtype_to_tensor_dtype(np.dtype(to)))
        elif op == "TopKV2":
            k = np.asarray(self.const_value(ins[1], n, "k"), np.int64).reshape(1)
            vals, idx = self.emit("TopK", [self.ref(ins[0]), self.const(k)], np.float32, n_out=2,
                                  axis=-1, largest=1, sorted=1)
            self.dtypes[idx] = np.int64
            # TF's indices are int32; keep them so later integer ops see TF's types.
            self.names[name] = vals
            self.names[name + ":1"] = self.emit("Cast", [idx], np.int32, to=self.TP.INT32)
            return
        elif op == "ExpandDims":
            axis = np.asarray(self.const_value(ins[1], n, "the axis"), np.int64).reshape(1)
            a = self.ref(ins[0])
            x = self.emit("Unsqueeze", [a, self.const(axis)], self.dtypes[a])
        elif op == "Squeeze":
            dims = _attr(n, "squeeze_dims", [])
            a = self.ref(ins[0])
            args = [a] + ([self.const(np.asarray(dims, np.int64))] if dims else [])
            x = self.emit("Squeeze", args, self.dtypes[a])
        elif op == "GatherV2":
            if _attr(n, "batch_dims", 0):
                raise ConvertError(f"node '{name}': GatherV2 batch_dims unsupported")
            axis = int(np.asarray(self.const_value(ins[2], n, "the axis")))
            a = self.ref(ins[0])
            x = self.emit("Gather", [a, self.ref(ins[1])], self.dtypes[a], axis=axis)
        elif op == "StridedSlice":
            x = self.strided_slice(n)
        else:
            raise ConvertError(f"unsupported tfjs graph op '{op}' (node '{name}')")
        self.names[name] = x

    def convert(self):
        for n in self.nodes_json:
            self.node(n)
        outs = self.signature.get("outputs") or {}
        if not outs:
            raise ConvertError("model.json has no signature outputs")
        for key, spec in outs.items():
            ref = spec.get("name", key)
            src = self.ref(ref if not ref.endswith(":0") else ref[:-2])
            short = ref.split(":")[0].split("/")[-1]
            self.nodes.append(self.helper.make_node("Identity", [src], [short]))
            dims = [int(d.get("size", -1)) for d in spec.get("tensorShape", {}).get("dim", [])]
            self.outputs.append(self.helper.make_tensor_value_info(
                short, self.helper.np_dtype_to_tensor_dtype(np.dtype(self.dtypes[src])),
                [d if d >= 0 else None for d in dims]))
        import onnx
        graph = self.helper.make_graph(self.nodes, "tfjs_graph_model", self.inputs, self.outputs,
                                       self.inits)
        model = self.helper.make_model(graph, producer_name="cairn-recipe tfjs_graph_to_onnx",
                                       opset_imports=[self.helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def convert(model_dir):
    path = os.path.join(model_dir, "model.json")
    try:
        with open(path, encoding="utf-8") as f:
            model_json = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ConvertError(f"{path}: {e}") from e
    if model_json.get("format") not in (None, "graph-model"):
        raise ConvertError(f"{path}: format '{model_json.get('format')}' is not a graph model")
    weights = read_weights(model_dir, model_json.get("weightsManifest", []))
    return GraphConverter(model_json, weights).convert()


def check(onnx_path, ref_dir, tolerance=1e-4):
    """ONNX Runtime against TensorFlow.js (tfjs_reference.mjs run-graph) on each reference
    image. An element passes when |onnx - tfjs| <= tolerance * max(1, |tfjs|): absolute for
    values up to 1 (scores, heatmaps), relative for larger ones (pixel coordinates, where
    float32's own spacing at 512 is 6e-5). Returns {output: {"max_abs_diff", "max_scaled_diff",
    "max_abs_value"}}; raises AssertionError over tolerance."""
    import onnxruntime as ort
    with open(os.path.join(ref_dir, "reference.json"), encoding="utf-8") as f:
        meta = json.load(f)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # its shape-merge warnings about fused Gathers are noise here
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    stats = {}
    for i, spec in enumerate(meta["inputs"]):
        x = np.fromfile(os.path.join(ref_dir, spec["file"]), np.float32).reshape(spec["shape"])
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {in_name: x})))
        for out in (o for o in meta["outputs"] if o["image"] == i):
            want = np.fromfile(os.path.join(ref_dir, out["file"]), np.float32).reshape(out["shape"])
            if out["name"] not in got:
                raise AssertionError(f"{onnx_path} has no output '{out['name']}'")
            have = got[out["name"]].astype(np.float32)
            if have.shape != want.shape:
                raise AssertionError(f"{onnx_path}: output '{out['name']}' has shape "
                                     f"{have.shape}, TensorFlow.js {want.shape}")
            diff = np.abs(have.astype(np.float64) - want)
            s = stats.setdefault(out["name"], {"max_abs_diff": 0.0, "max_scaled_diff": 0.0,
                                               "max_abs_value": 0.0})
            s["max_abs_diff"] = max(s["max_abs_diff"], float(diff.max()))
            s["max_scaled_diff"] = max(s["max_scaled_diff"],
                                       float((diff / np.maximum(1.0, np.abs(want))).max()))
            s["max_abs_value"] = max(s["max_abs_value"], float(np.abs(want).max()))
    bad = {k: v["max_scaled_diff"] for k, v in stats.items()
           if not v["max_scaled_diff"] <= tolerance}
    if bad:
        raise AssertionError(f"{onnx_path} differs from TensorFlow.js by {bad} > {tolerance} "
                             "(|diff| / max(1, |value|))")
    return stats


def main():
    args = sys.argv[1:]
    try:
        if len(args) == 3 and args[0] == "convert":
            model = convert(args[1])
            with open(args[2], "wb") as f:
                f.write(model.SerializeToString())
            print(f"{args[2]}: {len(model.graph.node)} nodes")
        elif len(args) == 3 and args[0] == "check":
            print(json.dumps(check(args[1], args[2])))
        else:
            sys.exit("usage: python3 tfjs_graph_to_onnx.py convert MODEL_DIR OUT.onnx\n"
                     "       python3 tfjs_graph_to_onnx.py check OUT.onnx REFERENCE_DIR")
    except (ConvertError, AssertionError) as e:
        sys.exit(f"tfjs_graph_to_onnx: {e}")


if __name__ == "__main__":
    main()

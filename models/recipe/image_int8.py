"""The image packs' `wasm-int8` variant: weight-only int8 (per output channel) for ONNX Runtime
Web's wasm backend, checked against the fp32 graph.

  python3 image_int8.py PACK_DIR [--images N]

PACK_DIR is a converted image pack (convert_image_safety.py or convert_image_tags.py: model.onnx
in fp32, variants native-fp32 and webgpu-fp32). Writes PACK_DIR/model-int8.onnx, checks it
against model.onnx with native ONNX Runtime on generated images (it fails over the limits
below), and rewrites the manifest: variants native-fp32 (model.onnx), wasm-int8
(model-int8.onnx), webgpu-fp32 (model.onnx), every file's size and BLAKE2b-256 (so the int8
file is signed like the others when `cairn-cli pack sign` signs the manifest), and a
`quantization` record with the method and the figures. Prints the figures as one JSON line.

The method. Every Conv and MatMul weight (an fp32 initializer) becomes an int8 initializer with
one float32 scale per output channel (symmetric: scale = max|w| / 127, zero point 0) and a
DequantizeLinear node (opset 13+, `axis` = the output-channel axis) that restores it in float32
at run time; activations stay float32, so every operator still runs its fp32 kernel. Before
that, a BatchNormalization that only follows a Conv with constant weights is folded into it
(ONNX Runtime folds these itself at load, but not once the weight comes out of a
DequantizeLinear). Depthwise convolutions (group > 1) stay fp32: a depthwise channel has only
kh x kw = 9 weights, and rounding them cost 4-6x the error of everything else together while
saving about 0.3-0.45 MB (measured: max probability difference 0.144 with them int8, 0.037
without on image-safety; heatmap 0.137 vs 0.023 on image-tags). Biases stay fp32.

Why weight-only: ONNX Runtime's own quantizers (python3-onnxruntime 1.21), measured by
image_int8_alternatives.py on both packs with the agreement check below:
- quantize_dynamic (per channel) with int8 weights turns Conv into ConvInteger, which ONNX
  Runtime's CPU kernels (the code ORT Web's wasm backend runs) do not implement for int8: the
  session fails to load ("NOT_IMPLEMENTED: Could not find an implementation for
  ConvInteger(10)"). With uint8 weights it loads but quantizes every activation per tensor on
  the fly: image-safety max probability difference 0.061 (weight-only: 0.037); image-tags
  heatmap 0.29, 18 of 21 fp32 detections lost (weight-only: 0.031, none lost).
- quantize_static (QDQ, per channel, uint8 activations) takes its activation ranges from
  calibration images, and the recipe has no representative photos (none in Debian or npm under
  a usable licence; generated images are not photos): calibrated on 8 generated images it
  disagrees on the top-1 class for 2 of 24 others (max probability difference 0.62) and loses
  20 of 21 detections (heatmap 0.33).
Weight-only needs no calibration: the error is the weights' rounding alone.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pack  # noqa: E402

INT8_FILE = "model-int8.onnx"
FP32_FILE = "model.onnx"
# The agreement the int8 graph must keep with the fp32 graph (here natively, and in
# tests/models/image_int8_test.py on ORT Web's wasm backend): about 2x over what was measured
# (probabilities 0.037, heatmap 0.031-0.050, IoU down to 0.85 for peaks of score 0.1), tight
# enough that one layer's scales off by 4x fails (the test checks that it does).
SAFETY_LIMITS = {"min_top1_fraction": 0.95, "max_prob_diff": 0.08}
TAGS_LIMITS = {"max_heatmap_diff": 0.1, "min_iou": 0.75, "max_score_diff": 0.1,
               "tag_margin": 0.05}
# How the app turns detections into tags (pwa/src/worker/image_prep.ts, CENTERNET_DEFAULTS).
TAGS_APP = {"score": 0.2, "iou": 0.4, "max": 10}
# fp32 detections at or over this score must be found by int8. Under the app's 0.2: generated
# images give CenterNet's peaks of 0.1-0.22, not a photo's 0.5-0.9.
TAGS_SCORE_MIN = 0.1
# On real photos (tests/data/photos.txt) the check starts where the app could show a tag (its
# threshold less tag_margin): photos give many weak peaks of 0.1-0.15 whose boxes move more
# (2 of 159 matched only at IoU 0.65-0.75), and none of them can become a tag.
TAGS_PHOTO_SCORE_MIN = TAGS_APP["score"] - TAGS_LIMITS["tag_margin"]


# --- quantization ----------------------------------------------------------------------------

def _consumers(graph):
    out = {}
    for node in graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def fold_batch_norms(model):
    """Folds each BatchNormalization whose input is a Conv's only use, with constant weights,
    into that Conv. Returns the number folded."""
    from onnx import numpy_helper
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    uses = _consumers(g)
    producers = {o: n for n in g.node for o in n.output}
    graph_outputs = {o.name for o in g.output}
    folded, drop = 0, []
    for bn in g.node:
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1:
            continue
        conv = producers.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(uses.get(conv.output[0], [])) != 1:
            continue
        if conv.output[0] in graph_outputs:
            continue
        if any(a.name == "training_mode" and a.i for a in bn.attribute):
            continue
        params = bn.input[1:5]
        if conv.input[1] not in inits or not all(p in inits for p in params):
            continue
        if len(uses[conv.input[1]]) != 1 or (len(conv.input) > 2 and len(uses[conv.input[2]]) != 1):
            continue  # a shared weight would change for its other users too
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (numpy_helper.to_array(inits[p]).astype(np.float64)
                                  for p in params)
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = (numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
             if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0]))
        s = gamma / np.sqrt(var + eps)
        w_name = conv.input[1]
        inits[w_name].CopyFrom(numpy_helper.from_array(
            (w * s.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32), w_name))
        b_name = conv.input[2] if len(conv.input) > 2 and conv.input[2] else w_name + "/folded_bias"
        b_new = numpy_helper.from_array(((b - mean) * s + beta).astype(np.float32), b_name)
        if b_name in inits:
            inits[b_name].CopyFrom(b_new)
        else:
            g.initializer.append(b_new)
            inits[b_name] = g.initializer[-1]
            if len(conv.input) > 2:
                conv.input[2] = b_name
            else:
                conv.input.append(b_name)
        conv.output[0] = bn.output[0]
        drop.append(bn)
        folded += 1
    for bn in drop:
        g.node.remove(bn)
    # BatchNormalization parameters no longer used by any node.
    used = {i for n in g.node for i in n.input}
    for init in [i for i in g.initializer if i.name not in used]:
        g.initializer.remove(init)
    return folded


def quantize_per_channel(w, axis):
    """Symmetric int8 per channel along `axis`: w ≈ q * scale (broadcast along axis). An
    all-zero channel gets scale 1 (its q is 0)."""
    other = tuple(d for d in range(w.ndim) if d != axis)
    amax = np.abs(w).max(axis=other).astype(np.float64)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


# The output-channel axis of each quantized operator's weight (its input 1): Conv's is
# [out, in / group, kh, kw]; MatMul's [.., in, out].
_WEIGHT_AXIS = {"Conv": lambda w: 0, "MatMul": lambda w: w.ndim - 1}


def quantize_weights(model, min_elements=64):
    """Replaces Conv (not depthwise) and MatMul weights (fp32 initializers of at least
    `min_elements`) with int8 + per-channel scales + DequantizeLinear. Returns the number of
    weights quantized."""
    from onnx import TensorProto, helper, numpy_helper
    g = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise ValueError(f"opset {opset}: per-channel DequantizeLinear needs opset 13 or later")
    inits = {i.name: i for i in g.initializer}
    uses = _consumers(g)
    axes = {}
    for node in g.node:
        if node.op_type in _WEIGHT_AXIS and len(node.input) > 1 and node.input[1] in inits:
            t = inits[node.input[1]]
            if t.data_type != TensorProto.FLOAT:
                continue
            if any(a.name == "group" and a.i > 1 for a in node.attribute):
                axes.setdefault(t.name, set()).add(None)  # depthwise: stays fp32 (see above)
                continue
            w = numpy_helper.to_array(t)
            axes.setdefault(t.name, set()).add(_WEIGHT_AXIS[node.op_type](w))
    dq_nodes, count = [], 0
    for name, axis_set in axes.items():
        w = numpy_helper.to_array(inits[name])
        # Every user must read it as a weight on the same axis (a weight shared with anything
        # else stays fp32).
        if len(axis_set) != 1 or None in axis_set or w.size < min_elements or w.ndim < 2:
            continue
        if any(n.op_type not in _WEIGHT_AXIS or list(n.input).index(name) != 1 for n in uses[name]):
            continue
        (axis,) = axis_set
        q, scale = quantize_per_channel(w, axis)
        g.initializer.remove(inits[name])
        zero = np.zeros_like(scale, np.int8)
        g.initializer.extend([numpy_helper.from_array(q, name + "/int8"),
                              numpy_helper.from_array(scale, name + "/scale"),
                              numpy_helper.from_array(zero, name + "/zero")])
        dq_nodes.append(helper.make_node("DequantizeLinear",
                                         [name + "/int8", name + "/scale", name + "/zero"], [name],
                                         name=name + "/dequantize", axis=axis))
        count += 1
    # The DequantizeLinear nodes read only initializers: first in topological order.
    nodes = dq_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return count


def make_int8(src, dst, min_elements=64):
    """model.onnx → model-int8.onnx; returns {"weights_int8": n, "batch_norms_folded": n}."""
    import onnx
    model = onnx.load(src)
    folded = fold_batch_norms(model)
    n = quantize_weights(model, min_elements)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return {"weights_int8": n, "batch_norms_folded": folded}


# --- generated test images -------------------------------------------------------------------

def generated_images(count, size, seed=7):
    """Deterministic RGB uint8 images [count, size, size, 3], photo-like in their statistics
    (smooth regions, edges, texture, skin-like tones), kinds in turn: colour blobs, blobs with
    sensor noise, shapes on a background, skin-toned blobs, a gradient with stripes."""
    out = np.zeros((count, size, size, 3), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for k in range(count):
        rng = np.random.RandomState(seed * 1000 + k)
        kind = k % 5
        img = np.zeros((size, size, 3), np.float32) + rng.uniform(0, 255, 3)
        if kind in (0, 1, 3):
            skin = np.array([224, 172, 140], np.float32)
            for _ in range(rng.randint(3, 9)):
                cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.08, 0.4)
                colour = (skin * rng.uniform(0.5, 1.1) if kind == 3 else rng.uniform(0, 255, 3))
                w = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
                img = img * (1 - w) + colour * w
            if kind == 1:
                img += rng.normal(0, 12, img.shape)
        elif kind == 2:
            for _ in range(rng.randint(4, 12)):
                x0, y0 = rng.uniform(0, 0.8, 2)
                x1, y1 = x0 + rng.uniform(0.1, 0.5), y0 + rng.uniform(0.1, 0.5)
                m = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
                if rng.rand() < 0.5:  # an ellipse in the box instead
                    m = ((xx - (x0 + x1) / 2) / ((x1 - x0) / 2)) ** 2 + \
                        ((yy - (y0 + y1) / 2) / ((y1 - y0) / 2)) ** 2 <= 1
                img[m] = rng.uniform(0, 255, 3)
        else:
            a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
            t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))[..., None]
            t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
            img = a * (1 - t) + b * t
            period = rng.randint(6, 40)
            img += 40 * (((xx * size // period + yy * size // period) % 2)[..., None] - 0.5)
        out[k] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out


def model_inputs(task, count, seed=7):
    """The model's float32 input for `count` generated images, as the app feeds each pack
    (one image per run): image-safety [N, 224, 224, 3] in [0, 1], image-tags [N, 512, 512, 3]
    in 0-255."""
    if task == "image-safety":
        return generated_images(count, 224, seed).astype(np.float32) / 255.0
    if task == "image-tags":
        return generated_images(count, 512, seed).astype(np.float32)
    raise ValueError(f"no int8 recipe for task {task}")


# --- agreement -------------------------------------------------------------------------------

def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def safety_agreement(ref, got):
    """ref, got: probabilities [N, 5] (fp32, int8)."""
    ref, got = np.asarray(ref, np.float64), np.asarray(got, np.float64)
    agree = int((ref.argmax(1) == got.argmax(1)).sum())
    figures = {"images": len(ref), "top1_agree": agree,
               "max_prob_diff": float(np.abs(ref - got).max()),
               "classes_seen": sorted({int(c) for c in ref.argmax(1)})}
    problems = []
    if agree < SAFETY_LIMITS["min_top1_fraction"] * len(ref):
        problems.append(f"top-1 agrees on {agree}/{len(ref)} images")
    if not figures["max_prob_diff"] <= SAFETY_LIMITS["max_prob_diff"]:
        problems.append(f"probabilities differ by {figures['max_prob_diff']:.3g} > "
                        f"{SAFETY_LIMITS['max_prob_diff']}")
    return figures, problems


def shown_tags(detections):
    """{class: score} of the tags the app shows for one image's CenterNet rows [N, 6], as
    pwa/src/worker/image_prep.ts decodeDetections keeps them: score >= TAGS_APP["score"],
    greedy non-max suppression over all classes at IoU > TAGS_APP["iou"], the best
    TAGS_APP["max"]; a class's score is its best kept row's."""
    rows = sorted((r for r in np.asarray(detections, np.float64).reshape(-1, 6)
                   if r[4] >= TAGS_APP["score"]), key=lambda r: -r[4])
    kept = []
    for r in rows:
        if len(kept) == TAGS_APP["max"]:
            break
        if all(_iou(r, k) <= TAGS_APP["iou"] for k in kept):
            kept.append(r)
    tags = {}
    for r in kept:
        tags.setdefault(int(r[5]), float(r[4]))
    return tags


def tags_agreement(ref, got, score_min=TAGS_SCORE_MIN):
    """ref, got: one {"keypoints": [1,128,128,80], "detections": [1,100,6]} per image.
    - Every fp32 detection with score >= score_min must have an int8 row of the same class
      at IoU >= min_iou, and the one of those nearest in score must be within max_score_diff
      (CenterNet gives several overlapping rows per object, so the row with the best IoU can be
      a weaker neighbouring peak: an int8 graph that lost the strong peak fails on the score).
    - The tags the app would show (shown_tags) must be the same, except a tag whose score is
      within tag_margin of the app's threshold on either side."""
    heat, ious, score_diffs, unmatched, tag_diffs = 0.0, [], [], 0, []
    for i, (r, g) in enumerate(zip(ref, got)):
        kp = np.asarray(r["keypoints"], np.float64)
        heat = max(heat, float(np.abs(kp - g["keypoints"]).max()))
        rd = np.asarray(r["detections"], np.float64).reshape(-1, 6)
        gd = np.asarray(g["detections"], np.float64).reshape(-1, 6)
        for row in rd[rd[:, 4] >= score_min]:
            cands = [j for j in range(len(gd)) if gd[j, 5] == row[5]
                     and _iou(row, gd[j]) >= TAGS_LIMITS["min_iou"]]
            if not cands:
                unmatched += 1
                continue
            j = min(cands, key=lambda j: abs(gd[j, 4] - row[4]))
            ious.append(_iou(row, gd[j]))
            score_diffs.append(abs(row[4] - gd[j, 4]))
        a, b = shown_tags(rd), shown_tags(gd)
        for c in set(a) ^ set(b):
            score = a.get(c, b.get(c))
            if score >= TAGS_APP["score"] + TAGS_LIMITS["tag_margin"]:
                tag_diffs.append(f"image {i}: class {c} ({score:.2f}) shown by "
                                 f"{'fp32' if c in a else 'int8'} only")
    checked = len(ious) + unmatched
    figures = {"images": len(ref), "max_heatmap_diff": heat, "detections_checked": checked,
               "detections_matched": len(ious), "min_iou": min(ious) if ious else None,
               "max_score_diff": max(score_diffs) if score_diffs else None,
               "tags_shown": sum(len(shown_tags(r["detections"])) for r in ref),
               "tags_different": len(tag_diffs)}
    problems = []
    if not heat <= TAGS_LIMITS["max_heatmap_diff"]:
        problems.append(f"heatmap differs by {heat:.3g} > {TAGS_LIMITS['max_heatmap_diff']}")
    if unmatched:
        problems.append(f"{unmatched} of {checked} fp32 detections (score >= {score_min}) "
                        f"have no int8 match at IoU >= {TAGS_LIMITS['min_iou']}")
    if score_diffs and not max(score_diffs) <= TAGS_LIMITS["max_score_diff"]:
        problems.append(f"a matched detection's score differs by {max(score_diffs):.3g} > "
                        f"{TAGS_LIMITS['max_score_diff']}")
    problems += tag_diffs
    return figures, problems


def run_native(path, task, inputs):
    """Native ONNX Runtime (CPU), one image per run as the app does. image-safety: the
    probabilities [N, 5]; image-tags: a list of {keypoints, detections}."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    outs = [dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {name: x[None]})))
            for x in inputs]
    if task == "image-safety":
        return np.concatenate([o["probabilities"] for o in outs])
    return [{"keypoints": o["keypoints"], "detections": o["detections"]} for o in outs]


def agreement(task, ref, got, **kw):
    return safety_agreement(ref, got) if task == "image-safety" else tags_agreement(ref, got, **kw)


# --- the pack --------------------------------------------------------------------------------

def rewrite_manifest(pack_dir, figures):
    path = os.path.join(pack_dir, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    native = next((v for v in manifest["variants"] if v["name"] == "native-fp32"), None)
    if native is None or native["file"] != FP32_FILE:
        raise ValueError(f"{path}: no native-fp32 variant on {FP32_FILE}")
    io = {k: native[k] for k in ("inputs", "outputs") if k in native}
    manifest["variants"] = [
        native,
        dict(name="wasm-int8", runtime="ort-web", precision="int8",
             execution_providers=["wasm"], file=INT8_FILE, **io),
        dict(name="webgpu-fp32", runtime="ort-web", precision="fp32",
             execution_providers=["webgpu", "wasm"], file=FP32_FILE, **io),
    ]
    names = sorted({f["name"] for f in manifest["files"]} | {INT8_FILE})
    manifest["files"] = [pack.file_entry(pack_dir, n) for n in names]
    manifest["quantization"] = {
        "wasm-int8": {
            "method": "weight-only int8: Conv and MatMul weights symmetric per output channel "
                      "(scale = max|w| / 127) with DequantizeLinear, activations float32; "
                      "BatchNormalization folded into the Conv before; depthwise Conv weights "
                      "and biases fp32 (models/recipe/image_int8.py)",
            "check": figures}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pack_dir")
    ap.add_argument("--images", type=int, default=0, help="generated images for the check "
                    "(default 40 for image-safety, 8 for image-tags)")
    args = ap.parse_args()
    with open(os.path.join(args.pack_dir, "manifest.json"), encoding="utf-8") as f:
        task = json.load(f)["task"]
    fp32 = os.path.join(args.pack_dir, FP32_FILE)
    int8 = os.path.join(args.pack_dir, INT8_FILE)
    try:
        stats = make_int8(fp32, int8)
        n = args.images or (40 if task == "image-safety" else 8)
        x = model_inputs(task, n)
        figures, problems = agreement(task, run_native(fp32, task, x), run_native(int8, task, x))
    except ValueError as e:
        sys.exit(f"image_int8: {args.pack_dir}: {e}")
    figures.update(stats, runtime="onnxruntime (native, CPU) for both",
                   fp32_bytes=os.path.getsize(fp32), int8_bytes=os.path.getsize(int8))
    if problems:
        sys.exit(f"image_int8: {int8} disagrees with {FP32_FILE}: {'; '.join(problems)} "
                 f"({json.dumps(figures)})")
    rewrite_manifest(args.pack_dir, figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""The image packs' wasm-int8 variants (models/recipe/image_int8.py) against their fp32 originals,
across runtimes: fp32 on native ONNX Runtime (python), int8 on ONNX Runtime Web's wasm backend
under Node (models/recipe/ort_web_run.mjs, the app's onnxruntime-web), on generated images and
on real photographs (tests/data/photos.txt; tests/models/photos.py reads them from
$CAIRN_TEST_PHOTOS, which `./cairn test` fills from Debian's python3-skimage).
Also: the manifest names the three variants and signs the int8 file (size and BLAKE2b-256), the
int8 file is at most a third of the fp32 one, only weights are quantized, and the check itself
fails on a damaged int8 graph.

  python3 tests/models/image_int8_test.py [PACK_DIR...]

The packs: the arguments, else $CAIRN_IMAGE_PACKS (colon-separated pack directories; `./cairn
test` sets it to the packs `./cairn models` builds, from their cache), else
build/models/cairn-image-{safety,tags}. Without packs it exits 77 (ctest: skipped), and without
photos their test is skipped, unless CAIRN_REQUIRE_MODELS=1. Prints the agreement figures.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "recipe"))
import image_int8  # noqa: E402
import photos  # noqa: E402

SAFETY_IMAGES = 40
TAGS_IMAGES = 8
PHOTO_VIEWS = {"image-safety": 4, "image-tags": 2}  # views of each photo (photos.views)
# A photo's objects give CenterNet peaks of 0.5-0.9 (image_int8.TAGS_SCORE_MIN says why the
# generated images don't): the photos must give some, or the check proves little.
TAGS_PHOTO_OBJECT_SCORE = 0.5
RUNNER = os.path.join(ROOT, "models", "recipe", "ort_web_run.mjs")


def pack_dirs():
    if len(sys.argv) > 1:
        return sys.argv[1:]
    env = os.environ.get("CAIRN_IMAGE_PACKS")
    if env:
        return [d for d in env.split(":") if d]
    return [os.path.join(ROOT, "build", "models", p)
            for p in ("cairn-image-safety", "cairn-image-tags")]


PACKS = {}  # task → directory


def ort_web(model, task, x, out_dir):
    """int8 (or any graph) on onnxruntime-web's wasm backend under Node."""
    inputs = os.path.join(out_dir, "inputs.f32")
    x.astype(np.float32).tofile(inputs)
    outputs = ["probabilities"] if task == "image-safety" else ["keypoints", "detections"]
    r = subprocess.run(["node", RUNNER, model, inputs, out_dir, "--shape",
                        ",".join(map(str, x.shape[1:])), "--outputs", ",".join(outputs)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise AssertionError(f"ort_web_run.mjs failed: {r.stderr.strip()}")
    info = json.loads(r.stdout.strip().splitlines()[-1])
    read = {o: np.fromfile(os.path.join(out_dir, f"{o}.f32"), np.float32) for o in outputs}
    if task == "image-safety":
        return read["probabilities"].reshape(len(x), -1), info
    kp = read["keypoints"].reshape(len(x), 1, 128, 128, 80)
    det = read["detections"].reshape(len(x), 1, 100, 6)
    return [{"keypoints": kp[i], "detections": det[i]} for i in range(len(x))], info


class PackTest:
    task = None
    images = 0

    @classmethod
    def setUpClass(cls):
        cls.dir = PACKS[cls.task]
        with open(os.path.join(cls.dir, "manifest.json"), encoding="utf-8") as f:
            cls.manifest = json.load(f)
        cls.fp32 = os.path.join(cls.dir, image_int8.FP32_FILE)
        cls.int8 = os.path.join(cls.dir, image_int8.INT8_FILE)
        cls.x = image_int8.model_inputs(cls.task, cls.images, seed=11)  # not the build's images
        cls.ref = image_int8.run_native(cls.fp32, cls.task, cls.x)
        with tempfile.TemporaryDirectory() as tmp:
            cls.got, cls.web = ort_web(cls.int8, cls.task, cls.x, tmp)

    def test_manifest_names_the_three_variants(self):
        v = {x["name"]: x for x in self.manifest["variants"]}
        self.assertEqual(sorted(v), ["native-fp32", "wasm-int8", "webgpu-fp32"])
        self.assertEqual((v["native-fp32"]["runtime"], v["native-fp32"]["precision"],
                          v["native-fp32"]["file"]), ("ort-native", "fp32", "model.onnx"))
        self.assertEqual((v["wasm-int8"]["runtime"], v["wasm-int8"]["precision"],
                          v["wasm-int8"]["execution_providers"], v["wasm-int8"]["file"]),
                         ("ort-web", "int8", ["wasm"], "model-int8.onnx"))
        self.assertEqual((v["webgpu-fp32"]["precision"], v["webgpu-fp32"]["file"],
                          v["webgpu-fp32"]["execution_providers"][0]),
                         ("fp32", "model.onnx", "webgpu"))
        self.assertEqual(v["wasm-int8"]["inputs"], v["native-fp32"]["inputs"])
        self.assertEqual(v["wasm-int8"]["outputs"], v["native-fp32"]["outputs"])

    def test_int8_file_is_signed_by_the_manifest(self):
        entry = next(f for f in self.manifest["files"] if f["name"] == image_int8.INT8_FILE)
        with open(self.int8, "rb") as f:
            data = f.read()
        self.assertEqual(entry["size"], len(data))
        self.assertEqual(entry["blake2b"], hashlib.blake2b(data, digest_size=32).hexdigest())

    def test_int8_is_at_most_a_third_of_fp32(self):
        fp32, int8 = os.path.getsize(self.fp32), os.path.getsize(self.int8)
        print(f"\n{self.manifest['id']}: fp32 {fp32 / 1e6:.1f} MB -> int8 {int8 / 1e6:.1f} MB",
              file=sys.stderr)
        self.assertLessEqual(int8, fp32 / 3)

    def test_only_weights_are_quantized(self):
        import onnx
        g = onnx.load(self.int8).graph
        ops = [n.op_type for n in g.node]
        self.assertNotIn("QuantizeLinear", ops)  # activations stay float32
        self.assertNotIn("ConvInteger", ops)
        made = {o for n in g.node if n.op_type == "DequantizeLinear" for o in n.output}
        # Depthwise convolutions stay fp32 by design (image_int8.py says why).
        weights = [n.input[1] for n in g.node if n.op_type in ("Conv", "MatMul")
                   and not any(a.name == "group" and a.i > 1 for a in n.attribute)]
        inits = {i.name: i for i in g.initializer}
        fp32_left = [w for w in weights if w in inits and np.prod(inits[w].dims) >= 64
                     and inits[w].data_type == onnx.TensorProto.FLOAT]
        self.assertEqual(fp32_left, [])
        self.assertGreater(len(made & set(weights)), 10)

    def test_int8_on_ort_web_agrees_with_fp32_natively(self):
        figures, problems = image_int8.agreement(self.task, self.ref, self.got)
        figures["ort_web"] = self.web
        print(f"\n{self.manifest['id']}: fp32 native vs int8 ORT Web wasm: {json.dumps(figures)}",
              file=sys.stderr)
        self.assertEqual(problems, [])
        self.check_not_vacuous(figures)

    def test_int8_on_ort_web_agrees_with_fp32_on_real_photos(self):
        directory = os.environ.get("CAIRN_TEST_PHOTOS")
        if not directory:
            if os.environ.get("CAIRN_REQUIRE_MODELS") == "1":
                self.fail("no photos: set CAIRN_TEST_PHOTOS (./cairn test does)")
            self.skipTest("no photos (CAIRN_TEST_PHOTOS)")
        x = photos.model_inputs(self.task, directory, PHOTO_VIEWS[self.task])
        ref = image_int8.run_native(self.fp32, self.task, x)
        with tempfile.TemporaryDirectory() as tmp:
            got, web = ort_web(self.int8, self.task, x, tmp)
        kw = {"score_min": image_int8.TAGS_PHOTO_SCORE_MIN} if self.task == "image-tags" else {}
        figures, problems = image_int8.agreement(self.task, ref, got, **kw)
        figures["photos"] = len(photos.listed())
        self.add_photo_figures(figures, ref)
        print(f"\n{self.manifest['id']}: real photos, fp32 native vs int8 ORT Web wasm: "
              f"{json.dumps(figures)}", file=sys.stderr)
        self.assertEqual(problems, [])
        self.check_photos_not_vacuous(figures)

    def test_the_check_fails_on_a_damaged_int8_graph(self):
        import onnx
        from onnx import numpy_helper
        model = onnx.load(self.int8)
        # A plausible bug: one layer's scales off by 4x (a wrong axis or a per-tensor max).
        scales = [i for i in model.graph.initializer if i.name.endswith("/scale")]
        target = scales[len(scales) // 2]
        target.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(target) * 4, target.name))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "damaged.onnx")
            onnx.save(model, path)
            damaged = image_int8.run_native(path, self.task, self.x)
        _, problems = image_int8.agreement(self.task, self.ref, damaged)
        print(f"\n{self.manifest['id']}: scales of {target.name} x4: {problems}", file=sys.stderr)
        self.assertNotEqual(problems, [])


class SafetyTest(PackTest, unittest.TestCase):
    task = "image-safety"
    images = SAFETY_IMAGES

    def check_not_vacuous(self, figures):
        self.assertGreaterEqual(len(figures["classes_seen"]), 2)  # not one class for everything

    def add_photo_figures(self, figures, ref):
        pass

    def check_photos_not_vacuous(self, figures):
        self.assertEqual(figures["images"], len(photos.listed()) * PHOTO_VIEWS[self.task])


class TagsTest(PackTest, unittest.TestCase):
    task = "image-tags"
    images = TAGS_IMAGES

    def check_not_vacuous(self, figures):
        self.assertGreater(figures["detections_checked"], 0)

    def add_photo_figures(self, figures, ref):
        scores = [row[4] for r in ref for row in np.asarray(r["detections"]).reshape(-1, 6)]
        figures["objects"] = int(sum(s >= TAGS_PHOTO_OBJECT_SCORE for s in scores))

    def check_photos_not_vacuous(self, figures):
        self.assertGreater(figures["objects"], 0)


def main():
    for d in pack_dirs():
        try:
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
                PACKS[json.load(f)["task"]] = d
        except OSError:
            pass
    missing = {"image-safety", "image-tags"} - set(PACKS)
    if missing:
        msg = (f"image_int8_test: no built pack for {sorted(missing)} in {pack_dirs()}; "
               "build them with ./cairn models")
        if os.environ.get("CAIRN_REQUIRE_MODELS") == "1":
            sys.exit(msg)
        print(msg + " (skipped)", file=sys.stderr)
        sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)


if __name__ == "__main__":
    main()

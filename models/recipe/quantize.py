"""Dynamic int8 quantization of a model with ONNX Runtime's tools, in its own process (see
ort_check.py for why ONNX Runtime runs apart from torch).

  python3 quantize.py IN.onnx OUT.onnx
"""
import sys

# Debian's onnx and onnxruntime share one operator-schema registry; onnx.reference (which the
# quantizer imports) indexes it and fails once ONNX Runtime has added its internal domains, so
# it is imported first.
import onnx.reference  # noqa: F401
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402

quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8)

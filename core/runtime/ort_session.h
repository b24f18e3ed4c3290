// For native-host classes that make their own ONNX Runtime sessions (OrtTextEmbedder): the
// process-wide runtime that OrtDecoder uses, loaded at first use. Include only from .cc files
// built with ONNX Runtime's headers (cairn_runtime_native).
#ifndef CAIRN_CORE_RUNTIME_ORT_SESSION_H_
#define CAIRN_CORE_RUNTIME_ORT_SESSION_H_

#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::runtime {

// Loads ONNX Runtime (once per process), then makes a session from verified model bytes on the
// process-wide Env; the first session of the process is made with stderr quiet (ort_decoder.cc
// says why). An ONNX Runtime exception becomes a Status that starts with `what`.
Result<Ort::Session> NewOrtSession(ByteView onnx_model, const Ort::SessionOptions& options,
                                   std::string_view what);

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_ORT_SESSION_H_

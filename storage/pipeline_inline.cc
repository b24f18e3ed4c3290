// Pipeline for builds without threads (wasm): every stage runs at once, inside Run().
#include <utility>

#include "storage/pipeline.h"

namespace cairn::storage {

struct Pipeline::Impl {};

Pipeline::Pipeline() = default;
Pipeline::~Pipeline() = default;

void Pipeline::Run(std::function<void()> stage) { stage(); }
void Pipeline::Wait() {}
bool Pipeline::Concurrent() { return false; }

}  // namespace cairn::storage

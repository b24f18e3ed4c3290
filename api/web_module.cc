// The wasm module's translation unit: everything it exports is the C ABI (cairn_api.h), pulled
// in from cairn_api by the export list. Nothing runs at start-up.
#include "api/cairn_api.h"

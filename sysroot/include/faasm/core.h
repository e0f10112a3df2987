// Faasm's name for its C API (faasm/cpp's libfaasm includes it from
// faasm/faasm.h; here the API lives in faasm/faasm.h and this includes it).
#pragma once

#include "faasm/faasm.h"
#include "faasm/memory.h"

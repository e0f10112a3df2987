// Faasm's migration point (__faasm_migrate_point), from faasm/host_interface.h.
#pragma once

#include "faasm/host_interface.h"

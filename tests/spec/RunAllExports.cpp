#include "RunAllExports.h"
namespace faasm::spec {
int runAllExports(const std::string&, const RunOptions&) { return 1; }
}

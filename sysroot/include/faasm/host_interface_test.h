// The test numbers of __faasm_host_interface_test (faasm/host_interface.h).
#pragma once

enum HostInterfaceTest {
  NoTest = 0,
  // The host raises an error, which must end the call.
  ExceptionPropagationTest = 1,
};

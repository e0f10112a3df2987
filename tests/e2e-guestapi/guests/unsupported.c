// Calls one function of Faasm's API that cannot mean here what it means in
// Faasm, named by the first argument; each must fail the call with one
// line naming it. Exits 0 if the call returned (which it must not).
#include <faasm/faasm.h>
#include <faasm/host_interface.h>
#include <faasm/host_interface_test.h>
#include <faasm/shared_mem.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* f = argv[1];
  int var = 0;
  char* out = NULL;
  int len = 0;
  unsigned char buffer[8];
  if (!strcmp(f, "faasmGetPythonUser"))
    faasmGetPythonUser();
  else if (!strcmp(f, "faasmGetPythonFunc"))
    faasmGetPythonFunc();
  else if (!strcmp(f, "faasmGetPythonEntry"))
    faasmGetPythonEntry();
  else if (!strcmp(f, "faasmBacktrace"))
    faasmBacktrace(3);
  else if (!strcmp(f, "__faasm_get_py_user"))
    __faasm_get_py_user(buffer, 8);
  else if (!strcmp(f, "__faasm_get_py_func"))
    __faasm_get_py_func(buffer, 8);
  else if (!strcmp(f, "__faasm_get_py_entry"))
    __faasm_get_py_entry(buffer, 8);
  else if (!strcmp(f, "__faasm_chain_py"))
    __faasm_chain_py("f", buffer, 0);
  else if (!strcmp(f, "__faasm_backtrace"))
    __faasm_backtrace(1);
  else if (!strcmp(f, "__faasm_sm_array"))
    __faasm_sm_array(&var, FAASM_TYPE_INT, 1);
  else if (!strcmp(f, "__faasm_sm_raw"))
    __faasm_sm_raw(&var, 4);
  else if (!strcmp(f, "__faasm_sm_reduce")) {
    FAASM_REDUCE(var, FAASM_TYPE_INT, FAASM_OP_SUM)
  } else if (!strcmp(f, "__faasm_sm_var"))
    __faasm_sm_var(&var, FAASM_TYPE_INT);
  else if (!strcmp(f, "__faasm_sm_critical_local")) {
    FAASM_CRITICAL_LOCAL(var++)
  } else if (!strcmp(f, "__faasm_sm_critical_local_end"))
    __faasm_sm_critical_local_end();
  else if (!strcmp(f, "__faasm_s3_get_num_buckets"))
    __faasm_s3_get_num_buckets();
  else if (!strcmp(f, "__faasm_s3_list_buckets"))
    __faasm_s3_list_buckets(buffer, &len);
  else if (!strcmp(f, "__faasm_s3_get_num_keys"))
    __faasm_s3_get_num_keys("b");
  else if (!strcmp(f, "__faasm_s3_get_num_keys_with_prefix"))
    __faasm_s3_get_num_keys_with_prefix("b", "p");
  else if (!strcmp(f, "__faasm_s3_list_keys"))
    __faasm_s3_list_keys("b", buffer, &len);
  else if (!strcmp(f, "__faasm_s3_list_keys_with_prefix"))
    __faasm_s3_list_keys_with_prefix("b", "p", buffer, &len);
  else if (!strcmp(f, "__faasm_s3_add_key_bytes"))
    __faasm_s3_add_key_bytes("b", "k", buffer, 8, false);
  else if (!strcmp(f, "__faasm_s3_get_key_bytes"))
    __faasm_s3_get_key_bytes("b", "k", &out, &len, false);
  else if (!strcmp(f, "__faasm_host_interface_test"))
    __faasm_host_interface_test(ExceptionPropagationTest);
  else {
    fprintf(stderr, "unsupported: unknown function %s\n", f);
    return 2;
  }
  printf("%s returned (var %d)\n", f, var);
  return 0;
}

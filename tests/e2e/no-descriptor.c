// A valid shared object that is not a faasm-codegen artefact (it defines no
// faasm_module_descriptor): faasm-run must say so in one line, exit 126.
int notAFaasmFunction(int x) {
  return x + 1;
}

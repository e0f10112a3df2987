// A shared object that is not a faasm artefact: no descriptor symbol.
extern "C" __attribute__((visibility("default"))) int notADescriptor();
int notADescriptor() {
  return 1;
}

/* A plugin that calls the host (main module) and another plugin (libb). */
extern int host_twice(int);
extern int host_note(int);
extern int b_scale(int);

int a_data = 7;
int* a_data_ptr = &a_data;

__attribute__((constructor)) static void aInit(void) {
  a_data += 3;
}

int a_run(int x) {
  return host_note(b_scale(host_twice(x))) + *a_data_ptr;
}

int (*a_get_scale(void))(int) {
  return b_scale;
}

int (*a_get_host_twice(void))(int) {
  return host_twice;
}

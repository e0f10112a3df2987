/* A plugin that calls back into the host (main module). */
extern int host_note(int);

static int factor = 5;

int b_scale(int x) {
  host_note(0);
  return x * factor;
}

/* JSON tokenising and parsing of a generated document (argv[1] = KiB),
 * an array of records like {"id":12,"name":"k3x","tags":["a","b"],
 * "price":-12.34,"ok":true}, parsed 14 times by a recursive-descent parser
 * with its own number parser. Check: the generator keeps the exact totals
 * (records, integer sum, sum of prices in cents, string bytes, trues) and the
 * parser must find the same. */
#include "bench.h"
#include <string.h>

typedef struct {
  int64_t objects, intSum, centSum, stringBytes, trues;
} Totals;

typedef struct {
  const char* p;
  const char* end;
  int error;
  Totals t;
} Parser;

static void skipSpace(Parser* ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
    ps->p++;
}

static void parseValue(Parser* ps);

static void parseString(Parser* ps) {
  ps->p++; /* opening quote */
  const char* start = ps->p;
  while (ps->p < ps->end && *ps->p != '"') {
    if (*ps->p == '\\') ps->p++;
    ps->p++;
  }
  if (ps->p >= ps->end) {
    ps->error = 1;
    return;
  }
  ps->t.stringBytes += ps->p - start;
  ps->p++;
}

/* Integers, or decimals with at most two fraction digits (kept in cents). */
static void parseNumber(Parser* ps) {
  int negative = 0;
  if (*ps->p == '-') negative = 1, ps->p++;
  int64_t whole = 0;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
    ps->error = 1;
    return;
  }
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
    whole = whole * 10 + (*ps->p++ - '0');
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    int64_t cents = 0;
    int digits = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
      if (digits < 2) cents = cents * 10 + (*ps->p - '0');
      digits++, ps->p++;
    }
    if (digits == 1) cents *= 10;
    int64_t value = whole * 100 + cents;
    ps->t.centSum += negative ? -value : value;
  } else {
    ps->t.intSum += negative ? -whole : whole;
  }
}

static void parseValue(Parser* ps) {
  skipSpace(ps);
  if (ps->p >= ps->end) {
    ps->error = 1;
    return;
  }
  char c = *ps->p;
  if (c == '{') {
    ps->p++;
    ps->t.objects++;
    skipSpace(ps);
    if (*ps->p == '}') {
      ps->p++;
      return;
    }
    for (;;) {
      skipSpace(ps);
      if (*ps->p != '"') {
        ps->error = 1;
        return;
      }
      parseString(ps);
      skipSpace(ps);
      if (*ps->p != ':') {
        ps->error = 1;
        return;
      }
      ps->p++;
      parseValue(ps);
      if (ps->error) return;
      skipSpace(ps);
      if (*ps->p == ',') {
        ps->p++;
        continue;
      }
      if (*ps->p == '}') {
        ps->p++;
        return;
      }
      ps->error = 1;
      return;
    }
  } else if (c == '[') {
    ps->p++;
    skipSpace(ps);
    if (*ps->p == ']') {
      ps->p++;
      return;
    }
    for (;;) {
      parseValue(ps);
      if (ps->error) return;
      skipSpace(ps);
      if (*ps->p == ',') {
        ps->p++;
        continue;
      }
      if (*ps->p == ']') {
        ps->p++;
        return;
      }
      ps->error = 1;
      return;
    }
  } else if (c == '"') {
    parseString(ps);
  } else if (c == 't' && ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
    ps->p += 4, ps->t.trues++;
  } else if (c == 'f' && ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
    ps->p += 5;
  } else if (c == 'n' && ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
    ps->p += 4;
  } else {
    parseNumber(ps);
  }
}

static size_t emitString(char* out, BenchRng* rng, Totals* t) {
  size_t length = 1 + benchNext(rng) % 12;
  out[0] = '"';
  for (size_t i = 0; i < length; i++)
    out[1 + i] = (char)('a' + benchNext(rng) % 26);
  out[length + 1] = '"';
  t->stringBytes += (int64_t)length;
  return length + 2;
}

int main(int argc, char** argv) {
  size_t target = (size_t)benchSize(argc, argv, 16384) * 1024;
  char* doc = malloc(target + 4096);
  BenchRng rng = {2024};
  Totals expected = {0, 0, 0, 0, 0};
  size_t at = 0;
  doc[at++] = '[';
  while (at < target) {
    if (expected.objects > 0) doc[at++] = ',', doc[at++] = '\n';
    expected.objects++;
    int64_t id = (int64_t)(benchNext(&rng) % 1000000);
    int64_t cents = (int64_t)(benchNext(&rng) % 2000000) - 1000000;
    int ok = (int)(benchNext(&rng) & 1);
    expected.intSum += id;
    expected.centSum += cents;
    expected.trues += ok;
    at += (size_t)sprintf(doc + at, "{\"id\": %lld, ", (long long)id);
    expected.stringBytes += 2 + 4 + 4 + 5 + 2; /* the keys id, name, tags, price, ok */
    at += (size_t)sprintf(doc + at, "\"name\": ");
    at += emitString(doc + at, &rng, &expected);
    at += (size_t)sprintf(doc + at, ", \"tags\": [");
    int tags = (int)(benchNext(&rng) % 4);
    for (int i = 0; i < tags; i++) {
      if (i > 0) doc[at++] = ',';
      at += emitString(doc + at, &rng, &expected);
    }
    int64_t magnitude = cents < 0 ? -cents : cents;
    at += (size_t)sprintf(doc + at, "], \"price\": %s%lld.%02lld, \"ok\": %s}",
                          cents < 0 ? "-" : "", (long long)(magnitude / 100),
                          (long long)(magnitude % 100), ok ? "true" : "false");
  }
  doc[at++] = ']';

  Totals found = {0, 0, 0, 0, 0};
  int error = 0;
  benchStart();
  for (int pass = 0; pass < 14; pass++) {
    Parser ps = {doc, doc + at, 0, {0, 0, 0, 0, 0}};
    parseValue(&ps);
    skipSpace(&ps);
    error |= ps.error || ps.p != ps.end;
    found = ps.t;
  }
  benchStop();

  char checksum[96];
  snprintf(checksum, sizeof checksum, "%lld/%lld/%lld/%lld", (long long)found.objects,
           (long long)found.intSum, (long long)found.centSum, (long long)found.stringBytes);
  int ok = !error && found.objects == expected.objects && found.intSum == expected.intSum &&
           found.centSum == expected.centSum && found.stringBytes == expected.stringBytes &&
           found.trues == expected.trues;
  return benchFinish(checksum, ok, "parsed totals differ from the generated ones");
}

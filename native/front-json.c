/* The JSON the front needs: a parser into a small DOM that keeps each string and number as
 * written, and JSON.stringify's pretty printing. state.json is written by JSON.stringify, so
 * a token as written is already in the form JSON.stringify gives it: the printer copies it. */
#include "front.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct parser {
  const char *p, *end;
  int depth;
};

static void ws(struct parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static struct jv *node(enum jtype t) {
  struct jv *v = calloc(1, sizeof *v);
  if (!v) abort();
  v->type = t;
  return v;
}

static int hex4(const char *p, unsigned *out) {
  unsigned x = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    x <<= 4;
    if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = x;
  return 0;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) *o++ = (char)cp;
  else if (cp < 0x800) {
    *o++ = (char)(0xc0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xe0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *o++ = (char)(0xf0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  }
  return o;
}

/* A string token at ps->p (the opening quote): its raw slice and its decoded text. */
static int string_token(struct parser *ps, const char **raw, size_t *rawlen, char **dec) {
  ps->p++;
  const char *start = ps->p;
  char *out = malloc((size_t)(ps->end - ps->p) + 1), *o = out;
  int ok = 1;
  if (!out) abort();
  while (ps->p < ps->end && *ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) return -1;
    if (c != '\\') {
      *o++ = (char)c;
      ps->p++;
      continue;
    }
    if (ps->end - ps->p < 2) return -1;
    char e = ps->p[1];
    ps->p += 2;
    switch (e) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) return -1;
      ps->p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' && !hex4(ps->p + 2, &lo) &&
          lo >= 0xdc00 && lo < 0xe000) {
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xd800 && cp < 0xe000) {
        ok = 0; /* a lone surrogate: no UTF-8 for it */
      }
      if (cp == 0) ok = 0;
      o = put_utf8(o, cp);
      break;
    }
    default:
      return -1;
    }
  }
  if (ps->p >= ps->end) return -1;
  *raw = start;
  *rawlen = (size_t)(ps->p - start);
  ps->p++;
  *o = 0;
  if (ok) *dec = out;
  else {
    free(out);
    *dec = NULL;
  }
  return 0;
}

static struct jv *value(struct parser *ps);

static struct jv *array(struct parser *ps) {
  struct jv *v = node(J_ARR);
  size_t cap = 0;
  ps->p++;
  ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return v;
  }
  for (;;) {
    struct jv *item = value(ps);
    if (!item) return NULL;
    if (v->n == cap) {
      cap = cap ? cap * 2 : 4;
      v->items = realloc(v->items, cap * sizeof *v->items);
      if (!v->items) abort();
    }
    v->items[v->n++] = item;
    ws(ps);
    if (ps->p >= ps->end) return NULL;
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p != ']') return NULL;
    ps->p++;
    return v;
  }
}

static struct jv *object(struct parser *ps) {
  struct jv *v = node(J_OBJ);
  size_t cap = 0;
  ps->p++;
  ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return v;
  }
  for (;;) {
    struct jmember m;
    ws(ps);
    if (ps->p >= ps->end || *ps->p != '"' || string_token(ps, &m.rawkey, &m.rawkeylen, &m.key)) return NULL;
    ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') return NULL;
    ps->p++;
    if (!(m.val = value(ps))) return NULL;
    if (v->n == cap) {
      cap = cap ? cap * 2 : 8;
      v->members = realloc(v->members, cap * sizeof *v->members);
      if (!v->members) abort();
    }
    v->members[v->n++] = m;
    ws(ps);
    if (ps->p >= ps->end) return NULL;
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p != '}') return NULL;
    ps->p++;
    return v;
  }
}

static int digits(struct parser *ps) {
  const char *s = ps->p;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  return ps->p > s;
}

static struct jv *value(struct parser *ps) {
  if (++ps->depth > 512) return NULL;
  ws(ps);
  if (ps->p >= ps->end) return NULL;
  struct jv *v = NULL;
  const char *start = ps->p;
  switch (*ps->p) {
  case '{': v = object(ps); break;
  case '[': v = array(ps); break;
  case '"':
    v = node(J_STR);
    if (string_token(ps, &v->raw, &v->rawlen, &v->s)) v = NULL;
    break;
  case 't':
  case 'f':
  case 'n': {
    static const struct { const char *word; enum jtype t; } words[] = {{"true", J_TRUE}, {"false", J_FALSE}, {"null", J_NULL}};
    for (size_t i = 0; i < 3; i++) {
      size_t l = strlen(words[i].word);
      if ((size_t)(ps->end - ps->p) >= l && !memcmp(ps->p, words[i].word, l)) {
        v = node(words[i].t);
        ps->p += l;
        break;
      }
    }
    break;
  }
  default:
    if (*ps->p == '-') ps->p++;
    if (!digits(ps)) return NULL;
    if (ps->p < ps->end && *ps->p == '.') {
      ps->p++;
      if (!digits(ps)) return NULL;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
      if (!digits(ps)) return NULL;
    }
    v = node(J_NUM);
  }
  if (v && v->type != J_STR) {
    v->raw = start;
    v->rawlen = (size_t)(ps->p - start);
  }
  ps->depth--;
  return v;
}

struct jv *json_parse(const char *text, size_t len) {
  struct parser ps = {text, text + len, 0};
  struct jv *v = value(&ps);
  if (!v) return NULL;
  ws(&ps);
  return ps.p == ps.end ? v : NULL;
}

struct jv *json_get(const struct jv *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  for (size_t i = obj->n; i-- > 0;)
    if (obj->members[i].key && !strcmp(obj->members[i].key, key)) return obj->members[i].val;
  return NULL;
}

static void indent(FILE *out, int depth) {
  for (int i = 0; i < depth; i++) fputs("  ", out);
}

void json_pretty(FILE *out, const struct jv *v, int depth) {
  switch (v->type) {
  case J_STR:
    fputc('"', out);
    fwrite(v->raw, 1, v->rawlen, out);
    fputc('"', out);
    return;
  case J_ARR:
  case J_OBJ: {
    int obj = v->type == J_OBJ;
    if (!v->n) {
      fputs(obj ? "{}" : "[]", out);
      return;
    }
    fputs(obj ? "{\n" : "[\n", out);
    for (size_t i = 0; i < v->n; i++) {
      indent(out, depth + 1);
      if (obj) {
        fputc('"', out);
        fwrite(v->members[i].rawkey, 1, v->members[i].rawkeylen, out);
        fputs("\": ", out);
      }
      json_pretty(out, obj ? v->members[i].val : v->items[i], depth + 1);
      fputs(i + 1 < v->n ? ",\n" : "\n", out);
    }
    indent(out, depth);
    fputc(obj ? '}' : ']', out);
    return;
  }
  default:
    fwrite(v->raw, 1, v->rawlen, out);
  }
}

void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20) fprintf(out, "\\u%04x", *p);
      else fputc(*p, out);
    }
  }
  fputc('"', out);
}

/*
 * Copyright (c) 2026 The iovp authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#include <config.h>

#include "lib/json-decode.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json-encode.h"
#include "lib/util.h"

/* What the decoder expects next, outside a string, number or word. */
enum jd_state {
    JD_START,                   /* White space, then '{' or '['. */
    JD_VALUE,                   /* After ':', or ',' in an array. */
    JD_VALUE_OR_END,            /* After '[': a value or ']'. */
    JD_KEY,                     /* After ',' in an object: a name. */
    JD_KEY_OR_END,              /* After '{': a name or '}'. */
    JD_COLON,                   /* After a member's name. */
    JD_NEXT,                    /* After a value inside an array or an
                                 * object: ',' or its end. */
    JD_DONE,                    /* The value is whole. */
    JD_FAILED,
};

/* A token that an earlier piece ended in the middle of. */
enum jd_token {
    JD_NONE,
    JD_STRING,                  /* A string that is a value. */
    JD_NAME,                    /* A string that is a member's name. */
    JD_NUMBER,
    JD_WORD,                    /* true, false, null, or not valid. */
};

struct jd_buf {
    char *s;
    size_t len, allocated;
};

/* The strings and integers that a decoder shares (see "strings" below). */
#define JD_MAX_SHARED_STRING 8
#define JD_N_STRINGS 256
#define JD_MIN_INTEGER (-1)
#define JD_MAX_INTEGER 1024

struct iovp_json_decoder {
    enum jd_state state;
    json_t *value;              /* What is built so far, or NULL. */

    /* The arrays and objects that are open, outermost first, borrowed
     * from 'value'. */
    json_t **stack;
    size_t n_stack, allocated_stack;

    struct jd_buf name;         /* The name of the member whose value is
                                 * next (JD_COLON, and JD_VALUE in an
                                 * object). */

    /* A token that an earlier piece began. */
    enum jd_token token;
    struct jd_buf text;         /* Its bytes so far (as a string's, between
                                 * the quotes, escapes still escaped). */
    bool escape;                /* The string's last byte is a backslash
                                 * that escapes the next one. */
    bool special;               /* The string has escapes or bytes other
                                 * than printable ASCII. */

    struct jd_buf scratch;      /* A string's bytes once unescaped. */

    /* Short strings and small integers recur in a large message (OVSDB's
     * "set", "uuid" and "map" tags, the few values that many rows share):
     * one value of each is shared, a reference for each place where it
     * appears, rather than one allocated for each.  (jansson's values are
     * not changed in place once built, and none of iovp's code does.) */
    json_t *strings[JD_N_STRINGS];      /* By a hash of their bytes. */
    json_t *integers[JD_MAX_INTEGER - JD_MIN_INTEGER + 1];

    const unsigned char *piece; /* The piece being fed. */
    size_t offset;              /* Bytes of the value before 'piece'. */
    char *error;                /* Why it failed, or NULL. */
};

/* Buffers larger than this are freed after each value, not kept. */
#define JD_KEEP_BUFFER (64 * 1024)

static void
jd_buf_reserve(struct jd_buf *b, size_t n)
{
    if (b->len + n + 1 > b->allocated) {
        b->allocated = MAX(b->len + n + 1, MAX(64, 2 * b->allocated));
        b->s = iovp_xrealloc(b->s, b->allocated);
    }
}

/* Appends to 'b' the 'n' bytes at 'p', and keeps a NUL after them. */
static void
jd_buf_put(struct jd_buf *b, const void *p, size_t n)
{
    jd_buf_reserve(b, n);
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
jd_buf_shrink(struct jd_buf *b)
{
    b->len = 0;
    if (b->allocated > JD_KEEP_BUFFER) {
        free(b->s);
        b->s = NULL;
        b->allocated = 0;
    }
}

/* Returns a decoder for a value. */
struct iovp_json_decoder *
iovp_json_decoder_create(void)
{
    return iovp_xzalloc(sizeof(struct iovp_json_decoder));
}

/* Frees 'd', and what it has built of a value.  Accepts NULL. */
void
iovp_json_decoder_destroy(struct iovp_json_decoder *d)
{
    if (d) {
        json_decref(d->value);
        for (size_t i = 0; i < JD_N_STRINGS; i++) {
            json_decref(d->strings[i]);
        }
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(d->integers); i++) {
            json_decref(d->integers[i]);
        }
        free(d->stack);
        free(d->name.s);
        free(d->text.s);
        free(d->scratch.s);
        free(d->error);
        free(d);
    }
}

/* Fails 'd' for the byte at 'p' in the piece being fed. */
static void OVS_PRINTF_FORMAT(3, 4)
jd_fail(struct iovp_json_decoder *d, const unsigned char *p,
        const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *reason = iovp_xvasprintf(format, args);
    va_end(args);

    d->error = iovp_xasprintf("syntax error at byte %zu: %s",
                              d->offset + (size_t) (p - d->piece), reason);
    free(reason);
    d->state = JD_FAILED;
    json_decref(d->value);
    d->value = NULL;
    d->n_stack = 0;
    d->token = JD_NONE;
}

/* Adds 'v' (stolen) to the innermost open array or object, as the value of
 * the member named 'd->name' in an object. */
static bool
jd_add(struct iovp_json_decoder *d, json_t *v, const unsigned char *p)
{
    json_t *parent = d->stack[d->n_stack - 1];
    int error = (!v ? -1
                 : json_is_array(parent) ? json_array_append_new(parent, v)
                 : json_object_setn_new_nocheck(parent, d->name.s,
                                                d->name.len, v));
    if (error) {
        jd_fail(d, p, "out of memory");
        return false;
    }
    d->state = JD_NEXT;
    return true;
}

/* Opens an object (for 'c' == '{') or an array. */
static void
jd_open(struct iovp_json_decoder *d, unsigned char c, const unsigned char *p)
{
    json_t *v = c == '{' ? json_object() : json_array();

    if (!d->n_stack) {
        d->value = v;
        if (!v) {
            jd_fail(d, p, "out of memory");
            return;
        }
    } else if (!jd_add(d, v, p)) {
        return;
    }
    if (d->n_stack >= d->allocated_stack) {
        d->allocated_stack = MAX(16, 2 * d->allocated_stack);
        d->stack = iovp_xrealloc(d->stack,
                                 d->allocated_stack * sizeof *d->stack);
    }
    d->stack[d->n_stack++] = v;
    d->state = c == '{' ? JD_KEY_OR_END : JD_VALUE_OR_END;
}

static void
jd_close(struct iovp_json_decoder *d)
{
    d->state = --d->n_stack ? JD_NEXT : JD_DONE;
}

/* Printable ASCII other than '"' and '\\': a string's byte that needs no
 * decoding. */
static inline bool
jd_is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static inline bool
jd_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool
jd_is_number_byte(unsigned char c)
{
    return jd_is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e'
           || c == 'E';
}

static inline bool
jd_is_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Returns the code unit of the 4 hex digits at 'p', of which 'n' bytes are
 * there, or -1. */
static int32_t
jd_hex4(const unsigned char *p, size_t n)
{
    int32_t value = 0;

    if (n < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        value <<= 4;
        if (jd_is_digit(c)) {
            value += c - '0';
        } else if (c >= 'a' && c <= 'f') {
            value += c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            value += c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return value;
}

static size_t
jd_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = 0xc0 | (cp >> 6);
        out[1] = 0x80 | (cp & 0x3f);
        return 2;
    } else if (cp < 0x10000) {
        out[0] = 0xe0 | (cp >> 12);
        out[1] = 0x80 | ((cp >> 6) & 0x3f);
        out[2] = 0x80 | (cp & 0x3f);
        return 3;
    } else {
        out[0] = 0xf0 | (cp >> 18);
        out[1] = 0x80 | ((cp >> 12) & 0x3f);
        out[2] = 0x80 | ((cp >> 6) & 0x3f);
        out[3] = 0x80 | (cp & 0x3f);
        return 4;
    }
}

/* Decodes the 'n' bytes of a string's body at 'in' (between its quotes)
 * into 'd->scratch'.  Returns NULL, or the reason it is not a valid
 * string (a static string or one printed into 'buf'). */
static const char *
jd_unescape(struct iovp_json_decoder *d, const unsigned char *in, size_t n,
            char buf[64])
{
    struct jd_buf *out = &d->scratch;

    out->len = 0;
    jd_buf_reserve(out, n);     /* Escapes only ever shorten a string. */
    for (size_t i = 0; i < n; ) {
        unsigned char c = in[i];

        if (c >= 0x80) {
            size_t len = iovp_utf8_sequence_len(in + i, n - i);
            if (!len) {
                snprintf(buf, 64, "unable to decode byte 0x%x", c);
                return buf;
            }
            memcpy(out->s + out->len, in + i, len);
            out->len += len;
            i += len;
        } else if (c < 0x20) {
            snprintf(buf, 64, "control character 0x%x", c);
            return buf;
        } else if (c != '\\') {
            out->s[out->len++] = c;
            i++;
        } else if (i + 1 >= n) {
            return "invalid escape";
        } else {
            static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
            c = in[i + 1];
            if (c != 'u') {
                const char *e = c ? strchr(escapes, c) : NULL;
                if (!e || (e - escapes) % 2) {
                    return "invalid escape";
                }
                out->s[out->len++] = e[1];
                i += 2;
                continue;
            }

            int32_t cp = jd_hex4(in + i + 2, n - i - 2);
            if (cp < 0) {
                return "invalid escape";
            }
            i += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int32_t low = (i + 1 < n && in[i] == '\\' && in[i + 1] == 'u'
                               ? jd_hex4(in + i + 2, n - i - 2) : -2);
                if (low == -1) {
                    return "invalid escape";
                } else if (low < 0xdc00 || low > 0xdfff) {
                    snprintf(buf, 64, "invalid Unicode '\\u%04X'", cp);
                    return buf;
                }
                cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
                i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                snprintf(buf, 64, "invalid Unicode '\\u%04X'", cp);
                return buf;
            }
            out->len += jd_utf8_encode(cp, out->s + out->len);
        }
    }
    return NULL;
}

/* Returns a new reference to a string value of the 'n' bytes at 's',
 * shared if it is short. */
static json_t *
jd_string_value(struct iovp_json_decoder *d, const char *s, size_t n)
{
    if (n > JD_MAX_SHARED_STRING) {
        return json_stringn_nocheck(s, n);
    }

    uint32_t hash = n;
    for (size_t i = 0; i < n; i++) {
        hash = hash * 31 + (unsigned char) s[i];
    }
    json_t **slot = &d->strings[hash % JD_N_STRINGS];
    if (!*slot || json_string_length(*slot) != n
        || memcmp(json_string_value(*slot), s, n)) {
        json_decref(*slot);
        *slot = json_stringn_nocheck(s, n);
    }
    return json_incref(*slot);
}

/* Returns a new reference to an integer value, shared if it is small. */
static json_t *
jd_integer_value(struct iovp_json_decoder *d, long long int value)
{
    if (value < JD_MIN_INTEGER || value > JD_MAX_INTEGER) {
        return json_integer(value);
    }

    json_t **slot = &d->integers[value - JD_MIN_INTEGER];
    if (!*slot) {
        *slot = json_integer(value);
    }
    return json_incref(*slot);
}

/* Takes a whole string whose body is the 'n' bytes at 's', that 'special'
 * says need decoding, as a member's name if 'name', otherwise as a value;
 * 'p' is where it ends, for errors. */
static void
jd_string_done(struct iovp_json_decoder *d, const unsigned char *s, size_t n,
               bool special, bool name, const unsigned char *p)
{
    const char *str = (const char *) s;

    if (special) {
        char buf[64];
        const char *error = jd_unescape(d, s, n, buf);
        if (error) {
            jd_fail(d, p, "%s", error);
            return;
        }
        str = d->scratch.s;
        n = d->scratch.len;
        if (memchr(str, '\0', n)) {
            jd_fail(d, p, "%s", (name ? "NUL byte in object key not supported"
                                 : "\\u0000 is not allowed"));
            return;
        }
    }

    if (name) {
        d->name.len = 0;
        jd_buf_put(&d->name, str, n);
        d->state = JD_COLON;
    } else {
        jd_add(d, jd_string_value(d, str, n), p);
    }
}

/* Takes the number in 'd->text'. */
static void
jd_number_done(struct iovp_json_decoder *d, const unsigned char *p)
{
    const char *t = d->text.s;
    size_t i = 0;
    bool integer = true;

    if (t[i] == '-') {
        i++;
    }
    if (t[i] == '0') {
        i++;
    } else if (jd_is_digit(t[i])) {
        while (jd_is_digit(t[i])) {
            i++;
        }
    } else {
        goto invalid;
    }
    if (t[i] == '.') {
        integer = false;
        if (!jd_is_digit(t[++i])) {
            goto invalid;
        }
        while (jd_is_digit(t[i])) {
            i++;
        }
    }
    if (t[i] == 'e' || t[i] == 'E') {
        integer = false;
        i++;
        if (t[i] == '+' || t[i] == '-') {
            i++;
        }
        if (!jd_is_digit(t[i])) {
            goto invalid;
        }
        while (jd_is_digit(t[i])) {
            i++;
        }
    }
    if (i != d->text.len) {
        goto invalid;
    }

    errno = 0;
    if (integer) {
        long long int value = strtoll(t, NULL, 10);
        if (errno == ERANGE) {
            jd_fail(d, p, "too big %sinteger", value < 0 ? "negative " : "");
        } else {
            jd_add(d, jd_integer_value(d, value), p);
        }
    } else {
        double value = strtod(t, NULL);
        if (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL)) {
            jd_fail(d, p, "real number overflow");
        } else {
            jd_add(d, json_real(value), p);
        }
    }
    d->text.len = 0;
    return;

invalid:
    jd_fail(d, p, "invalid number '%.20s'", t);
}

/* Takes the word in 'd->text'. */
static void
jd_word_done(struct iovp_json_decoder *d, const unsigned char *p)
{
    const char *t = d->text.s;

    if (!strcmp(t, "true")) {
        jd_add(d, json_true(), p);
    } else if (!strcmp(t, "false")) {
        jd_add(d, json_false(), p);
    } else if (!strcmp(t, "null")) {
        jd_add(d, json_null(), p);
    } else {
        jd_fail(d, p, "invalid token '%.20s'", t);
    }
    d->text.len = 0;
}

/* Returns where the string whose body goes on at 'p' ends (its closing
 * quote), or 'end' if it goes on past it, and notes in '*escape' a
 * backslash at its end and in '*special' what needs decoding. */
static const unsigned char *
jd_scan_string(const unsigned char *p, const unsigned char *end,
               bool *escape, bool *special)
{
    if (*escape && p < end) {
        *escape = false;
        p++;
    }
    while (p < end) {
        unsigned char c = *p;
        if (jd_is_plain(c)) {
            p++;
        } else if (c == '"') {
            return p;
        } else {
            *special = true;
            p++;
            if (c == '\\') {
                if (p == end) {
                    *escape = true;
                } else {
                    p++;
                }
            }
        }
    }
    return end;
}

static const unsigned char *
jd_scan_number(const unsigned char *p, const unsigned char *end)
{
    while (p < end && jd_is_number_byte(*p)) {
        p++;
    }
    return p;
}

static const unsigned char *
jd_scan_word(const unsigned char *p, const unsigned char *end)
{
    while (p < end && jd_is_letter(*p)) {
        p++;
    }
    return p;
}

/* Goes on with the token that an earlier piece began, at 'p'.  Returns
 * where it ends. */
static const unsigned char *
jd_continue(struct iovp_json_decoder *d, const unsigned char *p,
            const unsigned char *end)
{
    const unsigned char *q;

    switch (d->token) {
    case JD_STRING:
    case JD_NAME:
        q = jd_scan_string(p, end, &d->escape, &d->special);
        jd_buf_put(&d->text, p, q - p);
        if (q < end) {
            bool name = d->token == JD_NAME;
            d->token = JD_NONE;
            jd_string_done(d, (const unsigned char *) d->text.s, d->text.len,
                           d->special, name, q);
            d->text.len = 0;
            q++;
        }
        return q;

    case JD_NUMBER:
    case JD_WORD:
        q = (d->token == JD_NUMBER
             ? jd_scan_number(p, end) : jd_scan_word(p, end));
        jd_buf_put(&d->text, p, q - p);
        if (q < end) {
            if (d->token == JD_NUMBER) {
                d->token = JD_NONE;
                jd_number_done(d, q);
            } else {
                d->token = JD_NONE;
                jd_word_done(d, q);
            }
        }
        return q;

    case JD_NONE:
    default:
        return p;
    }
}

/* Begins a string (after its opening quote, at 'p'), a member's name if
 * 'name'.  Returns where it ends. */
static const unsigned char *
jd_string(struct iovp_json_decoder *d, const unsigned char *p,
          const unsigned char *end, bool name)
{
    bool escape = false, special = false;
    const unsigned char *q = jd_scan_string(p, end, &escape, &special);

    if (q == end) {
        d->token = name ? JD_NAME : JD_STRING;
        d->escape = escape;
        d->special = special;
        jd_buf_put(&d->text, p, q - p);
        return q;
    }
    jd_string_done(d, p, q - p, special, name, q);
    return q + 1;
}

/* Begins a value whose first byte 'c' is at 'p'.  Returns where the
 * decoder goes on. */
static const unsigned char *
jd_value(struct iovp_json_decoder *d, unsigned char c, const unsigned char *p,
         const unsigned char *end)
{
    const unsigned char *q;

    if (d->n_stack >= IOVP_JSON_MAX_DEPTH) {
        jd_fail(d, p, "maximum parsing depth reached");
        return p;
    }

    if (c == '{' || c == '[') {
        jd_open(d, c, p);
        return p + 1;
    } else if (c == '"') {
        return jd_string(d, p + 1, end, false);
    } else if (c == '-' || jd_is_digit(c)) {
        q = jd_scan_number(p, end);
        jd_buf_put(&d->text, p, q - p);
        if (q == end) {
            d->token = JD_NUMBER;
        } else {
            jd_number_done(d, q);
        }
        return q;
    } else if (jd_is_letter(c)) {
        q = jd_scan_word(p, end);
        jd_buf_put(&d->text, p, q - p);
        if (q == end) {
            d->token = JD_WORD;
        } else {
            jd_word_done(d, q);
        }
        return q;
    } else {
        jd_fail(d, p, (c >= 0x20 && c < 0x7f
                       ? "unexpected '%c', not a value"
                       : "unexpected byte 0x%02x, not a value"), c);
        return p;
    }
}

/* Feeds 'd' up to 'n' bytes from 'data' and returns how many it took: all
 * of them, unless the value ends before (then iovp_json_decoder_is_done()
 * is true and the rest is not the value's) or 'd' fails on one (then
 * iovp_json_decoder_get_error() says why).  White space before the value
 * is skipped; the value must be an object or an array. */
size_t
iovp_json_decoder_feed(struct iovp_json_decoder *d, const char *data,
                       size_t n)
{
    const unsigned char *p = (const unsigned char *) data;
    const unsigned char *end = p + n;

    if (d->state == JD_DONE || d->state == JD_FAILED) {
        return 0;
    }
    d->piece = p;
    if (d->token != JD_NONE) {
        p = jd_continue(d, p, end);
    }
    while (p < end && d->state < JD_DONE && d->token == JD_NONE) {
        unsigned char c = *p;

        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            p++;
            continue;
        }

        switch (d->state) {
        case JD_START:
            if (c == '{' || c == '[') {
                jd_open(d, c, p);
                p++;
            } else {
                jd_fail(d, p, "'[' or '{' expected");
            }
            break;

        case JD_VALUE_OR_END:
            if (c == ']') {
                jd_close(d);
                p++;
                break;
            }
            /* Fall through. */
        case JD_VALUE:
            p = jd_value(d, c, p, end);
            break;

        case JD_KEY_OR_END:
            if (c == '}') {
                jd_close(d);
                p++;
                break;
            }
            /* Fall through. */
        case JD_KEY:
            if (c == '"') {
                p = jd_string(d, p + 1, end, true);
            } else {
                jd_fail(d, p, (d->state == JD_KEY ? "string expected"
                               : "string or '}' expected"));
            }
            break;

        case JD_COLON:
            if (c == ':') {
                d->state = JD_VALUE;
                p++;
            } else {
                jd_fail(d, p, "':' expected");
            }
            break;

        case JD_NEXT: {
            bool object = json_is_object(d->stack[d->n_stack - 1]);
            if (c == ',') {
                d->state = object ? JD_KEY : JD_VALUE;
                p++;
            } else if (c == (object ? '}' : ']')) {
                jd_close(d);
                p++;
            } else {
                jd_fail(d, p, object ? "',' or '}' expected"
                        : "',' or ']' expected");
            }
            break;
        }

        case JD_DONE:
        case JD_FAILED:
        default:
            /* The loop ends before. */
            break;
        }
    }

    size_t used = p - (const unsigned char *) data;
    d->offset += used;
    return used;
}

/* Returns true if 'd' has a whole value, for iovp_json_decoder_take(). */
bool
iovp_json_decoder_is_done(const struct iovp_json_decoder *d)
{
    return d->state == JD_DONE;
}

/* Returns why 'd' failed, or NULL if it has not.  A decoder that failed
 * takes nothing more. */
const char *
iovp_json_decoder_get_error(const struct iovp_json_decoder *d)
{
    return d->error;
}

/* Returns the whole value that 'd' built, a new reference for the caller,
 * and readies 'd' for the next; or NULL if it does not have a whole
 * value. */
json_t *
iovp_json_decoder_take(struct iovp_json_decoder *d)
{
    if (d->state != JD_DONE) {
        return NULL;
    }

    json_t *value = d->value;
    d->value = NULL;
    d->state = JD_START;
    d->offset = 0;
    jd_buf_shrink(&d->name);
    jd_buf_shrink(&d->text);
    jd_buf_shrink(&d->scratch);
    return value;
}

/* Parses the value at the start of the 'n' bytes at 'data', after white
 * space, all at once.  Returns it, a new reference, with in '*usedp' the
 * bytes it took (the value's and the white space before it) and in
 * '*errorp' NULL; or NULL, with a malloc()'d error in '*errorp' for the
 * caller to free. */
json_t *
iovp_json_decode(const char *data, size_t n, size_t *usedp, char **errorp)
{
    struct iovp_json_decoder *d = iovp_json_decoder_create();
    size_t used = iovp_json_decoder_feed(d, data, n);
    json_t *value = iovp_json_decoder_take(d);

    *usedp = used;
    *errorp = (value ? NULL
               : d->error ? iovp_xstrdup(d->error)
               : iovp_xstrdup("unexpected end of input"));
    iovp_json_decoder_destroy(d);
    return value;
}

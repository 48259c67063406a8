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

#include "lib/json-encode.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/util.h>

#include "lib/util.h"

/* The text being written. */
struct encoder {
    char *buf;
    size_t len;
    size_t allocated;
};

static void
encoder_reserve(struct encoder *e, size_t n)
{
    if (e->allocated - e->len < n) {
        e->allocated = MAX(e->len + n, 2 * e->allocated);
        e->buf = iovp_xrealloc(e->buf, e->allocated);
    }
}

static void
encoder_put(struct encoder *e, const char *s, size_t n)
{
    encoder_reserve(e, n);
    memcpy(e->buf + e->len, s, n);
    e->len += n;
}

static void
encoder_put_char(struct encoder *e, char c)
{
    encoder_reserve(e, 1);
    e->buf[e->len++] = c;
}

/* Writes string 's' of 'n' bytes, quoted and escaped as jansson does:
 * only '"', '\\' and control characters are escaped.  Returns false if
 * 's' is not valid UTF-8. */
static bool
encode_string(struct encoder *e, const char *s_, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *s = (const uint8_t *) s_;

    /* Room for the worst case, each byte a \u00XX escape, so that the
     * bytes go in without a check each. */
    encoder_reserve(e, 2 + 6 * n);
    char *p = e->buf + e->len;
    *p++ = '"';
    for (size_t i = 0; i < n; ) {
        uint8_t c = s[i];

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *p++ = c;
            i++;
        } else if (c >= 0x80) {
            size_t len = iovp_utf8_sequence_len(s + i, n - i);
            if (!len) {
                return false;
            }
            memcpy(p, s + i, len);
            p += len;
            i += len;
        } else {
            *p++ = '\\';
            switch (c) {
            case '"': *p++ = '"'; break;
            case '\\': *p++ = '\\'; break;
            case '\b': *p++ = 'b'; break;
            case '\f': *p++ = 'f'; break;
            case '\n': *p++ = 'n'; break;
            case '\r': *p++ = 'r'; break;
            case '\t': *p++ = 't'; break;
            default:
                memcpy(p, "u00", 3);
                p[3] = hex[c >> 4];
                p[4] = hex[c & 0xf];
                p += 5;
                break;
            }
            i++;
        }
    }
    *p++ = '"';
    e->len = p - e->buf;
    return true;
}

static void
encode_integer(struct encoder *e, json_int_t value)
{
    char digits[24];
    size_t i = sizeof digits;
    unsigned long long int u = (value < 0
                                ? 0ULL - (unsigned long long int) value
                                : (unsigned long long int) value);

    do {
        digits[--i] = '0' + u % 10;
        u /= 10;
    } while (u);
    if (value < 0) {
        digits[--i] = '-';
    }
    encoder_put(e, digits + i, sizeof digits - i);
}

static bool
encode_value(struct encoder *e, const json_t *json, int depth)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        json_t *object = CONST_CAST(json_t *, json);
        bool first = true;

        if (depth >= IOVP_JSON_MAX_DEPTH) {
            return false;
        }
        encoder_put_char(e, '{');
        for (void *iter = json_object_iter(object); iter;
             iter = json_object_iter_next(object, iter)) {
            if (!first) {
                encoder_put_char(e, ',');
            }
            first = false;
            if (!encode_string(e, json_object_iter_key(iter),
                               json_object_iter_key_len(iter))) {
                return false;
            }
            encoder_put_char(e, ':');
            if (!encode_value(e, json_object_iter_value(iter), depth + 1)) {
                return false;
            }
        }
        encoder_put_char(e, '}');
        return true;
    }

    case JSON_ARRAY: {
        size_t n = json_array_size(json);

        if (depth >= IOVP_JSON_MAX_DEPTH) {
            return false;
        }
        encoder_put_char(e, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) {
                encoder_put_char(e, ',');
            }
            if (!encode_value(e, json_array_get(json, i), depth + 1)) {
                return false;
            }
        }
        encoder_put_char(e, ']');
        return true;
    }

    case JSON_STRING:
        return encode_string(e, json_string_value(json),
                             json_string_length(json));

    case JSON_INTEGER:
        encode_integer(e, json_integer_value(json));
        return true;

    case JSON_REAL: {
        char *text = json_dumps(json, JSON_ENCODE_ANY);

        if (!text) {
            return false;
        }
        encoder_put(e, text, strlen(text));
        free(text);
        return true;
    }

    case JSON_TRUE:
        encoder_put(e, "true", 4);
        return true;

    case JSON_FALSE:
        encoder_put(e, "false", 5);
        return true;

    case JSON_NULL:
        encoder_put(e, "null", 4);
        return true;

    default:
        return false;
    }
}

/* Returns the compact JSON text of 'json', a malloc()'d null-terminated
 * string, and its length in '*lenp' if 'lenp' is nonnull: what
 * json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) returns, byte for byte.
 * Returns NULL, as it does, if 'json' is NULL or holds a string that is not
 * valid UTF-8 or a real that is not finite, and also if it is nested more
 * than IOVP_JSON_MAX_DEPTH levels deep (where jansson fails only for a
 * value that contains itself). */
char *
iovp_json_encode(const json_t *json, size_t *lenp)
{
    struct encoder e = { NULL, 0, 0 };

    if (!json || !encode_value(&e, json, 0)) {
        free(e.buf);
        return NULL;
    }
    encoder_put_char(&e, '\0');
    if (lenp) {
        *lenp = e.len - 1;
    }
    return e.buf;
}

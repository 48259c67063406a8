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

/* "test-iovp json-encode SEED COUNT": checks lib/json-encode.c against
 * jansson.  Writes a fixed set of values (every escape, UTF-8 of each
 * length and each kind of invalid sequence, the integers' limits, reals,
 * the depth limit) and COUNT random values made from SEED with both
 * iovp_json_encode() and json_dumps(JSON_COMPACT | JSON_ENCODE_ANY), and
 * prints each value for which they differ, in bytes or in failing, then a
 * count.  The one difference allowed is a value nested deeper than
 * IOVP_JSON_MAX_DEPTH, which only iovp_json_encode() refuses.
 *
 * "test-iovp json-encode --time N": prints the milliseconds that each
 * takes to write a monitor condition of N clauses, as iovpd sends for an
 * ACL of N entries. */

#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lib/json-encode.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

static uint32_t
random_next(uint64_t *state)
{
    /* xorshift64*. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (*state * 2685821657736338717ULL) >> 32;
}

/* Returns a new string of a few pieces, mostly plain text, sometimes
 * escapes, UTF-8 sequences of each length, or, unless 'key', bytes that
 * are not UTF-8.  (jansson writes a key that is not UTF-8 as a lone '"',
 * which is not JSON; iovp_json_encode() fails.  No such key reaches it:
 * jansson takes only UTF-8 keys but through json_object_set_nocheck().) */
static json_t *
random_string(uint64_t *state, bool key)
{
    static const char *const pieces[] = {
        "a", "Zz", "0", " ", "/", "\"", "\\", "\n", "\t", "\b", "\f", "\r",
        "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf",
        /* Not UTF-8. */
        "\xc0\x80", "\xc1\xbf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "\xbf", "\xc3",
        "\xe2\x82", "\xff",
    };
    const size_t n_utf8 = 19;
    char buf[64];
    size_t len = 0;
    size_t n = random_next(state) % 5;
    bool plain = random_next(state) % 2;

    for (size_t i = 0; i < n; i++) {
        const char *piece = (plain
                             ? pieces[random_next(state) % 4]
                             : pieces[random_next(state)
                                      % (key ? n_utf8
                                         : IOVP_ARRAY_SIZE(pieces))]);
        size_t piece_len = strlen(piece);

        memcpy(buf + len, piece, piece_len);
        len += piece_len;
    }
    if (!key && random_next(state) % 16 == 0) {
        buf[len++] = '\0';
    }
    return json_stringn_nocheck(buf, len);
}

static json_t *
random_value(uint64_t *state, int depth)
{
    switch (random_next(state) % (depth < 4 ? 9 : 7)) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(random_next(state) % 2);
    case 2: {
        static const json_int_t ints[] = {
            0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN,
        };
        return json_integer(random_next(state) % 2
                            ? ints[random_next(state) % IOVP_ARRAY_SIZE(ints)]
                            : (json_int_t) random_next(state)
                            - (json_int_t) random_next(state));
    }
    case 3: {
        static const double reals[] = {
            0.0, -0.0, 0.5, -1.5, 1e300, 1e-300, 0.1, 123456789.125, 1e16,
            1e17,
        };
        return json_real(reals[random_next(state) % IOVP_ARRAY_SIZE(reals)]);
    }
    case 4:
    case 5:
    case 6:
        return random_string(state, false);
    case 7: {
        json_t *array = json_array();
        size_t n = random_next(state) % 5;

        for (size_t i = 0; i < n; i++) {
            json_array_append_new(array, random_value(state, depth + 1));
        }
        return array;
    }
    default: {
        json_t *object = json_object();
        size_t n = random_next(state) % 5;

        for (size_t i = 0; i < n; i++) {
            json_t *key = random_string(state, true);
            json_object_setn_new_nocheck(object, json_string_value(key),
                                         json_string_length(key),
                                         random_value(state, depth + 1));
            json_decref(key);
        }
        return object;
    }
    }
}

/* Returns 'json' (stolen) inside 'depth' arrays. */
static json_t *
nest(json_t *json, int depth)
{
    for (int i = 0; i < depth; i++) {
        json_t *array = json_array();
        json_array_append_new(array, json);
        json = array;
    }
    return json;
}

/* Compares the two writers on 'json' (stolen).  Returns true if they
 * agree, or differ as 'deep' (nested too deeply for iovp_json_encode())
 * says they must. */
static bool
check(json_t *json, bool deep)
{
    char *theirs = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = SIZE_MAX;
    char *ours = iovp_json_encode(json, &len);
    bool ok = (deep
               ? theirs && !ours
               : (!theirs == !ours
                  && (!ours || (len == strlen(theirs)
                                && !strcmp(ours, theirs)))));

    if (!ok) {
        printf("differ: jansson %s, iovp_json_encode %s (length %zu)\n",
               theirs ? theirs : "(fails)", ours ? ours : "(fails)",
               ours ? len : 0);
    }
    free(theirs);
    free(ours);
    json_decref(json);
    return ok;
}

static int
json_encode_time(size_t n)
{
    json_t *where = json_array();
    for (size_t i = 0; i < n; i++) {
        char uuid[64];

        snprintf(uuid, sizeof uuid, "%08zx-0000-4000-8000-%012zx", i, i * 7);
        json_array_append_new(where, json_pack("[s, s, [s, s]]", "_uuid",
                                               "==", "uuid", uuid));
    }

    uint64_t start = uv_hrtime();
    char *theirs = json_dumps(where, JSON_COMPACT | JSON_ENCODE_ANY);
    uint64_t middle = uv_hrtime();
    char *ours = iovp_json_encode(where, NULL);
    uint64_t end = uv_hrtime();

    printf("%zu clauses, %zu bytes: jansson %.1f ms, iovp_json_encode "
           "%.1f ms, %s\n", n, strlen(theirs), (middle - start) / 1e6,
           (end - middle) / 1e6,
           strcmp(theirs, ours) ? "different" : "the same text");
    free(theirs);
    free(ours);
    json_decref(where);
    return EXIT_SUCCESS;
}

int
test_json_encode_main(int argc, char *argv[])
{
    if (argc == 3 && !strcmp(argv[1], "--time")) {
        return json_encode_time(strtoul(argv[2], NULL, 10));
    } else if (argc != 3) {
        fprintf(stderr, "usage: test-iovp json-encode SEED COUNT\n");
        return EXIT_FAILURE;
    }

    uint64_t state = strtoull(argv[1], NULL, 10) | 1;
    unsigned long int count = strtoul(argv[2], NULL, 10);
    size_t n = 0, failed = 0;

#define CHECK(JSON, DEEP) (n++, failed += !check(JSON, DEEP))
    CHECK(NULL, false);
    CHECK(json_pack("{s:[i, I, I, b, b, n], s:{}, s:[]}", "a", 0,
                    (json_int_t) INT64_MAX, (json_int_t) INT64_MIN, 1, 0,
                    "", "\"\\/\b\f\n\r\t\x01\x1f\x7f"), false);
    CHECK(json_real(1.0), false);
    CHECK(json_real(-2.5e-7), false);
    for (int c = 0; c < 256; c++) {
        char byte = c;
        CHECK(json_stringn_nocheck(&byte, 1), false);
    }
    CHECK(json_string_nocheck("\xf0\x9f\x98"), false);
    CHECK(json_string_nocheck("\xef\xbf\xbf\xf4\x8f\xbf\xbf"), false);
    CHECK(json_string_nocheck("\xe0\x9f\xbf"), false);
    CHECK(json_string_nocheck("\xf0\x8f\xbf\xbf"), false);
    CHECK(nest(json_string("x"), IOVP_JSON_MAX_DEPTH), false);
    CHECK(nest(json_object(), IOVP_JSON_MAX_DEPTH), true);

    for (unsigned long int i = 0; i < count; i++) {
        CHECK(random_value(&state, 0), false);
    }
#undef CHECK

    printf("%zu values, %zu written otherwise than by jansson\n", n, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

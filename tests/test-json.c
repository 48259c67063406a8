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

/* The JSON writer and parser of lib/, checked against jansson's.
 *
 * "test-iovp json-encode SEED COUNT": checks lib/json-encode.c against
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
 * ACL of N entries.
 *
 * "test-iovp json-decode SEED COUNT": checks lib/json-decode.c against
 * jansson.  Parses a fixed set of texts (every escape, UTF-8 and not, the
 * numbers' edges, each kind of syntax error, the depth limit) and COUNT
 * texts of random values made from SEED, as jansson writes them, compact
 * or indented, and often with a byte changed, inserted or removed, or cut
 * short, with both json_loadb() and an iovp_json_decoder fed the text in
 * pieces of random sizes.  Prints each text on which they differ, in
 * taking it or not or in the value built, then a count.
 *
 * "test-iovp json-decode --time N": prints the milliseconds that each
 * takes to parse an OVSDB update of N rows, as the server sends for an ACL
 * of N entries, the decoder fed 64 kB at a time. */

#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lib/json-decode.h"
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

/* Parses the 'len' bytes at 'text' with 'd', fed in pieces of random sizes
 * from 'state' (or all at once if 'state' is NULL).  Returns the value
 * (and in '*errorp' NULL), or NULL and in '*errorp' why not. */
static json_t *
decode(struct iovp_json_decoder *d, const char *text, size_t len,
       uint64_t *state, const char **errorp)
{
    size_t ofs = 0;

    while (ofs < len && !iovp_json_decoder_is_done(d)
           && !iovp_json_decoder_get_error(d)) {
        size_t n = len - ofs;
        if (state) {
            size_t max = random_next(state) % 2 ? 4 : 64;
            size_t piece = 1 + random_next(state) % max;
            n = MIN(n, piece);
        }
        ofs += iovp_json_decoder_feed(d, text + ofs, n);
    }

    *errorp = iovp_json_decoder_get_error(d);
    if (*errorp) {
        return NULL;
    } else if (!iovp_json_decoder_is_done(d)) {
        *errorp = "unfinished";
        return NULL;
    }
    /* json_loadb() takes only white space after the value. */
    for (; ofs < len; ofs++) {
        if (!strchr(" \t\r\n", text[ofs]) || !text[ofs]) {
            *errorp = "more after the value";
            json_decref(iovp_json_decoder_take(d));
            return NULL;
        }
    }
    return iovp_json_decoder_take(d);
}

/* How many texts that check_decode() compared jansson took. */
static size_t n_json;

/* Compares jansson's parser and a decoder on the 'len' bytes at 'text'.
 * Returns true if they agree. */
static bool
check_decode(const char *text, size_t len, uint64_t *state)
{
    json_error_t jerror;
    json_t *theirs = json_loadb(text, len, 0, &jerror);
    struct iovp_json_decoder *d = iovp_json_decoder_create();
    const char *error;
    json_t *ours = decode(d, text, len, state, &error);
    char *theirs_text = theirs ? iovp_json_encode(theirs, NULL) : NULL;
    char *ours_text = ours ? iovp_json_encode(ours, NULL) : NULL;
    bool ok = (!theirs_text == !ours_text
               && (!ours_text || !strcmp(theirs_text, ours_text)));

    n_json += theirs != NULL;
    if (!ok) {
        printf("differ on %zu bytes \"", len);
        for (size_t i = 0; i < MIN(len, 200); i++) {
            unsigned char c = text[i];
            printf(c >= 0x20 && c < 0x7f && c != '\\' ? "%c" : "\\x%02x",
                   c);
        }
        printf("\": jansson %s, decoder %s\n",
               theirs_text ? theirs_text : jerror.text,
               ours_text ? ours_text : error);
    }
    free(theirs_text);
    free(ours_text);
    json_decref(theirs);
    json_decref(ours);
    iovp_json_decoder_destroy(d);
    return ok;
}

/* Changes the 'len' bytes of text at 'text' (of room for one more) in a
 * random way.  Returns the new length. */
static size_t
mutate(char *text, size_t len, uint64_t *state)
{
    static const char bytes[] = "\"\\,:[]{}0-+.eEu nt\t\n\x80\xc3\xbf\x01";
    if (!len) {
        return 0;
    }

    size_t pos = len ? random_next(state) % len : 0;
    char byte = bytes[random_next(state) % (sizeof bytes - 1)];

    switch (random_next(state) % 4) {
    case 0:
        text[pos] = byte;
        return len;
    case 1:
        memmove(text + pos + 1, text + pos, len - pos);
        text[pos] = byte;
        return len + 1;
    case 2:
        memmove(text + pos, text + pos + 1, len - pos - 1);
        return len - 1;
    default:
        return pos;
    }
}

static int
json_decode_time(size_t n)
{
    json_t *rows = json_object();
    for (size_t i = 0; i < n; i++) {
        char uuid[64], name[64];

        snprintf(uuid, sizeof uuid, "%08zx-0000-4000-8000-%012zx", i, i * 7);
        snprintf(name, sizeof name, "10.%zu.%zu.0/24", i / 256 % 256,
                 i % 256);
        json_object_set_new(
            rows, uuid,
            json_pack("{s:{s:i, s:s, s:s, s:[s, []], s:[s, s], s:i, s:i, "
                      "s:s, s:[s, [[s, s]]]}}", "initial",
                      "sequence", (int) i, "source_ip", name,
                      "action", "permit", "source_mac", "set",
                      "acl", "uuid", uuid, "dest_port_min", 80,
                      "dest_port_max", 443, "protocol", "tcp",
                      "external_ids", "map", "owner", "test"));
    }
    json_t *update = json_pack("{s:s, s:[s, s, {s:o}], s:n}", "method",
                               "update3", "params", "iovp",
                               "00000000-0000-0000-0000-000000000000",
                               "ACL_entry", rows, "id");
    size_t len;
    char *text = iovp_json_encode(update, &len);
    json_decref(update);

    /* Each parse is timed twice, and the faster run kept, the other
     * parser's tree freed in between: the first run of a process takes
     * its memory from the kernel a page at a time. */
    uint64_t theirs_ns = UINT64_MAX, ours_ns = UINT64_MAX;
    json_t *theirs = NULL, *ours = NULL;
    struct iovp_json_decoder *d = iovp_json_decoder_create();
    for (int i = 0; i < 2; i++) {
        json_decref(theirs);
        uint64_t start = uv_hrtime();
        theirs = json_loadb(text, len, 0, NULL);
        theirs_ns = MIN(theirs_ns, uv_hrtime() - start);

        json_decref(ours);
        start = uv_hrtime();
        for (size_t ofs = 0; ofs < len; ) {
            ofs += iovp_json_decoder_feed(d, text + ofs,
                                          MIN(64 * 1024, len - ofs));
        }
        ours = iovp_json_decoder_take(d);
        ours_ns = MIN(ours_ns, uv_hrtime() - start);
    }

    printf("%zu rows, %zu bytes: jansson %.1f ms, iovp_json_decoder "
           "%.1f ms, %s\n", n, len, theirs_ns / 1e6, ours_ns / 1e6,
           json_equal(theirs, ours) ? "the same value" : "different");
    json_decref(theirs);
    json_decref(ours);
    iovp_json_decoder_destroy(d);
    free(text);
    return EXIT_SUCCESS;
}

int
test_json_decode_main(int argc, char *argv[])
{
    if (argc == 3 && !strcmp(argv[1], "--time")) {
        return json_decode_time(strtoul(argv[2], NULL, 10));
    } else if (argc != 3) {
        fprintf(stderr, "usage: test-iovp json-decode SEED COUNT\n");
        return EXIT_FAILURE;
    }

    static const char *const texts[] = {
        "{}", "[]", " \t\r\n[ ] ", "{\"a\":1,\"a\":[2],\"b\":{}}",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\"]",
        "[\"\\ud83d\\ude00\", \"\\uDBFF\\uDFFF\"]", "[\"\\ud83d\"]",
        "[\"\\ud83dx\"]", "[\"\\ud83d\\u0041\"]", "[\"\\ude00\"]",
        "[\"\\ud83d\\u12\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\x\"]",
        "[\"\\u0000\"]", "{\"\\u0000\":1}", "{\"a\\u0000\":1}",
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"]",
        "[\"\xc0\x80\"]", "[\"\xc1\xbf\"]", "[\"\xe0\x9f\xbf\"]",
        "[\"\xed\xa0\x80\"]", "[\"\xf0\x8f\xbf\xbf\"]",
        "[\"\xf4\x90\x80\x80\"]", "[\"\xf5\x80\x80\x80\"]", "[\"\x80\"]",
        "[\"\xc3\"]", "[\"\xe2\x82\"]", "[\"\xff\"]", "[\"\x7f\"]",
        "[\"a\nb\"]", "[\"\x01\"]", "[\xc3\xa9]", "{\"\xc3\xa9\":1}",
        "[0, -0, 1, -1, 10, 0.5, -0.5, 1e5, 1E-5, 1e+5, 0e0, -0.0]",
        "[9223372036854775807, -9223372036854775808]",
        "[9223372036854775808]", "[-9223372036854775809]",
        "[1e308, 1e309]", "[-1e309]", "[1e-400, 4.9e-324]",
        "[123456789012345678901234567890.5]",
        "[01]", "[-]", "[-a]", "[1.]", "[.5]", "[1e]", "[1e+]", "[+1]",
        "[1.5e3.2]", "[1-2]", "[0x10]", "[1 2]", "[1true]",
        "[true, false, null]", "[tru]", "[nul]", "[True]", "[nulll]",
        "[truefalse]", "[1,]", "[,1]", "[,]", "{,}", "{\"a\"}",
        "{\"a\":}", "{\"a\":1,}", "{1:2}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
        "[}", "{]", "[]]", "[][]", "[", "[1", "[\"abc", "{\"a\":", "",
        " ", "1", "\"x\"", "true", "null", "[1]x", "[1] \xff",
        "[\"\\", "[\"\\u", "[\"a\\\"]", "[\"a\\\\\"]", "[\"\0\"]",
        "[1,\0]",
    };
    uint64_t state = strtoull(argv[1], NULL, 10) | 1;
    unsigned long int count = strtoul(argv[2], NULL, 10);
    size_t n = 0, failed = 0;

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(texts); i++) {
        size_t len = strlen(texts[i]);
        if (!strcmp(texts[i], "[\"")) {
            len = 5;                    /* The texts with a NUL. */
        } else if (!strcmp(texts[i], "[1,")) {
            len = 5;
        }
        n += 2;
        failed += !check_decode(texts[i], len, NULL);
        failed += !check_decode(texts[i], len, &state);
    }

    /* The depth limit: 2048 levels of values, whichever their kind. */
    for (int depth = IOVP_JSON_MAX_DEPTH - 1; depth <= IOVP_JSON_MAX_DEPTH + 1;
         depth++) {
        for (int inner = 0; inner < 3; inner++) {
            static const char *const inners[] = { "", "1", "{}" };
            size_t len = 2 * depth + strlen(inners[inner]);
            char *text = iovp_xmalloc(len + 1);

            memset(text, '[', depth);
            strcpy(text + depth, inners[inner]);
            memset(text + depth + strlen(inners[inner]), ']', depth);
            n += 2;
            failed += !check_decode(text, len, NULL);
            failed += !check_decode(text, len, &state);
            free(text);
        }
    }

    for (unsigned long int i = 0; i < count; i++) {
        json_t *value = random_value(&state, 0);
        if (!json_is_array(value) && !json_is_object(value)) {
            json_t *array = json_array();
            json_array_append_new(array, value);
            value = array;
        }
        size_t flags = (random_next(&state) % 2 ? JSON_COMPACT
                        : JSON_INDENT(random_next(&state) % 3));
        char *text = json_dumps(value, flags | JSON_ENCODE_ANY);
        json_decref(value);
        if (!text) {
            continue;           /* A key that is not UTF-8: not JSON. */
        }

        size_t len = strlen(text);
        text = iovp_xrealloc(text, len + 8);
        for (int k = random_next(&state) % 4; k > 0; k--) {
            len = mutate(text, len, &state);
        }
        n++;
        failed += !check_decode(text, len, &state);
        free(text);
    }

    printf("%zu texts (%zu of them JSON), %zu parsed otherwise than by "
           "jansson\n", n, n_json, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

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

#ifndef IOVP_LIB_JSON_DECODE_H
#define IOVP_LIB_JSON_DECODE_H 1

/* A JSON parser that is fed a text in pieces, as they arrive, and builds
 * the jansson value as it goes: the text need not be held whole, and the
 * work of a large message (an initial copy of a database, tens of MB) is
 * spread over the reads that bring it instead of done in one step at its
 * end.
 *
 * It takes exactly what json_loadb() takes with no flags and builds the
 * same value (tests/test-json.c checks it against jansson): an object or
 * an array at the top, strings of UTF-8 without NUL, integers that fit
 * json_int_t, reals that do not overflow, at most IOVP_JSON_MAX_DEPTH
 * levels of values, and the last of two members of an object with the
 * same name.  It stops at the byte after the value, so that a stream of
 * values one after the other is parsed one value at a time.
 *
 * A string of at most 8 bytes or an integer from -1 to 1024 that recurs is
 * one value, with a reference in each place where it appears (in the
 * values built, and later ones): what it builds must not be changed in
 * place (json_string_set() and the like), only taken apart. */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct iovp_json_decoder;

struct iovp_json_decoder *iovp_json_decoder_create(void);
void iovp_json_decoder_destroy(struct iovp_json_decoder *);

size_t iovp_json_decoder_feed(struct iovp_json_decoder *,
                              const char *data, size_t n);
bool iovp_json_decoder_is_done(const struct iovp_json_decoder *);
const char *iovp_json_decoder_get_error(const struct iovp_json_decoder *);
json_t *iovp_json_decoder_take(struct iovp_json_decoder *);

json_t *iovp_json_decode(const char *data, size_t n, size_t *usedp,
                         char **errorp);

#endif /* lib/json-decode.h */

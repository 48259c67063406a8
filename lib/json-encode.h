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

#ifndef IOVP_LIB_JSON_ENCODE_H
#define IOVP_LIB_JSON_ENCODE_H 1

/* The compact JSON text of a jansson value, byte for byte what
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes, in a quarter of its
 * time.
 *
 * jansson's writer makes a hash-table entry, with its key printed by
 * snprintf(), for each array and object that it enters (to find a value
 * that contains itself), decodes each string a code point at a time, and
 * copies the text once more at the end: 105 to 170 ms for a monitor
 * condition of 100,000 clauses (6.3 MB), which iovpd sends on each restart
 * and full sync, against 24 to 36 ms here ("test-iovp json-encode --time
 * 100000").  This writer bounds the depth instead, which also stops a
 * value that contains itself.  Reals, rare in OVSDB, are still written by
 * jansson, so that their digits are its own. */

#include <stddef.h>

#include <jansson.h>

/* Deeper values are not written: the limit of jansson's parser. */
#define IOVP_JSON_MAX_DEPTH 2048

char *iovp_json_encode(const json_t *, size_t *lenp);

#endif /* lib/json-encode.h */

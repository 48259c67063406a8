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

#include "lib/util.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openvswitch/dynamic-string.h>
#include <openvswitch/util.h>

static void
out_of_memory(void)
{
    fputs("virtual memory exhausted\n", stderr);
    abort();
}

/* Returns 'size' bytes from malloc(), aborting if there are none.  A 'size'
 * of 0 still returns a pointer that free() takes. */
void *
iovp_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

/* Like iovp_xmalloc(), with the bytes zeroed. */
void *
iovp_xzalloc(size_t size)
{
    void *p = calloc(size ? size : 1, 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

/* Like realloc(), aborting when memory runs out. */
void *
iovp_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

/* Returns a malloc()'d copy of 's'. */
char *
iovp_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(iovp_xmalloc(n), s, n);
}

/* Returns a malloc()'d copy of 's', or NULL if 's' is NULL. */
char *
iovp_nullable_xstrdup(const char *s)
{
    return s ? iovp_xstrdup(s) : NULL;
}

/* Returns the 64-bit FNV-1a hash of 's': a value that depends on nothing
 * but 's', for identifiers that must come out the same in every run. */
uint64_t
iovp_hash_string64(const char *s)
{
    return iovp_hash_string64_more(0xcbf29ce484222325ULL, s);
}

/* Returns the 64-bit FNV-1a hash of 's' continued from 'hash', the hash of
 * what comes before it: iovp_hash_string64_more(iovp_hash_string64(a), b)
 * is the hash of 'a' and 'b' as one string, without making that string. */
uint64_t
iovp_hash_string64_more(uint64_t hash, const char *s)
{
    for (; *s; s++) {
        hash = (hash ^ (unsigned char) *s) * 0x100000001b3ULL;
    }
    return hash;
}

/* Returns a 64-bit hash (FNV-1a) of the 'n' bytes at 'p', starting from
 * 'basis' (a previous hash, to hash several pieces as one). */
uint64_t
iovp_hash_bytes64(const void *p_, size_t n, uint64_t basis)
{
    const unsigned char *p = p_;
    uint64_t hash = basis ^ 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        hash = (hash ^ p[i]) * 0x100000001b3ULL;
    }
    return hash;
}

/* Returns a 64-bit hash of the 'n' 64-bit words at 'p', starting from
 * 'basis'.  A word at a time, for large keys that are whole words (a
 * struct flow): several times faster than iovp_hash_bytes64() over the
 * same bytes, and a different hash. */
uint64_t
iovp_hash_words64(const uint64_t *p, size_t n, uint64_t basis)
{
    uint64_t hash = basis ^ 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < n; i++) {
        uint64_t k = p[i] * 0x87c37b91114253d5ULL;

        k = (k << 31) | (k >> 33);
        hash ^= k * 0x4cf5ad432745937fULL;
        hash = ((hash << 27) | (hash >> 37)) * 5 + 0x52dce729;
    }
    /* The final mix of MurmurHash3, so that every bit of the key reaches
     * the low bits that a hash table uses. */
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return hash;
}

/* Returns a malloc()'d copy of the 'n' bytes at 'p' (at least one byte is
 * allocated, so that the result is never NULL). */
void *
iovp_xmemdup(const void *p, size_t n)
{
    void *copy = iovp_xmalloc(MAX(n, 1));

    if (n) {
        memcpy(copy, p, n);
    }
    return copy;
}

/* Returns a malloc()'d string formatted from 'format' and 'args'. */
char *
iovp_xvasprintf(const char *format, va_list args)
{
    va_list args2;
    char *s;
    int n;

    va_copy(args2, args);
    n = vsnprintf(NULL, 0, format, args);
    s = iovp_xmalloc(n + 1);
    vsnprintf(s, n + 1, format, args2);
    va_end(args2);
    return s;
}

/* Returns a malloc()'d string formatted from 'format' and what follows. */
char *
iovp_xasprintf(const char *format, ...)
{
    va_list args;
    char *s;

    va_start(args, format);
    s = iovp_xvasprintf(format, args);
    va_end(args);
    return s;
}

/* A qsort() comparison function for an array of "const char *": by
 * strcmp(). */
int
iovp_compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return strcmp(*a, *b);
}

/* Returns true if 'a' and 'b', each a string or NULL, are both NULL or
 * equal strings. */
bool
iovp_nullable_streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Returns a malloc()'d string with 'json' in compact form, for an error
 * message: at most about 60 bytes of it. */
char *
iovp_json_brief(const json_t *json)
{
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        return iovp_xstrdup("(unprintable)");
    }
    if (strlen(s) > 60) {
        strcpy(s + 56, "...");
    }
    return s;
}

/* Returns a malloc()'d text with a line "'indent'KEY: VALUE" for each member
 * of the JSON object 'object', in order: a string as it is, any other value
 * as compact JSON.  For the text form of status commands. */
char *
iovp_json_lines(const json_t *object, const char *indent)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    const char *key;
    json_t *value;

    json_object_foreach ((json_t *) object, key, value) {
        char *v = (json_is_string(value)
                   ? iovp_xstrdup(json_string_value(value))
                   : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT));
        ds_put_format(&text, "%s%s: %s\n", indent, key, v);
        free(v);
    }
    return ds_steal_cstr(&text);
}

/* Prints "PROGRAM: " and the message 'format' makes to stderr, followed by
 * strerror('error') when 'error' (a positive or negative errno value) is
 * not 0, and exits with status 1.  For command line errors before a
 * program has its logging in place. */
void
iovp_fatal(int error, const char *format, ...)
{
    const char *program = ovs_get_program_name();
    va_list args;

    fprintf(stderr, "%s: ", program ? program : "iovp");
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    if (error) {
        fprintf(stderr, " (%s)", strerror(error < 0 ? -error : error));
    }
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

static const char *
env_or(const char *name, const char *dflt)
{
    const char *value = getenv(name);
    return value && value[0] ? value : dflt;
}

const char *
iovp_rundir(void)
{
    return env_or("IOVP_RUNDIR", "/var/run/iovp");
}

const char *
iovp_logdir(void)
{
    return env_or("IOVP_LOGDIR", "/var/log/iovp");
}

/* Returns the bytes of heap that 'p', a block from malloc() or NULL, takes:
 * its usable size and the allocator's header.  Zero where the C library
 * cannot tell. */
size_t
iovp_malloc_size(const void *p)
{
#ifdef __GLIBC__
    return p ? malloc_usable_size((void *) p) + sizeof(size_t) : 0;
#else
    return 0;
#endif
}

/* Gives the heap's free memory back to the system.  For after freeing a
 * large, short-lived peak (a big message, a full flow sync): the allocator
 * keeps what it once held otherwise, and a daemon's resident size stays at
 * its peak for good. */
void
iovp_trim_heap(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Returns the length of the UTF-8 sequence at 's', at most 'n' bytes, that
 * starts with a byte above 0x7f, or 0 if it is not one that jansson takes:
 * an overlong form, a surrogate or a code point above U+10FFFF is not. */
size_t
iovp_utf8_sequence_len(const uint8_t *s, size_t n)
{
    uint32_t cp;
    size_t len;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    return len;
}

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

#include "offload/backend.h"

#include <string.h>

#include "lib/util.h"

static const struct offload_class *const offload_classes[] = {
    &offload_sim_class,
    &offload_xdp_class,
};

/* Opens the backend that 'spec' names, "NAME" or "NAME:OPTIONS", and
 * stores it in '*offloadp'.  Returns NULL if successful, otherwise a
 * malloc()'d error message for the caller to free, with '*offloadp' set
 * to NULL.  "none" is no backend: success, with '*offloadp' NULL. */
char *
offload_open(const char *spec, struct offload **offloadp)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t) (colon - spec) : strlen(spec);
    const char *options = colon ? colon + 1 : "";

    *offloadp = NULL;
    if (len == 4 && !strncmp(spec, "none", 4)) {
        return NULL;
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(offload_classes); i++) {
        const struct offload_class *c = offload_classes[i];
        if (strlen(c->name) == len && !strncmp(spec, c->name, len)) {
            return c->open(options, offloadp);
        }
    }
    return iovp_xasprintf("%.*s: unknown offload backend (known: none, "
                          "sim, xdp)", (int) len, spec);
}

/* Returns the capabilities that a process needs to run 'o' (see
 * offload_class's 'privileges'): none for NULL. */
uint64_t
offload_privileges(const struct offload *o)
{
    return o ? o->class->privileges : 0;
}

/* Closes 'o'.  Accepts NULL. */
void
offload_close(struct offload *o)
{
    if (o) {
        o->class->close(o);
    }
}

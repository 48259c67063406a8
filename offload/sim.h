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

#ifndef IOVP_OFFLOAD_SIM_H
#define IOVP_OFFLOAD_SIM_H 1

/* The "sim" backend, a model NIC for tests (its options: offload/sim.c). */

#include "offload/backend.h"

char *offload_sim_configure(struct offload *, const char *options);
int offload_sim_receive(struct offload *, const char *port,
                        const void *frame, size_t len, struct fp_entry *);

#endif /* offload/sim.h */

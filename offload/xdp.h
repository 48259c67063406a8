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

#ifndef IOVP_OFFLOAD_XDP_H
#define IOVP_OFFLOAD_XDP_H 1

/* The "xdp" backend (its options: offload/xdp.c). */

#include <stddef.h>

#include "offload/backend.h"

/* The eBPF objects of offload/xdp-prog.bpf.c (the ports' fast path) and
 * offload/xdp-errors.bpf.c (the counters of loss), built into iovpd
 * (offload/xdp-prog.c and offload/xdp-errors.c are generated from them at
 * build time). */
extern const unsigned char offload_xdp_prog[];
extern const size_t offload_xdp_prog_size;
extern const unsigned char offload_xdp_errors[];
extern const size_t offload_xdp_errors_size;

#endif /* offload/xdp.h */

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

#ifndef IOVP_OFFLOAD_BACKEND_H
#define IOVP_OFFLOAD_BACKEND_H 1

/* Offload backends: where fast paths (offload/fastpath.h) run.
 *
 * A backend serves VM ports, each named by its host-side network device,
 * and holds one fast-path table for each.  Every backend is a table of
 * functions, 'struct offload_class'; iovpd chooses one with
 * --offload=NAME[:OPTIONS] and talks to it only through these functions,
 * so that the planner and the fallback to OVS are the same whatever runs
 * the fast path.
 *
 * Errors are negative errno values.  A backend that fails (a put refused,
 * the table full, the device gone) changes nothing for correctness: the
 * caller leaves the entries concerned to OVS.  After a failed put, the
 * entries of the batch that were not taken are not in the table; those
 * before them may be. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/fastpath.h"

struct ds;
struct offload;

/* What a backend's fast path can hold, per port. */
struct offload_caps {
    size_t max_entries;         /* Entries per port. */
    size_t max_masks;           /* Tuples per port (see fastpath.h). */
    size_t bucket_size;         /* Entries per bucket of a tuple: with 1,
                                 * each tuple's mask is its entries' mask
                                 * (no relaxed tuples). */
    struct fp_key fields;       /* The bits a mask may have. */
    bool drop;                  /* Fates it can give, beyond to-OVS. */
    bool forward;
};

/* An entry's counters. */
struct offload_stats {
    uint32_t id;
    uint64_t n_packets;
    uint64_t n_bytes;
};

/* A steering rule of a port's fast path (see steer()). */
struct offload_steer {
    struct fp_match match;
    uint32_t cpu;
    uint32_t id;
};

/* The frames one steering rule sent through one CPU. */
struct offload_steer_stats {
    uint32_t id;
    uint32_t cpu;
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t n_queue_drops;     /* Frames that the CPU's queue dropped, of
                                 * every port's rules to that CPU. */
};

struct offload_class {
    const char *name;

    /* The Linux capabilities (bit N for capability N, as in
     * <linux/capability.h>) that iovpd keeps for this backend when it runs
     * as another user than root (iovpd --user). */
    uint64_t privileges;

    /* Creates a backend from 'options' (the text after "NAME:", or "") and
     * stores it in '*offloadp'.  Returns NULL if successful, otherwise a
     * malloc()'d error message for the caller to free, with '*offloadp'
     * set to NULL. */
    char *(*open)(const char *options, struct offload **offloadp);
    void (*close)(struct offload *);

    void (*capabilities)(const struct offload *, struct offload_caps *);

    /* Adds the 'n' entries 'entries' to 'port''s table, starting to serve
     * 'port' if it does not yet, each in the tuple its 'tuple' names.  An
     * entry replaces the entry of its id, and the entry of another id with
     * the same match (mask and value): a table has one entry per match,
     * and the replacement is atomic for the frames that match it.  Fails
     * with -E2BIG for more tuples than the capabilities say, -ENOSPC for
     * more entries or a full bucket. */
    int (*put)(struct offload *, const char *port,
               const struct fp_entry *entries, size_t n);

    /* Removes the entries of the 'n' ids 'ids' from 'port''s table (ids
     * it does not hold are ignored).  With 'n' zero, removes every entry
     * and stops serving 'port'. */
    int (*delete)(struct offload *, const char *port, const uint32_t *ids,
                  size_t n);

    /* Stores in '*statsp' (malloc()'d) and '*n' the counters of every
     * entry of 'port''s table. */
    int (*stats)(struct offload *, const char *port,
                 struct offload_stats **statsp, size_t *n);

    /* Stores in '*entriesp' (malloc()'d) and '*n' the entries of 'port''s
     * table, as the backend holds them, taking over what a previous iovpd
     * left there if the backend keeps its tables across restarts. */
    int (*dump)(struct offload *, const char *port,
                struct fp_entry **entriesp, size_t *n);

    /* Runs 'port''s fast path on the 'len'-byte frame 'frame', as if it
     * came from the VM, without sending anything: stores in '*entry' the
     * entry that decided it (its fate FP_TO_OVS and id 0 if none did). For
     * tests, trace and verify-offload, so no counter counts the frame: the
     * counters (stats()) count only the VMs' real frames, which is what
     * iovpd reports and the planner weighs entries by. */
    int (*classify)(struct offload *, const char *port, const void *frame,
                    size_t len, struct fp_entry *entry);

    /* Says whether a frame that 'port''s fast path forwards to 'out_port'
     * (as the backend names ports) reaches it: returns true if the backend
     * establishes that it does, false if it cannot or it does not, and
     * appends the reason to 'why' either way.  Asked again at every plan
     * (after each read of the counters), so that a target that stops
     * taking frames loses its forward entries within one read.  Null if
     * the backend delivers to every port it forwards to. */
    bool (*delivery)(struct offload *, const char *port, uint32_t out_port,
                     struct ds *why);

    /* Stores in '*n' the number of frames that 'port''s fast path
     * redirected to 'out_port' and that the kernel then lost (it refused
     * the redirect, or the target dropped them: a full receive ring, a
     * frame over its MTU), counted since the backend opened, and appends
     * the backend's name for 'out_port' to 'target'.  Returns 0, or
     * -EOPNOTSUPP if the backend cannot count them now.  Read at every
     * plan, after each read of the counters: a count that grows makes
     * the port's forward entries to 'out_port' fall back to OVS.  Null if
     * the backend loses no redirected frame. */
    int (*redirect_errors)(struct offload *, const char *port,
                           uint32_t out_port, uint64_t *n,
                           struct ds *target);

    /* Sends the 'len'-byte frame 'frame' through 'port''s fast path for
     * real, as if it came from the VM, where the entry that decides it
     * forwards it to 'out_port', and says whether it arrived there:
     * returns 1 if the backend confirms that it did, 0 if it establishes
     * that it did not, -EOPNOTSUPP if it cannot tell, or another negative
     * errno value; appends the reason to 'why' in every case.  The frame
     * reaches the VM behind 'out_port': the caller chooses one that the VM
     * ignores.  For verify-offload, so, as with classify(), no counter
     * counts the frame.  Null if the backend sends no frames. */
    int (*deliver)(struct offload *, const char *port, const void *frame,
                   size_t len, uint32_t out_port, struct ds *why);

    /* Replaces 'port''s steering rules with the 'n' rules 'rules': a
     * frame that the port's fast path forwards and that one of them
     * matches (the first that does, in order) is forwarded by CPU 'cpu'
     * of that rule, whichever CPU received it.  Steering decides where a
     * frame is processed, never what becomes of it.  Returns 0, -ENODEV if
     * the backend does not serve 'port', -EINVAL for a CPU the host does
     * not have, -E2BIG for too many rules, or another negative errno
     * value (then the port steers nothing).  Null if the backend cannot
     * steer. */
    int (*steer)(struct offload *, const char *port,
                 const struct offload_steer *rules, size_t n);

    /* Stores in '*statsp' (malloc()'d) and '*n' what 'port''s steering
     * rules sent through each CPU, as counted on that CPU: an element for
     * each rule and CPU that counted a frame, and for each rule and the
     * CPU it names. */
    int (*steer_stats)(struct offload *, const char *port,
                       struct offload_steer_stats **statsp, size_t *n);

    /* Appends a description of the backend and its ports to 's'. */
    void (*describe)(const struct offload *, struct ds *s);
};

struct offload {
    const struct offload_class *class;
};

char *offload_open(const char *spec, struct offload **);
void offload_close(struct offload *);
uint64_t offload_privileges(const struct offload *);

extern const struct offload_class offload_sim_class;    /* offload/sim.c */
extern const struct offload_class offload_xdp_class;    /* offload/xdp.c */

#endif /* offload/backend.h */

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

#ifndef IOVP_AGENT_XLATE_CAPTURE_H
#define IOVP_AGENT_XLATE_CAPTURE_H 1

/* Translation of iovp's captures (Iovp_Capture rows) into flows that copy
 * the frames they select to a capture port (a VM port whose Iovp_Port
 * "profile" is "capture"), truncated to the capture's snap length.
 * iovpd(8) documents the flows.
 *
 * A capture selects, by an OpenFlow match, the frames that a source port's
 * VM sends ("ingress": as they come, before any policy, in table 0), the
 * frames that leave toward it ("egress": after its egress ACL, in table
 * 50), or every frame of a logical switch (as it enters the L2 lookup,
 * table 30).  Each capture that applies to a port or logical switch has
 * one bit of a register (reg11 for ingress, reg12 for egress, reg13 for a
 * logical switch) so that each copies a frame once, however many there
 * are.
 *
 * iovpd also keeps captures of its own, "sessions" (for "iovp-ofctl
 * capture"), that are the same to the flows, to the fast path's punts and
 * to the NIC: each selects both directions of a VM port and copies to an
 * internal port that iovpd made for it (agent/agent-capture.c).  Their
 * faults are not reported in the database but to the session's client.
 *
 * The captures' flows are one group of the desired flows, made again
 * whenever a capture or a port changes (captures are few). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct desired;
struct fp_match;
struct odb_idl;
struct oflow_table;
struct port;
struct ports;

/* A session: what VM port 'source' sends and receives that 'match'
 * selects (in ovs-ofctl's syntax, "" for every frame), cut to 'snaplen'
 * bytes (0: whole frames), copied to the internal port 'device' on
 * OpenFlow port 'dest_ofport' (-1 while it has none). */
struct xlate_capture_session {
    char *device;
    char *source;
    char *match;
    int snaplen;
    int dest_ofport;
};

struct xlate_capture *xlate_capture_create(void);
void xlate_capture_destroy(struct xlate_capture *);

bool xlate_capture_run(struct xlate_capture *, const struct odb_idl *vtep,
                       const struct xlate_capture_session *,
                       size_t n_sessions, const struct ports *,
                       struct desired *);
char *xlate_capture_check_match(const char *match);
int xlate_capture_session_state(const struct xlate_capture *,
                                const char *device, const struct desired *,
                                const struct oflow_table *installed,
                                const char **fault);

json_t *xlate_capture_status(const struct xlate_capture *,
                             const struct desired *,
                             const struct oflow_table *installed);
json_t *xlate_capture_describe(const struct xlate_capture *,
                               const struct desired *,
                               const struct oflow_table *installed);
void xlate_capture_punts(const struct xlate_capture *, const struct port *,
                         struct fp_match **, size_t *n);
bool xlate_capture_watches(const struct xlate_capture *,
                           const struct port *);

#endif /* agent/xlate-capture.h */

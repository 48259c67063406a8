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

#ifndef IOVP_UTILITIES_OFCTL_CAPTURE_H
#define IOVP_UTILITIES_OFCTL_CAPTURE_H 1

/* "iovp-ofctl capture": a VM port's frames, from a capture session of
 * iovpd (agent/agent-capture.c), read from the session's internal port
 * with a packet socket and written as a pcap file or one line a frame. */

struct ofctl_capture_options {
    const char *control_path;   /* iovpd's control socket. */
    int timeout_ms;             /* For iovpd's answers; negative: none. */
    const char *port;           /* The VM port. */
    const char *match;          /* In ovs-ofctl's syntax; "" for all. */
    const char *file;           /* pcap file, "-" for stdout, or NULL: a
                                 * line of text a frame on stdout. */
    int snaplen;                /* 0: whole frames. */
    long long int count;        /* Stop after this many frames; 0: never. */
};

int ofctl_capture(const struct ofctl_capture_options *);

#endif /* utilities/ofctl-capture.h */

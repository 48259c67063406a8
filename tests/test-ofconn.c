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

/* "test-iovp ofconn FILE": a transcript of ofp/ofconn.c, which speaks
 * OpenFlow 1.3 to 1.5.  FILE holds one command a line ('#' starts a
 * comment):
 *
 *   connected | disconnected | probe
 *   recv HEX      bytes from the switch, in hexadecimal (spaces ignored)
 *
 * After each command it prints what the session sends ("send:"), what it
 * hands to its owner ("owner:"), a reason to drop the connection
 * ("drop:"), and its state. */

#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/ofp-print.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>

#include "lib/util.h"
#include "ofp/ofconn.h"
#include "tests/test-iovp.h"

static void
print_msg(const char *prefix, struct ofpbuf *msg)
{
    char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 0);
    size_t len = strlen(s);

    while (len && s[len - 1] == '\n') {
        s[--len] = '\0';
    }
    printf("%s%s\n", prefix, s);
    free(s);
    ofpbuf_delete(msg);
}

int
test_ofconn_main(int argc, char *argv[])
{
    struct ofconn *c = ofconn_create((1u << OFP13_VERSION)
                                     | (1u << OFP14_VERSION)
                                     | (1u << OFP15_VERSION));
    char line[4096];
    FILE *file;

    if (argc != 2) {
        iovp_fatal(0, "usage: ofconn FILE");
    }
    file = fopen(argv[1], "r");
    if (!file) {
        iovp_fatal(-1, "%s: cannot open", argv[1]);
    }

    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') {
            continue;
        }
        printf("> %s\n", line);

        if (!strcmp(line, "connected")) {
            ofconn_connected(c);
        } else if (!strcmp(line, "disconnected")) {
            ofconn_disconnected(c);
        } else if (!strcmp(line, "probe")) {
            ofconn_probe(c);
        } else if (!strncmp(line, "recv ", 5)) {
            char bytes[2048];
            size_t n = 0;

            for (const char *p = line + 5; *p && n < sizeof bytes; ) {
                if (isspace((unsigned char) *p)) {
                    p++;
                    continue;
                }
                unsigned int byte;
                if (sscanf(p, "%2x", &byte) != 1) {
                    iovp_fatal(0, "bad hex: %s", p);
                }
                bytes[n++] = byte;
                p += 2;
            }
            char *error = ofconn_receive(c, bytes, n);
            if (error) {
                printf("drop: %s\n", error);
                free(error);
            }
        } else {
            iovp_fatal(0, "unknown command: %s", line);
        }

        struct ofpbuf *msg;
        while ((msg = ofconn_pop(c))) {
            print_msg("send: ", msg);
        }
        while ((msg = ofconn_pop_received(c))) {
            print_msg("owner: ", msg);
        }
        printf("state: %s", ofconn_state_to_string(ofconn_get_state(c)));
        if (ofconn_get_state(c) == OFCONN_ACTIVE) {
            printf(" %s",
                   ofputil_version_to_string(ofconn_get_version(c)));
        }
        putchar('\n');
    }
    fclose(file);

    const struct ofconn_stats *st = ofconn_get_stats(c);
    printf("received=%llu sent=%llu echo_requests=%llu echo_replies=%llu "
           "errors=%llu\n", st->n_received, st->n_sent,
           st->n_echo_requests, st->n_echo_replies, st->n_errors);
    ofconn_destroy(c);
    return EXIT_SUCCESS;
}

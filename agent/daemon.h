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

#ifndef IOVP_DAEMON_H
#define IOVP_DAEMON_H 1

/* Becoming a daemon the way Open vSwitch's daemons do: --detach forks into
 * the background, and the foreground process exits only once the daemon
 * says it is ready (its control socket listening), with a failure status
 * if it died first; --pidfile writes a locked pidfile, so that a second
 * instance cannot take it over; --user=USER[:GROUP] makes the daemon, once
 * it holds what only root may open, run as USER and GROUP with no
 * capabilities but the ones it names (libcap-ng, as Open vSwitch's
 * daemon-unix.c does it). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A daemon's state while it starts, owned by main(). */
struct daemon {
    int notify_fd;              /* Tells the waiting parent, or -1. */
    bool chdir_root;            /* chdir("/") once ready? */
    char *pidfile;              /* Pidfile's name, or NULL. */
    int pidfile_fd;             /* Holds the pidfile's lock, or -1. */

    /* --user. */
    bool switch_user;           /* Drop to 'uid' and 'gid'? */
    char *user;                 /* The user's name, or NULL. */
    uid_t uid;
    gid_t gid;
};

void daemon_init(struct daemon *);
int daemon_detach_start(struct daemon *);
char *daemon_pidfile_create(struct daemon *, const char *file_name);
char *daemon_set_user(struct daemon *, const char *user_spec);
char *daemon_chown(const struct daemon *, const char *file_name);
char *daemon_drop_privileges(struct daemon *, uint64_t keep);
char *daemon_capabilities_to_string(uint64_t caps);
void daemon_ready(struct daemon *);
void daemon_destroy(struct daemon *);

#endif /* daemon.h */

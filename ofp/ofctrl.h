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

#ifndef IOVP_OFP_OFCTRL_H
#define IOVP_OFP_OFCTRL_H 1

/* iovpd's flows on the switch, as ovn-controller's ofctrl keeps them: for
 * now the installed side, read from the switch.  No I/O.
 *
 * Every flow iovpd installs carries a cookie whose top 16 bits are
 * OFCTRL_COOKIE_MAGIC (the rest will name the flow's origin), so that iovpd
 * tells its flows from anyone else's.  When a connection becomes active,
 * ofctrl asks the switch for the flows with that mark, so that an iovpd
 * that restarts, or reconnects, knows what the switch already holds before
 * it changes anything.  The desired side, and sending the difference in a
 * bundle, come next. */

#include <stdbool.h>
#include <stddef.h>

#include <openflow/openflow.h>

struct ofpbuf;
struct ofctrl;

#define OFCTRL_COOKIE_MAGIC 0x10f0000000000000ULL
#define OFCTRL_COOKIE_MASK  0xffff000000000000ULL

struct ofctrl *ofctrl_create(void);
void ofctrl_destroy(struct ofctrl *);

struct ofpbuf *ofctrl_connected(struct ofctrl *, enum ofp_version);
void ofctrl_disconnected(struct ofctrl *);
bool ofctrl_receive(struct ofctrl *, const struct ofpbuf *);

bool ofctrl_has_installed(const struct ofctrl *);
size_t ofctrl_n_installed(const struct ofctrl *);
char *ofctrl_installed_text(const struct ofctrl *);

#endif /* ofp/ofctrl.h */

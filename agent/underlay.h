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

#ifndef IOVP_AGENT_UNDERLAY_H
#define IOVP_AGENT_UNDERLAY_H 1

/* The underlay, which belongs to the operator: whether the tunnel address
 * is where Open vSwitch's tunnelling can send from.  Reads the host's
 * addresses (getifaddrs()) in the network namespace iovpd shares with
 * ovs-vswitchd. */

#include <stdbool.h>

struct odb_idl;

char *underlay_check(const struct odb_idl *ovs, const char *tunnel_ip,
                     bool userspace);

#endif /* agent/underlay.h */

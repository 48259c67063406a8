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

#include "agent/pipeline-tables.h"


#include "lib/util.h"
#include "ofp/ofctrl.h"

/* Returns the hash of "'prefix':'name'" (an ACL's flows ask for it once
 * each, a hundred thousand times at a sync: it makes no string). */
static uint64_t
pipeline_hash_name(const char *prefix, const char *name)
{
    uint64_t hash = iovp_hash_string64(prefix);

    return iovp_hash_string64_more(iovp_hash_string64_more(hash, ":"), name);
}

/* Returns the origin (the low 48 bits of the cookie, ofctrl_cookie()) of
 * the flows of the port called 'port_name'. */
uint64_t
pipeline_port_origin(const char *port_name)
{
    return pipeline_hash_name("port", port_name) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the origin of the flows of the logical switch called 'ls_name'
 * (its flooding). */
uint64_t
pipeline_ls_origin(const char *ls_name)
{
    return pipeline_hash_name("ls", ls_name) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the origin of the flows of the tunnel to the VTEP at 'ip'. */
uint64_t
pipeline_tunnel_origin(const char *ip)
{
    return pipeline_hash_name("tunnel", ip) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the metadata that frames in the logical switch called 'ls_name'
 * carry from table 0 on. */
uint64_t
pipeline_ls_metadata(const char *ls_name)
{
    return pipeline_hash_name("ls", ls_name);
}

/* Returns the id of the ACL called 'acl_name' in the pipeline's registers:
 * a hash of its name, never 0 (which means "no ACL"). */
uint64_t
pipeline_acl_id(const char *acl_name)
{
    uint64_t id = pipeline_hash_name("acl", acl_name);

    return id ? id : 1;
}

/* Returns the origin of the flows of ACL 'acl_name'. */
uint64_t
pipeline_acl_origin(const char *acl_name)
{
    return pipeline_acl_id(acl_name) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the id of the meter of the binding for 'vlan' (0 for a port in
 * OpenFlow mode) of the VM port on OpenFlow port 'ofport' (below 0xff00):
 * of what the VM sends, or with 'receive' of what it receives.  OVS keeps
 * a port's number across restarts, and no two bindings share an id. */
uint32_t
pipeline_meter_id(int ofport, int vlan, bool receive)
{
    return (PIPELINE_METER_BASE | (uint32_t) (ofport & 0xffff) << 13
            | (uint32_t) (vlan & 0xfff) << 1 | receive);
}

/* Returns the origin of the flows of the load balancer whose row has UUID
 * 'lb_uuid'. */
uint64_t
pipeline_lb_origin(const char *lb_uuid)
{
    return pipeline_hash_name("lb", lb_uuid) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the conntrack zone of the load balancers of logical switch
 * 'ls_name': one of 0xff00 to 0xffef, below the zone of fragments
 * (PIPELINE_CT_ZONE_DEFRAG) and above those of output ports (a VM port's
 * OpenFlow port number, below 0xff00).  Two logical switches whose names
 * hash alike share a zone: their clients then must not share an
 * address. */
int
pipeline_lb_zone(const char *ls_name)
{
    return 0xff00 + pipeline_hash_name("lb-zone", ls_name) % 0xf0;
}

/* Returns the origin of the flows of the capture whose row has UUID
 * 'capture_uuid'. */
uint64_t
pipeline_capture_origin(const char *capture_uuid)
{
    return pipeline_hash_name("capture", capture_uuid) & ~OFCTRL_COOKIE_MASK;
}

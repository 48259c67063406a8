# Copyright (c) 2026 The iovp authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""An os-ken application that a test drives, line by line: it reads
commands from the file named by $OSKEN_SCRIPT as lines are added to it,
sends each to the switch that connected (OpenFlow 1.3), and writes what
comes back, one a line, to the file named by $OSKEN_LOG.  Commands:

    role master|slave|equal|nochange GENERATION
    flow PRIORITY COOKIE [IDLE] a flow in table 0 matching nothing but
                                that priority, dropping, OFPFF_SEND_FLOW_REM,
                                with an idle timeout of IDLE seconds (none
                                by default)
    barrier
    echo TEXT                   writes TEXT to the log (a marker)

and what it logs: "switch DPID", "role ROLE GENERATION", "error TYPE CODE"
(OpenFlow's numbers), "barrier", "flow-removed COOKIE REASON",
"port-status REASON PORT NAME", "role-status ROLE REASON GENERATION" (the
ONF extension that carries OpenFlow 1.4's role status in 1.3)."""

import os
import struct

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

ROLES = {"master": 2, "slave": 3, "equal": 1, "nochange": 0}
ROLE_NAMES = {v: k for k, v in ROLES.items()}


def log(line):
    with open(os.environ["OSKEN_LOG"], "a") as f:
        f.write(line + "\n")


class Script(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dp = None
        self.done = 0
        hub.spawn(self.run)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        self.dp = ev.msg.datapath
        log("switch %016x" % self.dp.id)

    def run(self):
        while True:
            hub.sleep(0.1)
            if self.dp is None or not os.path.exists(os.environ["OSKEN_SCRIPT"]):
                continue
            with open(os.environ["OSKEN_SCRIPT"]) as f:
                lines = f.read().splitlines()
            for line in lines[self.done:]:
                self.command(line.split())
            self.done = len(lines)

    def command(self, words):
        dp = self.dp
        ofp, parser = dp.ofproto, dp.ofproto_parser
        if words[0] == "role":
            dp.send_msg(parser.OFPRoleRequest(dp, ROLES[words[1]],
                                              int(words[2])))
        elif words[0] == "flow":
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, priority=int(words[1]), cookie=int(words[2]),
                idle_timeout=int(words[3]) if len(words) > 3 else 0,
                flags=ofp.OFPFF_SEND_FLOW_REM, match=parser.OFPMatch(),
                instructions=[]))
        elif words[0] == "barrier":
            dp.send_msg(parser.OFPBarrierRequest(dp))
        elif words[0] == "echo":
            log(" ".join(words[1:]))

    @set_ev_cls(ofp_event.EventOFPRoleReply, MAIN_DISPATCHER)
    def role_reply(self, ev):
        log("role %s %d" % (ROLE_NAMES[ev.msg.role], ev.msg.generation_id))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error(self, ev):
        log("error %d %d" % (ev.msg.type, ev.msg.code))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier(self, ev):
        log("barrier")

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed(self, ev):
        log("flow-removed %d %d" % (ev.msg.cookie, ev.msg.reason))

    @set_ev_cls(ofp_event.EventOFPExperimenter, MAIN_DISPATCHER)
    def experimenter(self, ev):
        if ev.msg.experimenter == 0x4f4e4600 and ev.msg.exp_type == 1911:
            role, reason, generation = struct.unpack("!IB3xQ",
                                                     ev.msg.data[:16])
            log("role-status %s %d %d" % (ROLE_NAMES[role], reason,
                                          generation))

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status(self, ev):
        log("port-status %d %d %s" % (ev.msg.reason, ev.msg.desc.port_no,
                                      ev.msg.desc.name.decode()))

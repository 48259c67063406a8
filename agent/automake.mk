# agent/: iovpd, the host agent.

# Everything of iovpd but its main(), in a library that the tests link too.
noinst_LIBRARIES += agent/libagent.a
agent_libagent_a_SOURCES = \
	agent/acl.c \
	agent/acl.h \
	agent/agent-appctl.c \
	agent/agent-capture.c \
	agent/agent-northbound.c \
	agent/agent-private.h \
	agent/agent-reconcile.c \
	agent/agent-snapshot.c \
	agent/agent-stats.c \
	agent/agent.c \
	agent/agent.h \
	agent/bridge.c \
	agent/bridge.h \
	agent/daemon.c \
	agent/daemon.h \
	agent/engine.c \
	agent/engine.h \
	agent/overlay.c \
	agent/overlay.h \
	agent/pipeline-tables.c \
	agent/pipeline-tables.h \
	agent/pipeline.c \
	agent/pipeline.h \
	agent/ports.c \
	agent/ports.h \
	agent/reference.c \
	agent/reference.h \
	agent/report.c \
	agent/report.h \
	agent/show.c \
	agent/show.h \
	agent/switch-ports.c \
	agent/switch-ports.h \
	agent/trace.c \
	agent/trace.h \
	agent/underlay.c \
	agent/underlay.h \
	agent/translate.c \
	agent/translate.h \
	agent/vm-ports.c \
	agent/vm-ports.h \
	agent/vtep-scope.c \
	agent/vtep-scope.h \
	agent/xlate-acl.c \
	agent/xlate-acl.h \
	agent/xlate-capture.c \
	agent/xlate-capture.h \
	agent/xlate-lb.c \
	agent/xlate-lb.h \
	agent/xlate-nic.c \
	agent/xlate-nic.h \
	agent/xlate-offload.c \
	agent/xlate-offload.h \
	agent/xlate-steer.c \
	agent/xlate-steer.h
agent_libagent_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OVS_CFLAGS) $(CAPNG_CFLAGS)

sbin_PROGRAMS += agent/iovpd
agent_iovpd_SOURCES = agent/iovpd.c
agent_iovpd_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OVS_CFLAGS)
agent_iovpd_LDADD = agent/libagent.a northbound/libnorthbound.a model/libmodel.a offload/liboffload.a ofp/libofp.a ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) $(UV_LIBS) $(OPENSSL_LIBS) $(BPF_LIBS) $(CAPNG_LIBS) $(OVS_LIBS)

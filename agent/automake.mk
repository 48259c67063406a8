# agent/: iovpd, the host agent.

sbin_PROGRAMS += agent/iovpd
agent_iovpd_SOURCES = \
	agent/acl.c \
	agent/acl.h \
	agent/agent.c \
	agent/agent.h \
	agent/bridge.c \
	agent/bridge.h \
	agent/daemon.c \
	agent/daemon.h \
	agent/iovpd.c \
	agent/pipeline.c \
	agent/pipeline.h \
	agent/report.c \
	agent/report.h \
	agent/show.c \
	agent/show.h \
	agent/trace.c \
	agent/trace.h \
	agent/vm-ports.c \
	agent/vm-ports.h \
	agent/xlate-acl.c \
	agent/xlate-acl.h
agent_iovpd_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OVS_CFLAGS)
agent_iovpd_LDADD = ofp/libofp.a ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) $(UV_LIBS) $(OVS_LIBS)

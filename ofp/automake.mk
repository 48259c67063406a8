# ofp/: OpenFlow over libopenvswitch: the protocol of a connection to the
# switch, flows and tables of them, and ofctrl (desired and installed
# flows).

noinst_LIBRARIES += ofp/libofp.a
ofp_libofp_a_SOURCES = \
	ofp/client.c \
	ofp/client.h \
	ofp/server.c \
	ofp/server.h \
	ofp/desired.c \
	ofp/desired.h \
	ofp/ofconn.c \
	ofp/ofconn.h \
	ofp/ofctrl.c \
	ofp/ofctrl.h \
	ofp/oflow.c \
	ofp/oflow.h
ofp_libofp_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) $(OVS_CFLAGS)

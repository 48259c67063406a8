# lib/: what iovpd and iovp-ofctl share.

noinst_LIBRARIES += lib/libiovp.a
lib_libiovp_a_SOURCES = \
	lib/byte-client.c \
	lib/byte-client.h \
	lib/byte-stream.c \
	lib/byte-stream.h \
	lib/control-client.c \
	lib/control-client.h \
	lib/control-vlog.c \
	lib/control.c \
	lib/control.h \
	lib/json-decode.c \
	lib/json-decode.h \
	lib/json-encode.c \
	lib/json-encode.h \
	lib/jsonrpc-client.c \
	lib/jsonrpc-client.h \
	lib/jsonrpc-stream.c \
	lib/jsonrpc-stream.h \
	lib/jsonrpc.c \
	lib/jsonrpc.h \
	lib/loop-lag.c \
	lib/loop-lag.h \
	lib/reconnect.c \
	lib/reconnect.h \
	lib/tls.c \
	lib/tls.h \
	lib/util.c \
	lib/util.h
lib_libiovp_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OPENSSL_CFLAGS) $(OVS_CFLAGS)

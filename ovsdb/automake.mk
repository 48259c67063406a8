# ovsdb/: the OVSDB client: schemas and values, the replica, the protocol
# session, and the client that puts them on a connection.

noinst_LIBRARIES += ovsdb/libovsdb.a
ovsdb_libovsdb_a_SOURCES = \
	ovsdb/client.c \
	ovsdb/client.h \
	ovsdb/datum.c \
	ovsdb/datum.h \
	ovsdb/idl.c \
	ovsdb/idl.h \
	ovsdb/query.c \
	ovsdb/query.h \
	ovsdb/replica.c \
	ovsdb/replica.h \
	ovsdb/schema.c \
	ovsdb/schema.h \
	ovsdb/session.c \
	ovsdb/session.h
ovsdb_libovsdb_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OVS_CFLAGS)

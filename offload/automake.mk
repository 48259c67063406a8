# offload/: the fast path a NIC runs for each VM port, the backends that run
# it, and the planner that chooses what goes into it.

noinst_LIBRARIES += offload/liboffload.a
offload_liboffload_a_SOURCES = \
	offload/backend.c \
	offload/backend.h \
	offload/fastpath.c \
	offload/fastpath.h \
	offload/nicctrl.c \
	offload/nicctrl.h \
	offload/planner.c \
	offload/planner.h \
	offload/sim.c \
	offload/sim.h
offload_liboffload_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OVS_CFLAGS)

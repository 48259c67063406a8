# northbound/: the OpenFlow switch that iovpd is to the datacenter
# controller: the controller's view of the host and its translation into
# the integration bridge's tables (agent/pipeline-tables.h).

noinst_LIBRARIES += northbound/libnorthbound.a
northbound_libnorthbound_a_SOURCES = \
	northbound/switch.c \
	northbound/switch.h \
	northbound/xlate.c \
	northbound/xlate.h
northbound_libnorthbound_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(OVS_CFLAGS)

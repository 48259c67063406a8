# utilities/: command line tools.

bin_PROGRAMS += utilities/iovp-ofctl
utilities_iovp_ofctl_SOURCES = utilities/iovp-ofctl.c
utilities_iovp_ofctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OVS_CFLAGS)
utilities_iovp_ofctl_LDADD = lib/libiovp.a $(JANSSON_LIBS) $(OVS_LIBS)

# schemas/: iovp's OVSDB schema, hardware_vtep 1.7.0 and iovp's own tables.

pkgdata_DATA = schemas/iovp.ovsschema
EXTRA_DIST += schemas/iovp.ovsschema

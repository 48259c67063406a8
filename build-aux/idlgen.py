#!/usr/bin/env python3
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

"""idlgen.py: generates a typed model of an OVSDB database (ovsdb/idl.h).

usage: idlgen.py --prefix=PREFIX (--header|--source) SCHEMA SPEC

Reads the OVSDB schema SCHEMA and the spec SPEC, and writes on standard
output the C header (--header) or source (--source) of the model of the
tables and columns that SPEC names.  The source includes the header as
"DIR/BASE.h", DIR and BASE from the spec's path (model/vtep.idl gives
"model/vtep-idl.h").

The spec: one line per table, '#' to the end of a line is a comment:

    Table column column ...     these columns of Table
    Table *                     every column of Table in SCHEMA
    Table? ...                  an optional table: monitored only when the
                                server's schema has it

The model monitors what it names: the named columns, or for "*" every
column the server has (so that a server without one of them still
serves).  A reference to a table that SPEC names is a pointer to that
table's struct; to any other table, the uuid as text.

For each table T (Physical_Port gives "physical_port" and
"PHYSICAL_PORT"), the header declares:

    struct PREFIX_T { struct odb_idl_row header_; ...members... };
    enum { PREFIX_T_COL_C, ..., PREFIX_T_N_COLUMNS };
    PREFIX_T_FOR_EACH (row, idl), PREFIX_T_FOR_EACH_TRACKED (row, idl)
    PREFIX_T_get(idl, uuid), PREFIX_T_first(idl), PREFIX_T_next(row)
    PREFIX_T_is_new(row), PREFIX_T_is_deleted(row),
    PREFIX_T_is_updated(row, PREFIX_T_COL_C)

and for the database: enum { PREFIX_TABLE_T, ..., PREFIX_N_TABLES },
PREFIX_idl_class, PREFIX_idl_create(), PREFIX_idl_monitor[] and
PREFIX_idl_n_monitor.  Members follow ovsdb/idl.h's C types.

Only Python's standard library is used."""

import getopt
import json
import os
import sys

C_KEYWORDS = set("""auto break case char const continue default do double else
enum extern float for goto if inline int long register restrict return short
signed sizeof static struct switch typedef union unsigned void volatile while
bool""".split())

ATOMIC = {
    "integer": "ODB_TYPE_INTEGER",
    "real": "ODB_TYPE_REAL",
    "boolean": "ODB_TYPE_BOOLEAN",
    "string": "ODB_TYPE_STRING",
    "uuid": "ODB_TYPE_UUID",
}


class Error(Exception):
    pass


def parse_spec(path, schema):
    """Returns [(table, optional, [columns] or None for all)]."""
    tables = []
    seen = set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            name, optional = words[0], False
            if name.endswith("?"):
                name, optional = name[:-1], True
            where = "%s:%d" % (path, n)
            if name not in schema["tables"]:
                raise Error("%s: schema has no table %s" % (where, name))
            if name in seen:
                raise Error("%s: table %s named twice" % (where, name))
            seen.add(name)
            columns = words[1:]
            if columns == ["*"]:
                columns = None
            elif not columns:
                raise Error("%s: no columns for %s (use *)" % (where, name))
            else:
                for c in columns:
                    if c not in schema["tables"][name]["columns"]:
                        raise Error("%s: table %s has no column %s"
                                    % (where, name, c))
                if len(set(columns)) != len(columns):
                    raise Error("%s: a column named twice" % where)
            tables.append((name, optional, columns))
    return tables


def base_type(b):
    """Returns (type, refTable or None) of a <base-type>."""
    if isinstance(b, str):
        return b, None
    return b["type"], b.get("refTable")


def column_type(t):
    """Returns (key, value or None, n_min, n_max) of a <type>; n_max None
    for unlimited."""
    if isinstance(t, str):
        return base_type(t), None, 1, 1
    key = base_type(t["key"])
    value = base_type(t["value"]) if "value" in t else None
    n_min = t.get("min", 1)
    n_max = t.get("max", 1)
    return key, value, n_min, None if n_max == "unlimited" else n_max


def ident(name):
    return name + "_" if name in C_KEYWORDS else name


class Model:
    def __init__(self, prefix, schema, spec):
        self.prefix = prefix
        self.schema = schema
        self.tables = []        # (name, lower, optional, monitor, [cols])
        self.index = {}
        for name, optional, monitor in spec:
            self.index[name] = len(self.tables)
            all_columns = sorted(schema["tables"][name]["columns"])
            columns = monitor if monitor is not None else all_columns
            if len(columns) > 64:
                raise Error("table %s: more than 64 columns" % name)
            self.tables.append((name, name.lower(), optional, monitor,
                                columns))

    def ref(self, base):
        """The model's table index of a uuid base's refTable, or None."""
        type_, ref = base
        if type_ == "uuid" and ref in self.index:
            return self.index[ref]
        return None

    def ctype(self, base):
        type_, ref = base
        idx = self.ref(base)
        if idx is not None:
            return "struct %s_%s *" % (self.prefix, self.tables[idx][1])
        return {"integer": "int64_t ", "real": "double ",
                "boolean": "bool ", "string": "char *",
                "uuid": "char *"}[type_]

    def members(self, table, column):
        """Returns the C declarations of the members of 'column'."""
        t = self.schema["tables"][table]["columns"][column]["type"]
        key, value, n_min, n_max = column_type(t)
        c = ident(column)
        if value is not None:
            return ["%s*key_%s;" % (self.ctype(key), column),
                    "%s*value_%s;" % (self.ctype(value), column),
                    "size_t n_%s;" % column]
        if n_max is None or n_max > 1:
            return ["%s*%s;" % (self.ctype(key), c), "size_t n_%s;" % column]
        if key[0] in ("string", "uuid") or n_min == 1:
            return ["%s%s;" % (self.ctype(key), c)]
        # At most one number or boolean: in place.  Its count, 0 or 1, is
        # a byte at the end of the struct (optional_counts()).
        return ["%s%s[1];" % (self.ctype(key), c)]

    def is_optional(self, table, column):
        """True if 'column' holds at most one number or boolean."""
        t = self.schema["tables"][table]["columns"][column]["type"]
        key, value, n_min, n_max = column_type(t)
        return (value is None and n_max == 1 and n_min == 0
                and key[0] not in ("string", "uuid"))

    def optional_counts(self, table, columns):
        """Returns the declarations of the counts of the optional numbers
        and booleans among 'columns': a byte each, together, so that they
        pack."""
        return ["uint8_t n_%s;" % c for c in columns
                if self.is_optional(table, c)]

    def column_class(self, table, lower, column):
        t = self.schema["tables"][table]["columns"][column]["type"]
        key, value, n_min, n_max = column_type(t)
        struct = "struct %s_%s" % (self.prefix, lower)
        c = ident(column)

        def base(b):
            if b is None:
                return "{ ODB_TYPE_VOID, -1 }"
            idx = self.ref(b)
            return "{ %s, %s }" % (ATOMIC[b[0]],
                                   -1 if idx is None else
                                   "%s_TABLE_%s" % (self.prefix.upper(),
                                                    self.tables[idx][1]
                                                    .upper()))
        lines = [".name = \"%s\"," % column,
                 ".key = %s," % base(key),
                 ".value = %s," % base(value),
                 ".n_min = %d," % n_min,
                 ".n_max = %s," % ("UINT_MAX" if n_max is None else n_max)]
        if value is not None:
            lines += [".offset = offsetof(%s, key_%s)," % (struct, column),
                      ".value_offset = offsetof(%s, value_%s)," % (struct,
                                                                    column),
                      ".n_offset = offsetof(%s, n_%s)," % (struct, column)]
        else:
            lines.append(".offset = offsetof(%s, %s)," % (struct, c))
            if (len(self.members(table, column)) > 1
                    or self.is_optional(table, column)):
                lines.append(".n_offset = offsetof(%s, n_%s)," % (struct,
                                                                  column))
        return lines


def type_comment(schema, table, column):
    t = schema["tables"][table]["columns"][column]["type"]
    key, value, n_min, n_max = column_type(t)

    def b(x):
        return x[0] + ("(%s)" % x[1] if x[1] else "")
    s = b(key) if value is None else "%s=>%s" % (b(key), b(value))
    if (n_min, n_max) != (1, 1):
        s += " [%d..%s]" % (n_min, "*" if n_max is None else n_max)
    return s


def write_header(m, guard, out):
    P = m.prefix.upper()
    p = m.prefix
    w = out.append
    w("/* Generated by build-aux/idlgen.py from %s: do not edit. */"
      % m.schema["name"])
    w("")
    w("#ifndef %s" % guard)
    w("#define %s 1" % guard)
    w("")
    w("#include <stdbool.h>")
    w("#include <stddef.h>")
    w("#include <stdint.h>")
    w("")
    w("#include <openvswitch/util.h>")
    w("")
    w("#include \"ovsdb/idl.h\"")
    w("#include \"ovsdb/replica.h\"")
    w("")
    w("/* The tables of the model of %s. */" % m.schema["name"])
    w("enum %s_table_id {" % p)
    for name, lower, _, _, _ in m.tables:
        w("    %s_TABLE_%s," % (P, lower.upper()))
    w("    %s_N_TABLES" % P)
    w("};")
    w("")
    for name, lower, _, _, _ in m.tables:
        w("struct %s_%s;" % (p, lower))
    w("")
    w("extern const struct odb_idl_class %s_idl_class;" % p)
    w("")
    w("/* What to monitor for this model (odb_replica_create()). */")
    w("extern const struct odb_monitor_table %s_idl_monitor[];" % p)
    w("extern const size_t %s_idl_n_monitor;" % p)
    w("")
    w("/* Returns a new, empty model (odb_idl_destroy() frees it). */")
    w("static inline struct odb_idl *")
    w("%s_idl_create(void)" % p)
    w("{")
    w("    return odb_idl_create(&%s_idl_class);" % p)
    w("}")
    for name, lower, optional, monitor, columns in m.tables:
        s = "%s_%s" % (p, lower)
        S = s.upper()
        w("")
        w("/* Table %s%s. */" % (name, " (optional)" if optional else ""))
        w("struct %s {" % s)
        w("    struct odb_idl_row header_;")
        for c in columns:
            w("")
            w("    /* %s: %s. */" % (c, type_comment(m.schema, name, c)))
            for decl in m.members(name, c):
                w("    %s" % decl)
        counts = m.optional_counts(name, columns)
        if counts:
            w("")
            w("    /* The counts, 0 or 1, of the optional numbers and "
              "booleans above. */")
            for decl in counts:
                w("    %s" % decl)
        w("};")
        w("")
        w("enum %s_column_id {" % s)
        for c in columns:
            w("    %s_COL_%s," % (S, c.upper()))
        w("    %s_N_COLUMNS" % S)
        w("};")
        w("")
        w("static inline const struct %s *" % s)
        w("%s_cast__(const struct odb_idl_row *row)" % s)
        w("{")
        w("    return row ? CONTAINER_OF(row, struct %s, header_) : NULL;"
          % s)
        w("}")
        w("")
        w("/* Returns the live row of %s with 'uuid', or NULL. */" % name)
        w("static inline const struct %s *" % s)
        w("%s_get(const struct odb_idl *idl, const char *uuid)" % s)
        w("{")
        w("    return %s_cast__(odb_idl_get(idl, &%s_idl_class, %s_TABLE_%s,"
          % (s, p, P, lower.upper()))
        w("                                 uuid));")
        w("}")
        w("")
        w("/* Returns the live row of %s whose string column 'column' is"
          % name)
        w(" * 'value', or NULL; of several, the one with the lowest UUID. */")
        w("static inline const struct %s *" % s)
        w("%s_find_by_string(const struct odb_idl *idl," % s)
        w("    enum %s_column_id column, const char *value)" % s)
        w("{")
        w("    return %s_cast__(odb_idl_find_by_string(" % s)
        w("        idl, &%s_idl_class, %s_TABLE_%s, column, value));"
          % (p, P, lower.upper()))
        w("}")
        w("")
        # The rows, and the tracked rows: a first and a next of each.
        for kind in ("", "track_"):
            w("static inline const struct %s *" % s)
            w("%s_%sfirst(const struct odb_idl *idl)" % (s, kind))
            w("{")
            w("    return %s_cast__(odb_idl_%sfirst(" % (s, kind))
            w("        idl, &%s_idl_class, %s_TABLE_%s));"
              % (p, P, lower.upper()))
            w("}")
            w("")
            w("static inline const struct %s *" % s)
            w("%s_%snext(const struct %s *row)" % (s, kind, s))
            w("{")
            w("    return %s_cast__(odb_idl_%snext(&row->header_));"
              % (s, kind))
            w("}")
            w("")
        w("/* Each live row of %s, in no particular order. */" % name)
        w("#define %s_FOR_EACH(ROW, IDL) \\" % S)
        w("    for ((ROW) = %s_first(IDL); (ROW); (ROW) = %s_next(ROW))"
          % (s, s))
        w("")
        w("/* Each row of %s that the batches since the tracking was last" %
          name)
        w(" * cleared inserted, modified or deleted. */")
        w("#define %s_FOR_EACH_TRACKED(ROW, IDL) \\" % S)
        w("    for ((ROW) = %s_track_first(IDL); (ROW); \\" % s)
        w("         (ROW) = %s_track_next(ROW))" % s)
        w("")
        w("static inline bool")
        w("%s_is_new(const struct %s *row)" % (s, s))
        w("{")
        w("    return odb_idl_row_is_new(&row->header_);")
        w("}")
        w("")
        w("static inline bool")
        w("%s_is_deleted(const struct %s *row)" % (s, s))
        w("{")
        w("    return odb_idl_row_is_deleted(&row->header_);")
        w("}")
        w("")
        w("static inline bool")
        w("%s_is_updated(const struct %s *row, enum %s_column_id column)"
          % (s, s, s))
        w("{")
        w("    return odb_idl_row_is_updated(&row->header_, column);")
        w("}")
    w("")
    w("#endif /* %s */" % guard)


def write_source(m, header, out):
    p = m.prefix
    w = out.append
    w("/* Generated by build-aux/idlgen.py from %s: do not edit. */"
      % m.schema["name"])
    w("")
    w("#include <config.h>")
    w("")
    w("#include \"%s\"" % header)
    w("")
    w("#include <limits.h>")
    w("#include <stddef.h>")
    for name, lower, optional, monitor, columns in m.tables:
        s = "%s_%s" % (p, lower)
        S = s.upper()
        w("")
        w("static const struct odb_idl_column %s_columns[] = {" % s)
        for c in columns:
            w("    [%s_COL_%s] = {" % (S, c.upper()))
            for line in m.column_class(name, lower, c):
                w("        %s" % line)
            w("    },")
        w("};")
        if monitor is not None:
            w("")
            w("static const char *const %s_monitor[] = {" % s)
            for c in monitor:
                w("    \"%s\"," % c)
            w("    NULL,")
            w("};")
    w("")
    w("static const struct odb_idl_table_class %s_tables[] = {" % p)
    for name, lower, optional, monitor, columns in m.tables:
        s = "%s_%s" % (p, lower)
        w("    [%s_TABLE_%s] = {" % (p.upper(), lower.upper()))
        w("        .name = \"%s\"," % name)
        w("        .columns = %s_columns," % s)
        w("        .n_columns = %d," % len(columns))
        w("        .row_size = sizeof(struct %s)," % s)
        w("    },")
    w("};")
    w("")
    w("const struct odb_idl_class %s_idl_class = {" % p)
    w("    .database = \"%s\"," % m.schema["name"])
    w("    .tables = %s_tables," % p)
    w("    .n_tables = %s_N_TABLES," % p.upper())
    w("};")
    w("")
    w("const struct odb_monitor_table %s_idl_monitor[] = {" % p)
    for name, lower, optional, monitor, columns in m.tables:
        s = "%s_%s" % (p, lower)
        fields = [".table = \"%s\"" % name]
        if monitor is not None:
            fields.append(".columns = %s_monitor" % s)
        if optional:
            fields.append(".optional = true")
        w("    { %s }," % ", ".join(fields))
    w("};")
    w("")
    w("const size_t %s_idl_n_monitor = %d;" % (p, len(m.tables)))


def main(argv):
    try:
        opts, args = getopt.gnu_getopt(argv[1:], "",
                                       ["prefix=", "header", "source",
                                        "help"])
    except getopt.GetoptError as e:
        sys.stderr.write("idlgen.py: %s\n" % e)
        return 1
    prefix, mode = None, None
    for o, a in opts:
        if o == "--prefix":
            prefix = a
        elif o in ("--header", "--source"):
            mode = o[2:]
        elif o == "--help":
            print(__doc__)
            return 0
    if not prefix or not mode or len(args) != 2:
        sys.stderr.write("usage: idlgen.py --prefix=PREFIX "
                         "(--header|--source) SCHEMA SPEC\n")
        return 1
    schema_path, spec_path = args
    try:
        with open(schema_path) as f:
            schema = json.load(f)
        spec = parse_spec(spec_path, schema)
        m = Model(prefix, schema, spec)
    except (OSError, ValueError, KeyError, Error) as e:
        sys.stderr.write("idlgen.py: %s\n" % e)
        return 1

    directory = os.path.basename(os.path.dirname(os.path.abspath(spec_path)))
    base = os.path.splitext(os.path.basename(spec_path))[0] + "-idl"
    header = "%s/%s.h" % (directory, base)
    out = []
    if mode == "header":
        guard = "IOVP_%s_%s_H" % (directory.upper(),
                                  base.upper().replace("-", "_"))
        write_header(m, guard, out)
    else:
        write_source(m, header, out)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

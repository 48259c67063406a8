/*
 * Copyright (c) 2026 The iovp authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/* "test-iovp ovsdb-datum FILE": a transcript of ovsdb/schema.c and
 * ovsdb/datum.c.  Reads FILE a line at a time; blank lines and lines that
 * begin with "#" are skipped; each other line is a command, whose output
 * is a line or a few:
 *
 *   schema JSON                  parses the schema (its JSON may continue
 *                                on the lines after); prints its tables
 *                                and columns with their types, or the
 *                                error
 *   schema-file FILE             parses the schema in FILE; prints its name,
 *                                version and numbers of tables and columns
 *   table TABLE                  prints TABLE as "schema" does
 *   column TABLE COLUMN          prints COLUMN's type
 *   value TABLE COLUMN JSON      prints "TABLE.COLUMN JSON => CANONICAL"
 *   diff TABLE COLUMN OLD DIFF   makes OLD canonical, applies DIFF, prints
 *                                "TABLE.COLUMN OLD + DIFF => NEW"
 *   default TABLE COLUMN         prints the column's default value
 *   compare TYPE JSON JSON       prints odb_atom_compare()'s sign
 *
 * with "error: ..." in place of a result that is an error.  JSON is printed
 * compact, as jansson writes it.  The last "schema" or "schema-file" that
 * succeeded is the one that the other commands use. */

#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "ovsdb/datum.h"
#include "ovsdb/schema.h"
#include "tests/test-iovp.h"

/* Returns 'json' as compact JSON, malloc()'d. */
static char *
to_string(const json_t *json)
{
    return json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Parses the JSON value at the start of '*s' and advances '*s' past it and
 * the white space after it.  Returns the value, a new reference, or NULL
 * after printing an error. */
static json_t *
next_json(const char **s)
{
    json_error_t error;
    json_t *json = json_loads(*s, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK,
                              &error);
    if (!json) {
        printf("input error: %s\n", error.text);
        return NULL;
    }
    *s += error.position;
    *s += strspn(*s, " \t");
    return json;
}

/* Splits the next word off '*s', which it advances, and returns it, or NULL
 * if there is none.  Modifies the string. */
static char *
next_word(char **s)
{
    char *word = *s + strspn(*s, " \t");
    if (!*word) {
        return NULL;
    }
    char *end = word + strcspn(word, " \t");
    *s = end + strspn(end, " \t");
    if (*end) {
        *end = '\0';
    }
    return word;
}

/* Prints ": ", the type of 'column' and its flags, and a new line. */
static void
print_column_type(const struct odb_column *column)
{
    char *type = odb_type_to_string(&column->type);

    printf(": %s%s%s\n", type,
           column->ephemeral ? ", ephemeral" : "",
           column->mutable_ ? "" : ", immutable");
    free(type);
}

/* Prints table 'ts', with its columns and their types. */
static void
print_table(const struct odb_table_schema *ts)
{
    printf("table %s:", ts->name);
    printf(" %s", ts->is_root ? "root" : "non-root");
    if (ts->max_rows != LLONG_MAX) {
        printf(", maxRows %lld", ts->max_rows);
    }
    if (!ts->mutable_) {
        printf(", immutable");
    }
    for (size_t i = 0; i < ts->n_indexes; i++) {
        const struct odb_index *index = &ts->indexes[i];

        printf("%s", i ? " " : ", indexes ");
        for (size_t j = 0; j < index->n_columns; j++) {
            printf("%c%s", j ? ',' : '(', index->columns[j]->name);
        }
        putchar(')');
    }
    putchar('\n');

    for (size_t i = 0; i < ts->n_columns; i++) {
        printf("  %s", ts->columns[i].name);
        print_column_type(&ts->columns[i]);
    }
}

/* Prints the counts of 'schema''s tables and columns. */
static void
print_schema_brief(const struct odb_schema *schema)
{
    size_t n_columns = 0;

    for (size_t i = 0; i < schema->n_tables; i++) {
        n_columns += schema->tables[i].n_columns;
    }
    printf("schema %s, version %s, cksum %s: %zu table%s, %zu column%s\n",
           schema->name,
           schema->version ? schema->version : "(none)",
           schema->cksum ? schema->cksum : "(none)",
           schema->n_tables, schema->n_tables == 1 ? "" : "s",
           n_columns, n_columns == 1 ? "" : "s");
}

/* Parses 'json' as a schema, replaces '*schemap' with it and prints it (all
 * of it if 'full'), or prints the error. */
static void
do_schema(const json_t *json, struct odb_schema **schemap, bool full)
{
    struct odb_schema *schema;
    char *error = odb_schema_from_json(json, &schema);

    if (error) {
        printf("error: %s\n", error);
        free(error);
        return;
    }
    odb_schema_destroy(*schemap);
    *schemap = schema;

    print_schema_brief(schema);
    for (size_t i = 0; full && i < schema->n_tables; i++) {
        print_table(&schema->tables[i]);
    }
}

/* Returns the column named by the next two words of '*s', after printing
 * "TABLE.COLUMN", or NULL after printing an error. */
static const struct odb_column *
next_column(const struct odb_schema *schema, char **s)
{
    char *table_name = next_word(s);
    char *column_name = next_word(s);

    if (!column_name) {
        printf("input error: TABLE COLUMN expected\n");
        return NULL;
    } else if (!schema) {
        printf("input error: no schema\n");
        return NULL;
    }

    const struct odb_table_schema *ts = odb_schema_find_table(schema,
                                                              table_name);
    if (!ts) {
        printf("error: no table %s\n", table_name);
        return NULL;
    }
    const struct odb_column *column = odb_table_find_column(ts,
                                                            column_name);
    if (!column) {
        printf("error: table %s has no column %s\n", table_name,
               column_name);
        return NULL;
    }
    printf("%s.%s", ts->name, column->name);
    return column;
}

/* Prints ' => ' and 'json' or 'error', and frees both. */
static void
print_result(json_t *json, char *error)
{
    if (error) {
        printf(" => error: %s\n", error);
        free(error);
    } else {
        char *s = to_string(json);
        printf(" => %s\n", s);
        free(s);
        json_decref(json);
    }
}

/* "value TABLE COLUMN JSON". */
static void
do_value(const struct odb_schema *schema, char *args)
{
    const struct odb_column *column = next_column(schema, &args);
    if (!column) {
        return;
    }

    const char *p = args;
    json_t *in = next_json(&p);
    if (in) {
        char *s = to_string(in);
        json_t *out;
        char *error = odb_datum_from_json(&column->type, in, &out);

        printf(" %s", s);
        print_result(out, error);
        free(s);
        json_decref(in);
    }
}

/* "diff TABLE COLUMN OLD DIFF". */
static void
do_diff(const struct odb_schema *schema, char *args)
{
    const struct odb_column *column = next_column(schema, &args);
    if (!column) {
        return;
    }

    const char *p = args;
    json_t *old = next_json(&p);
    json_t *diff = old ? next_json(&p) : NULL;
    if (diff) {
        char *old_s = to_string(old);
        char *diff_s = to_string(diff);
        json_t *canonical, *new;
        char *error;

        printf(" %s + %s", old_s, diff_s);
        error = odb_datum_from_json(&column->type, old, &canonical);
        if (error) {
            printf(" => error: old value: %s\n", error);
            free(error);
        } else {
            error = odb_datum_apply_diff(&column->type, canonical, diff,
                                         &new);
            print_result(new, error);
            json_decref(canonical);
        }
        free(old_s);
        free(diff_s);
    }
    json_decref(old);
    json_decref(diff);
}

/* "compare TYPE JSON JSON". */
static void
do_compare(char *args)
{
    char *type_name = next_word(&args);
    enum odb_atomic_type type;

    if (!type_name || !odb_atomic_type_from_string(type_name, &type)) {
        printf("input error: atomic type expected\n");
        return;
    }

    const char *p = args;
    json_t *a = next_json(&p);
    json_t *b = a ? next_json(&p) : NULL;
    if (b) {
        char *a_s = to_string(a);
        char *b_s = to_string(b);
        int cmp = odb_atom_compare(type, a, b);

        printf("%s %s %s\n", a_s, cmp < 0 ? "<" : cmp > 0 ? ">" : "==",
               b_s);
        free(a_s);
        free(b_s);
    }
    json_decref(a);
    json_decref(b);
}

/* Runs the command in 'line', any but "schema", with 'schemap' the current
 * schema. */
static void
do_command(char *line, struct odb_schema **schemap)
{
    char *command = next_word(&line);

    if (!strcmp(command, "schema-file")) {
        json_error_t error;
        json_t *json = json_load_file(line, 0, &error);
        if (!json) {
            printf("input error: %s\n", error.text);
            return;
        }
        do_schema(json, schemap, false);
        json_decref(json);
    } else if (!strcmp(command, "table")) {
        const struct odb_table_schema *ts
            = *schemap ? odb_schema_find_table(*schemap, line) : NULL;
        if (ts) {
            print_table(ts);
        } else {
            printf("error: no table %s\n", line);
        }
    } else if (!strcmp(command, "column")) {
        const struct odb_column *column = next_column(*schemap, &line);
        if (column) {
            print_column_type(column);
        }
    } else if (!strcmp(command, "value")) {
        do_value(*schemap, line);
    } else if (!strcmp(command, "diff")) {
        do_diff(*schemap, line);
    } else if (!strcmp(command, "default")) {
        const struct odb_column *column = next_column(*schemap, &line);
        if (column) {
            print_result(odb_datum_default(&column->type), NULL);
        }
    } else if (!strcmp(command, "compare")) {
        do_compare(line);
    } else {
        printf("input error: unknown command \"%s\"\n", command);
    }
}

/* The driver: see the top of this file. */
int
test_ovsdb_datum_main(int argc, char *argv[])
{
    if (argc != 2) {
        iovp_fatal(0, "usage: ovsdb-datum FILE");
    }

    char *text = test_read_file(argv[1], NULL);
    struct odb_schema *schema = NULL;
    char *p = text;
    while (*p) {
        char *line = p + strspn(p, " \t");
        char *eol = line + strcspn(line, "\n");

        p = *eol ? eol + 1 : eol;
        if (line == eol || *line == '#') {
            continue;
        }

        /* A schema may span lines: it ends where its JSON ends. */
        if (!strncmp(line, "schema", 6) && (line[6] == ' '
                                            || line[6] == '\t')) {
            json_error_t error;
            json_t *json = json_loads(line + 6, JSON_DISABLE_EOF_CHECK,
                                      &error);
            if (!json) {
                printf("input error: %s\n", error.text);
                continue;
            }
            do_schema(json, &schema, true);
            json_decref(json);

            p = line + 6 + error.position;
            p += strspn(p, " \t");
            p += *p == '\n';
            continue;
        }

        *eol = '\0';
        do_command(line, &schema);
    }
    free(text);
    odb_schema_destroy(schema);
    return EXIT_SUCCESS;
}

/* cli_print.c - JSON documents and human tables on stdout (cli_print.h). */
#include <string.h>
#include "cli_print.h"
#include "cli_err.h"

#define CELL 160
#define COLS_MAX 6
#define ID_SHORT 8

int cli_print_json(const json_t *doc)
{
    /* 15 significant digits: 1.27 prints as 1.27, not 1.2700000000000000 */
    size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15);
    if (json_dumpf(doc, stdout, flags) != 0 ||
        fputc('\n', stdout) == EOF)
        return cli_fail(CLI_EXIT_FAIL, "could not write the JSON output "
                        "(is the disk or pipe still there?)");
    return CLI_EXIT_OK;
}

void cli_print_text(FILE *f, const char *text, int keep_lines, const char *indent)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n' && keep_lines) {
            fputc('\n', f);
            if (indent)
                fputs(indent, f);
        } else if (*p == '\n' || *p == '\t') {
            fputc(' ', f);
        } else if (*p < 0x20 || *p == 0x7f) {
            fputc('?', f);
        } else {
            fputc(*p, f);
        }
    }
}

const char *cli_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Append s to buf (cap bytes, *len used), truncating on overflow. */
static void buf_add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static void join_array(const json_t *arr, char *buf, size_t cap)
{
    size_t len = 0, i;
    const json_t *item;
    char one[CELL];
    buf[0] = '\0';
    json_array_foreach(arr, i, item) {
        if (i > 0)
            buf_add(buf, cap, &len, ", ");
        buf_add(buf, cap, &len, cli_json_text(item, one, sizeof one));
    }
}

static void join_object(const json_t *obj, char *buf, size_t cap)
{
    size_t len = 0;
    const char *key;
    const json_t *item;
    char one[CELL];
    buf[0] = '\0';
    json_object_foreach((json_t *)obj, key, item) {
        if (len > 0)
            buf_add(buf, cap, &len, ", ");
        buf_add(buf, cap, &len, key);
        buf_add(buf, cap, &len, " ");
        buf_add(buf, cap, &len, cli_json_text(item, one, sizeof one));
    }
}

const char *cli_json_text(const json_t *v, char *buf, size_t cap)
{
    if (cap == 0)
        return "";
    buf[0] = '\0';
    if (!v || json_is_null(v))
        return "-";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_array(v))
        join_array(v, buf, cap);
    else if (json_is_object(v))
        join_object(v, buf, cap);
    return buf;
}

const char *cli_nhs_format(const char *nhs, char out[16])
{
    if (!nhs)
        return "-";
    if (strlen(nhs) != 10 || strspn(nhs, "0123456789") != 10)
        return nhs;
    snprintf(out, 16, "%.3s %.3s %.4s", nhs, nhs + 3, nhs + 6);
    return out;
}

/* Copy text into a cell, cutting at a UTF-8 boundary with "..." if long. */
static void cell_set(char cell[CELL], const char *text)
{
    size_t n = strlen(text);
    if (n < CELL) {
        memcpy(cell, text, n + 1);
        return;
    }
    n = CELL - 4;
    while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--;
    memcpy(cell, text, n);
    memcpy(cell + n, "...", 4);
}

/* Display width: UTF-8 characters, not bytes. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += (((unsigned char)*s & 0xc0) != 0x80);
    return w;
}

typedef void (*row_fn)(const json_t *item, char cells[][CELL]);

static void print_row(char cells[][CELL], const size_t *width, size_t ncols)
{
    for (size_t c = 0; c < ncols; c++) {
        cli_print_text(stdout, cells[c], 0, NULL);
        if (c + 1 == ncols)
            break;
        for (size_t w = text_width(cells[c]); w < width[c] + 2; w++)
            fputc(' ', stdout);
    }
    fputc('\n', stdout);
}

static void print_table(const char *const *heads, size_t ncols, const json_t *items,
                        row_fn fill)
{
    size_t width[COLS_MAX], i;
    char cells[COLS_MAX][CELL];
    const json_t *item;
    for (size_t c = 0; c < ncols; c++)
        width[c] = text_width(heads[c]);
    json_array_foreach(items, i, item) {
        fill(item, cells);
        for (size_t c = 0; c < ncols; c++) {
            size_t w = text_width(cells[c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < ncols; c++)
        cell_set(cells[c], heads[c]);
    print_row(cells, width, ncols);
    json_array_foreach(items, i, item) {
        fill(item, cells);
        print_row(cells, width, ncols);
    }
}

static void cell_id(char cell[CELL], const char *id)
{
    snprintf(cell, CELL, "%.*s", ID_SHORT, id ? id : "-");
}

static void cell_json(char cell[CELL], const json_t *obj, const char *key)
{
    char buf[CELL];
    cell_set(cell, cli_json_text(json_object_get(obj, key), buf, sizeof buf));
}

static void cell_name(char cell[CELL], const json_t *obj)
{
    const char *given = cli_json_str(obj, "given"), *family = cli_json_str(obj, "family");
    snprintf(cell, CELL, "%s %s", given ? given : "", family ? family : "");
    if (!given || !family)
        cell_set(cell, given ? given : family ? family : "-");
}

static void fill_person(const json_t *p, char cells[][CELL])
{
    char nhs[16];
    cell_id(cells[0], cli_json_str(p, "id"));
    cell_name(cells[1], p);
    cell_json(cells[2], p, "status");
    cell_set(cells[3], cli_nhs_format(cli_json_str(p, "nhs"), nhs));
    cell_json(cells[4], p, "caseloads");
}

void cli_print_people(const json_t *doc)
{
    static const char *const heads[] = {"ID", "NAME", "STATUS", "NHS", "CASELOADS"};
    const json_t *people = json_object_get(doc, "people");
    if (!json_is_array(people) || json_array_size(people) == 0) {
        cli_say("No people on record%s.", json_is_array(people) ? "" : " (no list returned)");
        return;
    }
    print_table(heads, 5, people, fill_person);
}

static void fill_task(const json_t *t, char cells[][CELL])
{
    const json_t *od = json_object_get(t, "overdue_days");
    cell_json(cells[0], t, "due");
    if (json_is_integer(od) && json_integer_value(od) > 0)
        snprintf(cells[1], CELL, "%" JSON_INTEGER_FORMAT " day%s", json_integer_value(od),
                 json_integer_value(od) == 1 ? "" : "s");
    else
        cell_set(cells[1], "-");
    cell_name(cells[2], t);
    cell_json(cells[3], t, "text");
    cell_id(cells[4], cli_json_str(t, "id"));
}

void cli_print_tasks(const json_t *doc)
{
    static const char *const heads[] = {"DUE", "OVERDUE", "PERSON", "TASK", "ID"};
    const json_t *tasks = json_object_get(doc, "tasks");
    if (!json_is_array(tasks) || json_array_size(tasks) == 0) {
        cli_say("No open follow-ups.");
        return;
    }
    print_table(heads, 5, tasks, fill_task);
}

static void fill_event(const json_t *e, char cells[][CELL])
{
    cell_json(cells[0], e, "when");
    cell_json(cells[1], e, "author");
    cell_json(cells[2], e, "action");
    cell_json(cells[3], e, "kind");
    cell_id(cells[4], cli_json_str(e, "record"));
    cell_id(cells[5], cli_json_str(e, "person"));
}

void cli_print_audit(const json_t *doc)
{
    static const char *const heads[] = {"WHEN", "AUTHOR", "ACTION", "KIND", "RECORD",
                                        "PERSON"};
    const json_t *events = json_object_get(doc, "events");
    if (!json_is_array(events) || json_array_size(events) == 0) {
        cli_say("No audit events.");
        return;
    }
    print_table(heads, 6, events, fill_event);
}

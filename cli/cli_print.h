/* cli_print.h - output on stdout: JSON documents and human tables.
 *
 * The printers read the JSON documents the core returns (keys documented
 * in lb_model.h) defensively: a missing key prints as "-", an unknown
 * value type is printed compactly.  Text from records is printed with
 * control characters (other than newline and tab where allowed) replaced,
 * so nothing stored can drive the terminal.
 */
#ifndef CLI_PRINT_H
#define CLI_PRINT_H

#include <stdio.h>
#include <jansson.h>

/* Print doc as one indented JSON document with sorted keys and a newline.
 * Returns 0, or 1 after a message if stdout could not be written. */
int cli_print_json(const json_t *doc);

/* Write text to f with control characters replaced by '?'; newlines are
 * kept and followed by indent (NULL: none) when keep_lines is set, else
 * replaced by spaces. */
void cli_print_text(FILE *f, const char *text, int keep_lines, const char *indent);

/* The string value of key in obj, or NULL if absent or not a string. */
const char *cli_json_str(const json_t *obj, const char *key);

/* A value as short text into buf (truncated to cap): strings as is,
 * numbers, true/false as yes/no, arrays joined by ", ", objects as
 * "key value, key value".  Returns buf, the string itself, or "-" when v
 * is NULL or null. */
const char *cli_json_text(const json_t *v, char *buf, size_t cap);

/* An NHS number as "943 476 5919" when it is ten digits, else as given. */
const char *cli_nhs_format(const char *nhs, char out[16]);

/* Human tables of lb_person_list, lb_task_list and lb_audit_list. */
void cli_print_people(const json_t *doc);
void cli_print_tasks(const json_t *doc);
void cli_print_audit(const json_t *doc);

#endif

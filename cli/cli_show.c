/* cli_show.c - the human view of one person's record (cli_show.h).
 *
 * Header: name, NHS number, date of birth, status, caseloads and the other
 * person fields present.  Timeline: one block per entry,
 *
 *   2026-11-25  note  (3f2a9c1b, Ada Worker)
 *     the text of the note
 *     amended 2026-11-26 by Ada Worker: the correction
 *
 * so an original note stays visible beside its amendments.  Kinds without
 * a printer of their own get every field listed as "key: value".
 */
#include <string.h>
#include "cli_show.h"
#include "cli_print.h"

#define TEXT_MAX 512

typedef void (*body_fn)(const json_t *e);

/* Person fields shown in the header, in order, after name. */
static const struct { const char *key, *label; } person_fields[] = {
    {"nhs", "NHS number"}, {"dob", "born"}, {"status", "status"},
    {"caseloads", "caseloads"}, {"discharged", "discharged"},
    {"postcode", "postcode"}, {"phone", "phone"},
    {"gp_practice", "GP practice"}, {"language", "language"},
    {"interpreter", "interpreter"}, {"carer", "carer"}, {"consent", "consent"},
    {"consent_date", "consent date"},
    {"id", "id"},
};

/* Keys every timeline entry has, printed in its first line. */
static int is_entry_key(const char *key)
{
    static const char *const keys[] = {"id", "kind", "date", "author", "person",
                                       "recorded"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static const char *val(const json_t *obj, const char *key, char *buf, size_t cap)
{
    return cli_json_text(json_object_get(obj, key), buf, cap);
}

static int has(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) && !(json_is_string(v) && !json_string_value(v)[0]);
}

/* "  label: value" when obj has key. */
static void line_if(const json_t *obj, const char *key, const char *label)
{
    char buf[TEXT_MAX];
    if (!has(obj, key))
        return;
    fputs("  ", stdout);
    cli_print_text(stdout, label, 0, NULL);
    fputs(": ", stdout);
    cli_print_text(stdout, val(obj, key, buf, sizeof buf), 0, NULL);
    fputc('\n', stdout);
}

/* Indented free text, each of its lines under the first. */
static void text_block(const char *text, const char *indent)
{
    fputs(indent, stdout);
    cli_print_text(stdout, text, 1, indent);
    fputc('\n', stdout);
}

/* Whether key is shown by the header's own lines (or is bookkeeping). */
static int is_header_key(const char *key)
{
    static const char *const own[] = {"given", "family", "kind", "author", "recorded"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(key, own[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof person_fields / sizeof person_fields[0]; i++)
        if (strcmp(key, person_fields[i].key) == 0)
            return 1;
    return 0;
}

/* Person fields this version does not know (newer devices): listed as is. */
static void header_extra(const json_t *p)
{
    char buf[TEXT_MAX];
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)p, key, v) {
        if (is_header_key(key) || !has(p, key))
            continue;
        fputs("  ", stdout);
        cli_print_text(stdout, key, 0, NULL);
        fputs(": ", stdout);
        cli_print_text(stdout, cli_json_text(v, buf, sizeof buf), 0, NULL);
        fputc('\n', stdout);
    }
}

static void show_header(const json_t *p)
{
    char buf[TEXT_MAX], nhs[16];
    const char *given = cli_json_str(p, "given"), *family = cli_json_str(p, "family");
    cli_print_text(stdout, given ? given : "", 0, NULL);
    fputc(' ', stdout);
    cli_print_text(stdout, family ? family : "", 0, NULL);
    fputc('\n', stdout);
    for (size_t i = 0; i < sizeof person_fields / sizeof person_fields[0]; i++) {
        const char *key = person_fields[i].key;
        const char *text;
        if (!has(p, key) && strcmp(key, "nhs") != 0 && strcmp(key, "dob") != 0)
            continue;
        if (strcmp(key, "nhs") == 0)
            text = cli_nhs_format(cli_json_str(p, key), nhs);
        else
            text = val(p, key, buf, sizeof buf);
        printf("  %-12s ", person_fields[i].label);
        cli_print_text(stdout, text, 0, NULL);
        fputc('\n', stdout);
    }
    header_extra(p);
}

/* The date of an entry, as the core orders the timeline: its own, else
 * when an assignment began or a follow-up is due, else when recorded. */
static void entry_date(const json_t *e)
{
    const char *d = cli_json_str(e, "date");
    if (!d || !d[0])
        d = cli_json_str(e, "from");
    if (!d || !d[0])
        d = cli_json_str(e, "due");
    if (!d || !d[0])
        d = cli_json_str(e, "recorded");
    printf("%.10s", d && d[0] ? d : "-");
}

/* First line of an entry: date, kind, summary, then (id prefix, author). */
static void entry_head(const json_t *e, const char *summary)
{
    char buf[TEXT_MAX];
    const char *id = cli_json_str(e, "id");
    entry_date(e);
    fputs("  ", stdout);
    cli_print_text(stdout, val(e, "kind", buf, sizeof buf), 0, NULL);
    if (summary && summary[0]) {
        fputs("  ", stdout);
        cli_print_text(stdout, summary, 0, NULL);
    }
    printf("  (%.8s, ", id ? id : "-");
    cli_print_text(stdout, val(e, "author", buf, sizeof buf), 0, NULL);
    fputs(")\n", stdout);
}

static void body_generic(const json_t *e)
{
    const char *key;
    const json_t *v;
    entry_head(e, NULL);
    json_object_foreach((json_t *)e, key, v) {
        if (!is_entry_key(key))
            line_if(e, key, key);
    }
}

static void body_referral(const json_t *e)
{
    char sum[TEXT_MAX], a[TEXT_MAX], b[TEXT_MAX];
    snprintf(sum, sizeof sum, "from %s: %s", val(e, "source", a, sizeof a),
             val(e, "reasons", b, sizeof b));
    entry_head(e, sum);
    line_if(e, "status", "status");
    line_if(e, "first_contact", "first contact");
    line_if(e, "waiting_days", "days waited");
}

static void body_contact(const json_t *e)
{
    char sum[TEXT_MAX], a[TEXT_MAX], b[TEXT_MAX], c[TEXT_MAX];
    snprintf(sum, sizeof sum, "%s, %s min: %s", val(e, "mode", a, sizeof a),
             val(e, "minutes", b, sizeof b), val(e, "categories", c, sizeof c));
    entry_head(e, sum);
    line_if(e, "role", "role");
    line_if(e, "signposts", "signposted to");
    line_if(e, "follow_up", "follow-up due");
    if (cli_json_str(e, "note"))
        text_block(cli_json_str(e, "note"), "  ");
}

static void amendment(const json_t *a)
{
    char d[TEXT_MAX], who[TEXT_MAX];
    const char *text = cli_json_str(a, "text");
    printf("  amended %s by ", val(a, "date", d, sizeof d));
    cli_print_text(stdout, val(a, "author", who, sizeof who), 0, NULL);
    fputs(": ", stdout);
    cli_print_text(stdout, text ? text : "-", 1, "    ");
    fputc('\n', stdout);
}

static void body_note(const json_t *e)
{
    const json_t *amends = json_object_get(e, "amendments"), *a;
    const char *text = cli_json_str(e, "text");
    const char *contact = cli_json_str(e, "contact");
    char sum[64] = "";
    size_t i;
    if (contact)
        snprintf(sum, sizeof sum, "on contact %.8s", contact);
    entry_head(e, sum);
    text_block(text ? text : "-", "  ");
    json_array_foreach(amends, i, a)
        amendment(a);
}

static void review(const json_t *r)
{
    char d[TEXT_MAX], sc[TEXT_MAX];
    const char *note = cli_json_str(r, "note");
    printf("  reviewed %s: %s/10", val(r, "date", d, sizeof d), val(r, "score", sc, sizeof sc));
    if (note && note[0]) {
        fputs(" - ", stdout);
        cli_print_text(stdout, note, 1, "    ");
    }
    fputc('\n', stdout);
}

static void body_goal(const json_t *e)
{
    const json_t *reviews = json_object_get(e, "reviews"), *r;
    const char *text = cli_json_str(e, "text");
    char st[TEXT_MAX];
    size_t i;
    entry_head(e, val(e, "status", st, sizeof st));
    text_block(text ? text : "-", "  ");
    line_if(e, "domain", "domain");
    line_if(e, "target", "target");
    line_if(e, "status_date", "status since");
    json_array_foreach(reviews, i, r)
        review(r);
}

/* Scores: an object of item -> value (or -> {score, band}), or anything. */
static void scores(const json_t *e)
{
    const json_t *sc = json_object_get(e, "scores"), *v;
    const char *key;
    char buf[TEXT_MAX];
    if (!json_is_object(sc)) {
        line_if(e, "scores", "scores");
        return;
    }
    json_object_foreach((json_t *)sc, key, v) {
        const json_t *value = json_object_get(v, "value");
        fputs("  ", stdout);
        cli_print_text(stdout, key, 0, NULL);
        fputs(": ", stdout);
        cli_print_text(stdout, cli_json_text(value ? value : v, buf, sizeof buf), 0, NULL);
        if (cli_json_str(v, "band")) {
            fputs(" (", stdout);
            cli_print_text(stdout, cli_json_str(v, "band"), 0, NULL);
            fputc(')', stdout);
        }
        fputc('\n', stdout);
    }
}

/* Whether every answer is shown among the scores (items scored one by
 * one, as ONS4): then the answers need no line of their own. */
static int scores_cover(const json_t *sc, const json_t *answers)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(sc) || !json_is_object(answers))
        return 0;
    json_object_foreach((json_t *)answers, key, v) {
        if (!json_object_get(sc, key))
            return 0;
    }
    return 1;
}

static void body_measure(const json_t *e)
{
    char sum[TEXT_MAX], a[TEXT_MAX], b[TEXT_MAX];
    snprintf(sum, sizeof sum, "%s (%s)", val(e, "instrument", a, sizeof a),
             val(e, "when", b, sizeof b));
    entry_head(e, sum);
    if (!scores_cover(json_object_get(e, "scores"), json_object_get(e, "answers")))
        line_if(e, "answers", "answers");
    scores(e);
}

static void body_story(const json_t *e)
{
    const char *text = cli_json_str(e, "text");
    entry_head(e, NULL);
    text_block(text ? text : "-", "  ");
    line_if(e, "domains", "domains");
    line_if(e, "share_anonymised", "share anonymised");
}

static void body_discharge(const json_t *e)
{
    char r[TEXT_MAX];
    entry_head(e, val(e, "reason", r, sizeof r));
}

static void body_task(const json_t *e)
{
    char sum[TEXT_MAX], a[TEXT_MAX], b[TEXT_MAX];
    snprintf(sum, sizeof sum, "due %s: %s", val(e, "due", a, sizeof a),
             val(e, "text", b, sizeof b));
    entry_head(e, sum);
    if (json_is_true(json_object_get(e, "done")))
        printf("  done %s\n", val(e, "done_date", a, sizeof a));
}

static void body_assignment(const json_t *e)
{
    char sum[TEXT_MAX], a[TEXT_MAX], b[TEXT_MAX];
    int on = !json_is_false(json_object_get(e, "active"));
    snprintf(sum, sizeof sum, "%s caseload %s as %s", on ? "on" : "off",
             val(e, "caseload", a, sizeof a), val(e, "role", b, sizeof b));
    entry_head(e, sum);
    line_if(e, "reason", "reason");
    line_if(e, "to", "until");
}

static const struct { const char *kind; body_fn fn; } printers[] = {
    {"referral", body_referral}, {"contact", body_contact}, {"note", body_note},
    {"goal", body_goal}, {"measure", body_measure}, {"story", body_story},
    {"discharge", body_discharge}, {"task", body_task},
    {"assignment", body_assignment},
};

static void show_entry(const json_t *e)
{
    const char *kind = cli_json_str(e, "kind");
    for (size_t i = 0; kind && i < sizeof printers / sizeof printers[0]; i++) {
        if (strcmp(kind, printers[i].kind) == 0) {
            printers[i].fn(e);
            return;
        }
    }
    body_generic(e);
}

void cli_show_print(const json_t *doc)
{
    const json_t *timeline = json_object_get(doc, "timeline"), *e;
    size_t i;
    show_header(json_object_get(doc, "person"));
    if (!json_is_array(timeline) || json_array_size(timeline) == 0) {
        fputs("\nNothing recorded yet.\n", stdout);
        return;
    }
    json_array_foreach(timeline, i, e) {
        fputc('\n', stdout);
        show_entry(e);
    }
}

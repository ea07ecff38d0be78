/* cmd_review.c - `linkbook review [WORKER]`: a supervisor's review of every
 * caseload of the team, or one caseload in detail, from the figures of
 * lb_review.h.  The team's review prints the team's figures, then one
 * block per caseload named by its worker, then the devices of the team and
 * when each last synced (as the last supervisor sync heard it).  A
 * worker's review adds the people waiting for a first contact and the
 * overdue follow-ups, by name.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "lb_codes.h"
#include "lb_record.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_review.h"

/* Unix milliseconds as UTC "YYYY-MM-DD HH:MM" (iso: "YYYY-MM-DDTHH:MM:SSZ");
 * "-" for 0. */
static const char *ms_text(int64_t ms, int iso, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm))
        return "-";
    strftime(buf, 32, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M", &tm);
    return buf;
}

static void print_tally(const char *label, const lb_review_tally *t)
{
    const char *const *l = lb_codes_list(t->set);
    int i;
    printf("  %-14s", label);
    for (i = 0; l[i] && i < LB_REVIEW_TALLY_MAX; i++)
        printf("%s %s %ld", i ? "," : "", l[i], t->n[i]);
    if (t->other)
        printf(", other %ld", t->other);
    fputc('\n', stdout);
}

static void print_waiting(const lb_review_figures *f)
{
    printf("  %-14s%ld %s waiting for a first contact", "Waiting", f->waiting_people,
           f->waiting_people == 1 ? "person" : "people");
    if (f->waiting_people)
        printf(" (longest %ld days)", f->waiting_max);
    if (f->waited_n)
        printf("; first contact after %.1f days on average (median %.1f, longest %ld) "
               "for %ld referrals", f->waited_mean, f->waited_median, f->waited_max,
               f->waited_n);
    fputc('\n', stdout);
}

static void print_wellbeing(const lb_review_figures *f)
{
    static const char *const items[] = {"satisfaction", "worthwhile", "happy", "anxious"};
    int k;
    printf("  %-14sONS4 %zu %s", "Wellbeing", f->n_ons4, f->n_ons4 == 1 ? "person" : "people");
    for (k = 0; f->n_ons4 && k < LB_REVIEW_ONS4_ITEMS; k++)
        printf("%s %s %+.2f", k ? "," : ":", items[k], f->ons4_mean_change[k]);
    printf("\n  %-14sSWEMWBS %zu %s", "", f->n_swemwbs, f->n_swemwbs == 1 ? "person" : "people");
    if (f->n_swemwbs)
        printf(": metric score %+.2f on average", f->swemwbs_mean_change);
    printf(" (baseline to latest)\n");
}

static void print_figures(const lb_review_figures *f)
{
    long oldest = f->n_overdue ? f->overdue[0].days : 0;
    printf("  %-14s%ld\n", "People", f->people);
    print_tally("  by status", &f->status);
    printf("  %-14s%ld in the period, %ld this month\n", "Referrals", f->referrals,
           f->referrals_this_month);
    print_waiting(f);
    printf("  %-14s%zu", "Overdue", f->n_overdue);
    if (f->n_overdue)
        printf(" (oldest %ld days)", oldest);
    printf("\n  %-14s%ld (%ld minutes)\n", "Contacts", f->contacts, f->contact_minutes);
    print_tally("  by category", &f->categories);
    print_tally("  by mode", &f->modes);
    printf("  %-14s%ld set in the period\n", "Goals", f->goals_set);
    print_tally("  by status", &f->goal_status);
    print_wellbeing(f);
    printf("  %-14s%ld open\n", "Conflicts", f->conflicts);
}

static void print_heading(const cli_review *v, const lb_review_figures *f)
{
    const lb_team_device *d = cli_review_member(v, f->caseload);
    const char *name = cli_review_worker(v, f->caseload);
    fputs("\n", stdout);
    cli_print_text(stdout, name ? name : "(worker not known on this device)", 0, NULL);
    if (d && d->role[0])
        printf(" (%s)", d->role);
    printf(", caseload %s\n", f->caseload);
}

static void print_devices(const cli_review *v)
{
    char buf[32];
    size_t i;
    if (!v->roster->n) {
        printf("\nDevices: this device keeps no team roster (a supervisor's 'linkbook sync' "
               "brings it).\n");
        return;
    }
    printf("\nDevices (as the server saw them at this device's last sync, %s UTC)\n",
           ms_text(v->roster->fetched_ms, 0, buf));
    for (i = 0; i < v->roster->n; i++) {
        const lb_team_device *d = &v->roster->devices[i];
        fputs("  ", stdout);
        cli_print_text(stdout, d->name, 0, NULL);
        fputs(" / ", stdout);
        cli_print_text(stdout, d->device_name[0] ? d->device_name : "-", 0, NULL);
        printf(" (%s): last sync %s%s\n", d->role, ms_text(d->last_seen_ms, 0, buf),
               d->revoked ? ", revoked" : "");
    }
}

static void print_period(const lb_review *r)
{
    printf("Review as of %s; period %s to %s\n", r->as_of, r->from[0] ? r->from : "the start",
           r->to[0] ? r->to : "today");
}

/* "Given Family" of person into buf ("(unknown)" if it cannot be read). */
static const char *person_name(const cli_review *v, const char *id, char *buf, size_t cap)
{
    lb_record *r = NULL;
    if (lb_record_get(v->s, id, &r) != LB_OK) {
        snprintf(buf, cap, "(unknown)");
        return buf;
    }
    snprintf(buf, cap, "%s %s", cli_json_str(r->fields, "given"),
             cli_json_str(r->fields, "family"));
    lb_record_free(r);
    return buf;
}

/* A worker's review: who waits, whose follow-ups are overdue, by name. */
static void print_people_lists(const cli_review *v, const lb_review_figures *f)
{
    char name[256];
    size_t i;
    printf("\n  Waiting for a first contact (referral date, days waited):%s\n",
           f->waiting_people ? "" : " nobody");
    for (i = 0; i < f->n_waits; i++) {
        const lb_review_wait *w = &f->waits[i];
        if (w->first_contact[0])
            continue;
        printf("    %s  %4ld days  %.8s  ", w->date, w->days, w->person);
        cli_print_text(stdout, person_name(v, w->person, name, sizeof name), 0, NULL);
        fputc('\n', stdout);
    }
    printf("  Overdue follow-ups (due date, days overdue):%s\n", f->n_overdue ? "" : " none");
    for (i = 0; i < f->n_overdue; i++) {
        const lb_review_overdue *o = &f->overdue[i];
        printf("    %s  %4ld days  %.8s  ", o->due, o->days, o->person);
        cli_print_text(stdout, person_name(v, o->person, name, sizeof name), 0, NULL);
        fputc('\n', stdout);
    }
}

static void print_review(const cli_review *v, int one_worker)
{
    const lb_review *r = v->r;
    size_t i;
    print_period(r);
    if (one_worker && r->n_caseloads == 1) {
        print_heading(v, &r->caseloads[0]);
        print_figures(&r->caseloads[0]);
        print_people_lists(v, &r->caseloads[0]);
        return;
    }
    printf("\nThe team (%zu caseload%s)\n", r->n_caseloads, r->n_caseloads == 1 ? "" : "s");
    print_figures(&r->all);
    for (i = 0; i < r->n_caseloads; i++) {
        print_heading(v, &r->caseloads[i]);
        print_figures(&r->caseloads[i]);
    }
    print_devices(v);
}

/* ---- JSON -------------------------------------------------------------------- */

static json_t *device_json(const lb_team_device *d)
{
    char buf[32];
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "device", d->device,
                          "user", d->user, "caseload", d->caseload, "role", d->role,
                          "name", d->name, "device_name", d->device_name,
                          "revoked", d->revoked);
    if (j && d->last_seen_ms > 0)
        json_object_set_new(j, "last_sync", json_string(ms_text(d->last_seen_ms, 1, buf)));
    return j;
}

/* Name the worker of a caseload. */
static void name_worker(const cli_review *v, json_t *c)
{
    const char *cl = cli_json_str(c, "caseload"), *worker = cli_review_worker(v, cl);
    const lb_team_device *d = cli_review_member(v, cl);
    if (worker)
        json_object_set_new(c, "worker", json_pack("{s:s, s:s}", "name", worker, "role",
                                                   d ? d->role : ""));
    if (d)
        json_object_set_new(json_object_get(c, "worker"), "user", json_string(d->user));
}

/* One worker's review: the names of the people waiting and overdue. */
static void name_people(const cli_review *v, json_t *c)
{
    json_t *list, *e;
    char name[256];
    size_t i;
    list = json_object_get(json_object_get(c, "waiting"), "referrals");
    json_array_foreach(list, i, e)
        json_object_set_new(e, "name", json_string(person_name(v, cli_json_str(e, "person"),
                                                               name, sizeof name)));
    json_array_foreach(json_object_get(c, "overdue"), i, e)
        json_object_set_new(e, "name", json_string(person_name(v, cli_json_str(e, "person"),
                                                               name, sizeof name)));
}

static int print_review_json(const cli_review *v, const cli_cmd *cmd, int one_worker)
{
    json_t *doc = NULL, *devices = json_array(), *c;
    char buf[32];
    size_t i;
    lb_err err = lb_review_json(v->r, &doc);
    int rc;
    if (err != LB_OK || !devices) {
        json_decref(devices);
        return cli_err_report(v->s, err ? err : LB_ERR_NOMEM, cmd, "could not print the figures");
    }
    json_array_foreach(json_object_get(doc, "caseloads"), i, c)
        name_worker(v, c);
    if (one_worker)
        name_people(v, json_object_get(doc, "team"));
    for (i = 0; i < v->roster->n; i++)
        json_array_append_new(devices, device_json(&v->roster->devices[i]));
    json_object_set_new(doc, "devices", devices);
    if (v->roster->fetched_ms > 0)
        json_object_set_new(doc, "roster_fetched",
                            json_string(ms_text(v->roster->fetched_ms, 1, buf)));
    rc = cli_print_json(doc);
    json_decref(doc);
    return rc;
}

int cmd_review(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"[WORKER]", NULL};
    cli_opt o[] = {
        {"from", CLI_OPT_VALUE, "DATE", NULL},
        {"to", CLI_OPT_VALUE, "DATE", NULL},
        {"json", 0, "", NULL},
    };
    cli_args a;
    cli_review v;
    int rc = cli_opts_parse(cmd, argc, argv, o, 3, pos, &a);
    if (rc != CLI_GO)
        return rc;
    rc = cli_review_open(cmd, a.npos ? a.pos[0] : NULL, o[0].value, o[1].value, &v);
    if (rc != CLI_GO)
        return rc;
    if ((rc = cli_review_audit(cmd, &v, "review")) != CLI_GO) {
        cli_review_close(&v);
        return rc;
    }
    if (cli_opt_flag(&o[2])) {
        rc = print_review_json(&v, cmd, a.npos > 0);
    } else {
        print_review(&v, a.npos > 0);
        rc = CLI_EXIT_OK;
    }
    cli_review_close(&v);
    return rc;
}

/* cmd_sync.c - joining a team and syncing: enrol, sync; and what the team
 * commands (cmd_team.c) share with them: opening an enrolled store with a
 * client for its server, and turning a client result into a message and
 * an exit code.
 *
 * Exit codes beside cli_err.h's: 5 when the server cannot be reached (or
 * this device still waits for its team key): the work is kept and the
 * next sync moves it; 3 when the server refuses the device's token (it
 * was revoked) or an enrolment code.
 *
 * Transport settings come from options or the environment:
 * LINKBOOK_CA_FILE (a PEM bundle to verify the server with),
 * LINKBOOK_PINNED_KEY (a libcurl pinned public key, "sha256//BASE64"),
 * LINKBOOK_RETRY_MS (the first retry delay in ms; 0: retry at once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lb_codes.h"
#include "lb_sync.h"
#include "lb_client.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_store.h"

static const char *env_or(const char *opt, const char *name)
{
    const char *v = getenv(name);
    return opt ? opt : (v && v[0]) ? v : NULL;
}

/* A client for url with the transport settings.  Returns CLI_GO or the
 * exit code after reporting. */
static int make_client(const cli_cmd *cmd, const char *url, const cli_remote_opts *ro,
                       lb_client **out)
{
    lb_client_opts o = {.url = url, .insecure = ro->insecure,
                        .ca_file = env_or(ro->ca_file, "LINKBOOK_CA_FILE"),
                        .pin = env_or(ro->pin, "LINKBOOK_PINNED_KEY")};
    const char *retry = getenv("LINKBOOK_RETRY_MS");
    char msg[512];
    long ms;
    lb_client_rc rc;
    if (retry && retry[0]) {
        if (lb_int_parse("LINKBOOK_RETRY_MS", retry, 0, 60000, &ms, msg, sizeof msg) != LB_OK)
            return cli_usage(cmd, "%s", msg);
        o.backoff_ms = ms == 0 ? -1 : ms;
    }
    rc = lb_client_new(&o, out, msg, sizeof msg);
    if (rc == LB_CLIENT_BAD_URL || rc == LB_CLIENT_INSECURE)
        return cli_usage(cmd, "%s", msg[0] ? msg : lb_client_strerror(rc));
    if (rc != LB_CLIENT_OK)
        return cli_fail(CLI_EXIT_FAIL, "could not start the sync client: %s",
                        msg[0] ? msg : lb_client_strerror(rc));
    return CLI_GO;
}

/* What to do about a client result. */
static const char *client_advice(lb_client_rc rc)
{
    switch (rc) {
    case LB_CLIENT_OFFLINE:
        return "the work is kept; run 'linkbook sync' when the network is back";
    case LB_CLIENT_REFUSED:
        return "was this device revoked? ask a supervisor for a new code and run "
               "'linkbook enrol URL CODE' again; the work on this device is kept";
    case LB_CLIENT_FORBIDDEN: return "ask a supervisor";
    case LB_CLIENT_NOKEY:
        return "a supervisor's next sync approves this device; then run 'linkbook sync'";
    case LB_CLIENT_TLS:
        return "check the server's certificate; trust its CA with --ca-file or "
               "LINKBOOK_CA_FILE; a pin is --pin or LINKBOOK_PINNED_KEY";
    case LB_CLIENT_TOO_LARGE:
    case LB_CLIENT_HTTP:
        return "try again later; if it goes on, tell the server's operator";
    case LB_CLIENT_PROTOCOL:
        return "check the URL; the server may run another version of linkbook";
    default: return "see 'linkbook help sync'";
    }
}

static int client_exit(lb_client_rc rc, const lb_client *c)
{
    switch (rc) {
    case LB_CLIENT_OK: return CLI_EXIT_OK;
    case LB_CLIENT_OFFLINE:
    case LB_CLIENT_NOKEY: return CLI_EXIT_OFFLINE;
    case LB_CLIENT_REFUSED: return CLI_EXIT_PASSPHRASE;
    case LB_CLIENT_INSECURE:
    case LB_CLIENT_BAD_URL: return CLI_EXIT_USAGE;
    case LB_CLIENT_STORE: return cli_err_code(lb_client_store_err(c));
    default: return CLI_EXIT_FAIL;
    }
}

/* "linkbook: what: detail (advice)"; a detail that ends in its own
 * "(...)" gets the advice inside it, as cli_err.c does.  Returns code. */
static int say_failed(int code, const char *what, const char *detail, const char *adv)
{
    size_t len = strlen(detail);
    if (len > 0 && detail[len - 1] == ')' && strchr(detail, '('))
        return cli_fail(code, "%s: %.*s; %s)", what, (int)(len - 1), detail, adv);
    return cli_fail(code, "%s: %s (%s)", what, detail, adv);
}

int cli_remote_fail(const cli_cmd *cmd, const cli_remote *r, int rc, const char *what)
{
    lb_client_rc crc = (lb_client_rc)rc;
    const char *msg = lb_client_errmsg(r->c);
    char buf[640];
    if (!msg[0])
        msg = lb_client_strerror(crc);
    if (crc == LB_CLIENT_STORE)
        return cli_err_report(r->s, lb_client_store_err(r->c), cmd, what);
    if (crc == LB_CLIENT_REFUSED) {
        snprintf(buf, sizeof buf, "the server refused this device's credentials: %s", msg);
        msg = buf;
    }
    return say_failed(client_exit(crc, r->c), what, msg, client_advice(crc));
}

/* Open the store and check it is enrolled.  CLI_GO or the exit code. */
static int open_enrolled(const cli_cmd *cmd, lb_store **s, lb_sync_info *info)
{
    lb_err err;
    int rc = cli_store_unlocked(cmd, s);
    if (rc != CLI_GO)
        return rc;
    if ((err = lb_sync_info_get(*s, info)) != LB_OK)
        return cli_err_report(*s, err, cmd, "could not read the enrolment");
    if (!info->device || !info->url)
        return cli_fail(CLI_EXIT_USAGE, "this store is not enrolled in a team (join one "
                        "with 'linkbook enrol URL CODE')");
    return CLI_GO;
}

/* The device's token into the client, and who the device is. */
static int remote_identify(const cli_cmd *cmd, cli_remote *r, const lb_sync_info *info)
{
    lb_client_rc crc = lb_client_use_store_token(r->c, r->s);
    if (crc != LB_CLIENT_OK)
        return cli_remote_fail(cmd, r, crc, "could not read the device token");
    snprintf(r->device, sizeof r->device, "%s", info->device);
    r->supervisor = info->role && strcmp(info->role, "supervisor") == 0;
    return CLI_GO;
}

int cli_remote_open(const cli_cmd *cmd, const cli_remote_opts *ro, cli_remote *out)
{
    lb_sync_info info;
    cli_remote_opts o = *ro;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&info, 0, sizeof info);
    rc = open_enrolled(cmd, &out->s, &info);
    if (rc == CLI_GO) {
        o.insecure = o.insecure || info.insecure;
        rc = make_client(cmd, info.url, &o, &out->c);
    }
    if (rc == CLI_GO)
        rc = remote_identify(cmd, out, &info);
    lb_sync_info_clear(&info);
    if (rc != CLI_GO)
        cli_remote_close(out);
    return rc;
}

void cli_remote_close(cli_remote *r)
{
    lb_client_free(r->c);
    lb_store_close(r->s);
    r->c = NULL;
    r->s = NULL;
}

/* ---- sync ---- */

static void on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    int *shown = ctx;
    if (total > 0)
        fprintf(stderr, "\r%s: %zu of %zu changes ", phase, done, total);
    else
        fprintf(stderr, "\r%s: %zu changes ", phase, done);
    *shown = 1;
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* What moved, in words, to stderr; "Up to date." only when done. */
static void say_moved(const lb_client_report *r, int done)
{
    if (r->key_made)
        cli_say("Made the team's first key and sealed it to the team's devices.");
    if (r->keys_sealed)
        cli_say("Sealed the team key to %zu new device%s.", r->keys_sealed,
                plural(r->keys_sealed));
    if (r->pushed)
        cli_say("Pushed %zu change%s.", r->pushed, plural(r->pushed));
    if (r->push_rejected)
        cli_say("The server refused %zu change%s; they stay in the outbox.",
                r->push_rejected, plural(r->push_rejected));
    if (r->pulled)
        cli_say("Pulled %zu change%s.", r->pulled, plural(r->pulled));
    if (r->rejected)
        cli_say("%zu change%s from the server failed their check and %s not applied.",
                r->rejected, plural(r->rejected), r->rejected == 1 ? "was" : "were");
    if (done && !r->pushed && !r->pulled && !r->key_made && !r->keys_sealed)
        cli_say("Up to date.");
}

static int print_report_json(const lb_client_report *r)
{
    json_t *doc = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                            "pushed", (json_int_t)r->pushed,
                            "push_rejected", (json_int_t)r->push_rejected,
                            "pulled", (json_int_t)r->pulled,
                            "rejected", (json_int_t)r->rejected,
                            "pending", (json_int_t)r->pending,
                            "keys_sealed", (json_int_t)r->keys_sealed,
                            "requests", (json_int_t)r->net.requests,
                            "bytes_up", (json_int_t)r->net.bytes_up,
                            "bytes_down", (json_int_t)r->net.bytes_down);
    int rc = doc ? cli_print_json(doc) : cli_fail(CLI_EXIT_FAIL, "out of memory");
    json_decref(doc);
    return rc;
}

/* A sync that could not finish: say so, with what is kept. */
static int sync_failed(const cli_cmd *cmd, const cli_remote *r, lb_client_rc rc,
                       const lb_client_report *rep)
{
    const char *msg = lb_client_errmsg(r->c);
    if (rc == LB_CLIENT_OFFLINE)
        return cli_fail(CLI_EXIT_OFFLINE, "offline, %zu change%s kept for later (%s; run "
                        "'linkbook sync' when the network is back)", rep->pending,
                        plural(rep->pending), msg);
    if (rc == LB_CLIENT_NOKEY)
        return cli_fail(CLI_EXIT_OFFLINE, "waiting for the team key, %zu change%s kept "
                        "for later (%s; then run 'linkbook sync')", rep->pending,
                        plural(rep->pending), msg);
    return cli_remote_fail(cmd, r, rc, "sync did not complete");
}

static int sync_run(const cli_cmd *cmd, cli_remote *r, int json)
{
    lb_client_report rep;
    int shown = 0, tty = isatty(fileno(stderr));
    lb_client_rc rc = lb_client_sync(r->c, r->s, tty ? on_progress : NULL, &shown, &rep);
    if (shown)
        fputc('\n', stderr);
    say_moved(&rep, rc == LB_CLIENT_OK);
    if (rc != LB_CLIENT_OK)
        return sync_failed(cmd, r, rc, &rep);
    if (json)
        return print_report_json(&rep);
    printf("pushed %zu, pulled %zu, rejected %zu (%llu request%s, %llu bytes up, "
           "%llu down)\n", rep.pushed, rep.pulled, rep.rejected + rep.push_rejected,
           (unsigned long long)rep.net.requests, rep.net.requests == 1 ? "" : "s",
           (unsigned long long)rep.net.bytes_up, (unsigned long long)rep.net.bytes_down);
    return CLI_EXIT_OK;
}

enum { SY_INSECURE, SY_CA, SY_PIN, SY_JSON, SY_COUNT };

int cmd_sync(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[SY_COUNT] = {
        [SY_INSECURE] = {"insecure", 0, "", NULL},
        [SY_CA] = {"ca-file", CLI_OPT_VALUE, "FILE", NULL},
        [SY_PIN] = {"pin", CLI_OPT_VALUE, "sha256//KEY", NULL},
        [SY_JSON] = {"json", 0, "", NULL},
    };
    cli_args a;
    cli_remote r;
    int rc = cli_opts_parse(cmd, argc, argv, o, SY_COUNT, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    cli_remote_opts ro = {cli_opt_flag(&o[SY_INSECURE]), o[SY_CA].value, o[SY_PIN].value};
    if ((rc = cli_remote_open(cmd, &ro, &r)) != CLI_GO)
        return rc;
    rc = sync_run(cmd, &r, cli_opt_flag(&o[SY_JSON]));
    cli_remote_close(&r);
    return rc;
}

/* ---- enrol ---- */

static const char *json_text(const json_t *o, const char *key, char *buf, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    size_t i = 0;
    for (; v && v[i] && i + 1 < cap; i++)
        buf[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
    buf[i] = '\0';
    return i ? buf : "?";
}

/* The first sync after enrolling: its trouble is told, not fatal. */
static void first_sync(cli_remote *r)
{
    lb_client_report rep;
    int shown = 0;
    lb_client_rc rc = lb_client_sync(r->c, r->s, NULL, &shown, &rep);
    if (rc == LB_CLIENT_OK)
        say_moved(&rep, 1);
    else if (rc == LB_CLIENT_NOKEY)
        cli_say("Waiting for a supervisor to approve this device: their next sync seals "
                "the team key to it; then run 'linkbook sync'.");
    else
        cli_say("The first sync did not complete (%s); run 'linkbook sync' later.",
                lb_client_errmsg(r->c)[0] ? lb_client_errmsg(r->c) : lb_client_strerror(rc));
}

static int enrol_failed(const cli_cmd *cmd, const cli_remote *r, lb_client_rc rc)
{
    if (rc == LB_CLIENT_FORBIDDEN || rc == LB_CLIENT_REFUSED)
        return cli_fail(CLI_EXIT_PASSPHRASE, "the server refused the enrolment code: %s "
                        "(check the code; a code works once, ask a supervisor for a new "
                        "one)", lb_client_errmsg(r->c));
    if (rc == LB_CLIENT_STORE && lb_client_store_err(r->c) == LB_ERR_EXISTS)
        return cli_fail(CLI_EXIT_USAGE, "%s (nothing was changed here; a store belongs "
                        "to one team)", lb_client_errmsg(r->c));
    if (rc == LB_CLIENT_OFFLINE)
        return cli_fail(CLI_EXIT_OFFLINE, "could not enrol: %s (check the URL and the "
                        "network, then try again; the code stays valid)",
                        lb_client_errmsg(r->c));
    return cli_remote_fail(cmd, r, rc, "could not enrol");
}

static int enrol_run(const cli_cmd *cmd, const char *url, const char *code,
                     const char *name, const cli_remote_opts *ro)
{
    cli_remote r;
    json_t *resp = NULL;
    char n[128], role[64], team[128];
    lb_client_rc crc;
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = cli_store_unlocked(cmd, &r.s)) != CLI_GO ||
        (rc = make_client(cmd, url, ro, &r.c)) != CLI_GO)
        goto out;
    if ((crc = lb_client_enrol(r.c, r.s, code, name, &resp)) != LB_CLIENT_OK) {
        rc = enrol_failed(cmd, &r, crc);
        goto out;
    }
    cli_say("Enrolled as %s (%s) in team %s.", json_text(resp, "name", n, sizeof n),
            json_text(resp, "role", role, sizeof role),
            json_text(resp, "team_name", team, sizeof team));
    first_sync(&r);
    printf("%s\n", json_string_value(json_object_get(resp, "device")));
    rc = CLI_EXIT_OK;
out:
    json_decref(resp);
    cli_remote_close(&r);
    return rc;
}

enum { EN_INSECURE, EN_NAME, EN_CA, EN_PIN, EN_COUNT };

int cmd_enrol(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"URL", "CODE", NULL};
    cli_opt o[EN_COUNT] = {
        [EN_INSECURE] = {"insecure", 0, "", NULL},
        [EN_NAME] = {"name", CLI_OPT_VALUE, "DEVICE-NAME", NULL},
        [EN_CA] = {"ca-file", CLI_OPT_VALUE, "FILE", NULL},
        [EN_PIN] = {"pin", CLI_OPT_VALUE, "sha256//KEY", NULL},
    };
    char host[128] = "";
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, EN_COUNT, pos, &a);
    if (rc != CLI_GO)
        return rc;
    cli_remote_opts ro = {cli_opt_flag(&o[EN_INSECURE]), o[EN_CA].value, o[EN_PIN].value};
    const char *name = o[EN_NAME].value;
    if (!name) {
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            snprintf(host, sizeof host, "device");
        name = host;
    }
    return enrol_run(cmd, a.pos[0], a.pos[1], name, &ro);
}

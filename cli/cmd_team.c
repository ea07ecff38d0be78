/* cmd_team.c - a supervisor's commands about the team's devices: team
 * invite (an enrolment code for a new worker), team devices, team revoke
 * (refuse a device at once and rotate the team key).
 *
 * The server decides who may do what (a worker's device gets 403); these
 * commands only talk to it through lb_client and print what it said.
 * Text from the server is printed with control characters replaced.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "lb_codes.h"
#include "lb_client.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_store.h"

#define NO_REMOTE_OPTS {0, NULL, NULL}

/* ---- invite ---- */

static int invite_run(const cli_cmd *cmd, const char *role, const char *name)
{
    cli_remote_opts ro = NO_REMOTE_OPTS;
    cli_remote r;
    json_t *body = NULL, *resp = NULL;
    const char *code;
    int rc = cli_remote_open(cmd, &ro, &r);
    if (rc != CLI_GO)
        return rc;
    if (!(body = json_pack("{s:s, s:s}", "role", role, "name", name))) {
        rc = cli_fail(CLI_EXIT_FAIL, "out of memory");
        goto out;
    }
    lb_client_rc crc = lb_client_post(r.c, "/v1/team/invite", body, LB_CLIENT_ONCE, NULL,
                                      &resp);
    if (crc != LB_CLIENT_OK) {
        rc = cli_remote_fail(cmd, &r, crc, "could not invite");
        goto out;
    }
    if (!(code = json_string_value(json_object_get(resp, "code")))) {
        rc = cli_fail(CLI_EXIT_FAIL, "the server's answer has no enrolment code (check "
                      "that it runs this version of linkbook)");
        goto out;
    }
    fputs("Invited ", stderr);
    cli_print_text(stderr, name, 0, NULL);
    fprintf(stderr, " as %s: on their device run 'linkbook enrol %s CODE' with this "
            "code (it works once).\n", role, lb_client_url(r.c));
    cli_print_text(stdout, code, 0, NULL);
    fputc('\n', stdout);
    rc = CLI_EXIT_OK;
out:
    json_decref(body);
    json_decref(resp);
    cli_remote_close(&r);
    return rc;
}

int cmd_team_invite(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"role", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "ROLE", NULL},
        {"name", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "NAME", NULL},
    };
    char msg[256];
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    if (lb_codes_check(LB_CODES_ROLE, "--role", o[0].value, msg, sizeof msg) != LB_OK ||
        lb_text_check("--name", o[1].value, 200, msg, sizeof msg) != LB_OK)
        return cli_usage(cmd, "%s", msg);
    return invite_run(cmd, o[0].value, o[1].value);
}

/* ---- devices ---- */

static void print_cell(const json_t *d, const char *key, int width)
{
    char buf[128];
    const char *t = cli_json_text(json_object_get(d, key), buf, sizeof buf);
    size_t n = strlen(t);
    cli_print_text(stdout, t, 0, NULL);
    for (; (int)n < width; n++)
        fputc(' ', stdout);
    fputc(' ', stdout);
}

/* A time the server gives in unix milliseconds, as UTC "YYYY-MM-DD HH:MM"
 * ("-" when absent or 0). */
static void print_time(const json_t *v)
{
    char buf[32] = "-";
    struct tm tm;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        time_t t = (time_t)(json_integer_value(v) / 1000);
        if (gmtime_r(&t, &tm))
            strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    }
    printf("%-16s ", buf);
}

static void print_devices(const json_t *list, const char *self)
{
    const json_t *d;
    size_t i;
    printf("%-32s %-20s %-16s %-22s %-16s %s\n", "DEVICE", "NAME", "DEVICE NAME", "ROLE",
           "LAST SEEN (UTC)", "STATUS");
    json_array_foreach(list, i, d) {
        const char *id = json_string_value(json_object_get(d, "device"));
        print_cell(d, "device", 32);
        print_cell(d, "name", 20);
        print_cell(d, "device_name", 16);
        print_cell(d, "role", 22);
        print_time(json_object_get(d, "last_seen"));
        fputs(lb_client_is_revoked(json_object_get(d, "revoked")) ? "revoked" : "active", stdout);
        if (id && strcmp(id, self) == 0)
            fputs(" (this device)", stdout);
        fputc('\n', stdout);
    }
}

/* GET /v1/team/devices into *devices (its "devices" array checked). */
static int get_devices(const cli_cmd *cmd, cli_remote *r, json_t **resp)
{
    lb_client_rc crc = lb_client_get(r->c, "/v1/team/devices", NULL, resp);
    if (crc != LB_CLIENT_OK)
        return cli_remote_fail(cmd, r, crc, "could not list the team's devices");
    if (!json_is_array(json_object_get(*resp, "devices")))
        return cli_fail(CLI_EXIT_FAIL, "the server's answer has no device list (check "
                        "that it runs this version of linkbook)");
    return CLI_GO;
}

int cmd_team_devices(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {{"json", 0, "", NULL}};
    cli_remote_opts ro = NO_REMOTE_OPTS;
    cli_remote r;
    json_t *resp = NULL;
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 1, NULL, &a);
    if (rc != CLI_GO || (rc = cli_remote_open(cmd, &ro, &r)) != CLI_GO)
        return rc;
    if ((rc = get_devices(cmd, &r, &resp)) != CLI_GO)
        goto out;
    if (cli_opt_flag(&o[0])) {
        rc = cli_print_json(resp);
    } else {
        print_devices(json_object_get(resp, "devices"), r.device);
        rc = CLI_EXIT_OK;
    }
out:
    json_decref(resp);
    cli_remote_close(&r);
    return rc;
}

/* ---- revoke ---- */

/* The one device whose id starts with ref (as git takes prefixes). */
static int find_device(const json_t *list, const char *ref, const json_t **out)
{
    const json_t *d;
    size_t i, len = strlen(ref), found = 0;
    json_array_foreach(list, i, d) {
        const char *id = json_string_value(json_object_get(d, "device"));
        if (id && len > 0 && strncmp(id, ref, len) == 0) {
            *out = d;
            found++;
        }
    }
    if (found == 0)
        return cli_fail(CLI_EXIT_NOTFOUND, "no device %s in the team (check the id; "
                        "'linkbook team devices' lists them)", ref);
    if (found > 1)
        return cli_fail(CLI_EXIT_USAGE, "ambiguous device id prefix %s (give more of "
                        "its characters)", ref);
    return CLI_GO;
}

static int revoke_one(const cli_cmd *cmd, cli_remote *r, const json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "device"));
    char buf[128];
    const char *name;
    int64_t key = 0;
    int revoked = 0;
    if (strcmp(id, r->device) == 0)
        return cli_fail(CLI_EXIT_USAGE, "%s is this device (revoke it from another "
                        "supervisor's device)", id);
    if (lb_client_is_revoked(json_object_get(d, "revoked"))) {
        cli_say("Device %s was already revoked; nothing was changed.", id);
        return CLI_EXIT_OK;
    }
    lb_client_rc crc = lb_client_revoke(r->c, r->s, id, &revoked, &key);
    if (!revoked)
        return cli_remote_fail(cmd, r, crc, "could not revoke the device");
    name = cli_json_text(json_object_get(d, "name"), buf, sizeof buf);
    fprintf(stderr, "Revoked %s (", id);
    cli_print_text(stderr, name, 0, NULL);
    fputs("): its token is refused from now on.\n", stderr);
    if (crc != LB_CLIENT_OK && key > 0)
        return cli_remote_fail(cmd, r, crc, "revoked, but the new team key did not reach "
                               "the server (the next 'linkbook sync' sends it)");
    if (crc != LB_CLIENT_OK)
        return cli_remote_fail(cmd, r, crc, "revoked, but the team key was not rotated");
    cli_say("The team key was rotated: new changes are sealed with key %lld, which the "
            "revoked device does not have.", (long long)key);
    return CLI_EXIT_OK;
}

int cmd_team_revoke(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"DEVICE", NULL};
    cli_remote_opts ro = NO_REMOTE_OPTS;
    cli_remote r;
    json_t *resp = NULL;
    const json_t *d = NULL;
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, pos, &a);
    if (rc != CLI_GO || (rc = cli_remote_open(cmd, &ro, &r)) != CLI_GO)
        return rc;
    if ((rc = get_devices(cmd, &r, &resp)) != CLI_GO ||
        (rc = find_device(json_object_get(resp, "devices"), a.pos[0], &d)) != CLI_GO)
        goto out;
    rc = revoke_one(cmd, &r, d);
out:
    json_decref(resp);
    cli_remote_close(&r);
    return rc;
}

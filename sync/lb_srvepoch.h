/* lb_srvepoch.h - linkbookd's restore detection: when its database was
 * restored from a backup (or replaced), the server announces a new epoch,
 * so that devices push again what it lacks and restart their cursors
 * (DESIGN.md, "Sync protocol").
 *
 * Mechanism: a small high-water file kept outside the database,
 *     linkbookd-epoch 1 EPOCH HIGH\n
 * the epoch and the highest envelope number (lb_srvstore high_water) known
 * to be committed.  It is rewritten (temp file + rename) after pushes that
 * stored something, only after their COMMIT returned, from a fresh read of
 * the committed high-water, and only upwards; so the file never claims
 * more than the database durably holds.  One thread writes it: a push only
 * marks it behind, and the notes that come while it is being written are
 * covered by the next write, so busy servers rename it once for many
 * pushes rather than once for each (the store
 * commits with synchronous=FULL; the file is not fsynced: after a crash it
 * can only be older, i.e. claim less, or be missing or torn, which counts
 * as unknown below).
 *
 * At startup (lb_srvepoch_open) the database is "restored" when
 *   - its epoch differs from the file's, or
 *   - its high-water is LOWER than the file's, or
 *   - the file is missing or unreadable while the database holds envelopes
 *     (the data directory moved without it: assume the worst);
 * then a new random epoch is saved in the database, then in the file, and
 * one line says so in the log.  A spurious new epoch costs one re-push of
 * every device's log (the server keeps one copy per change id); a missed
 * one loses data, so every doubt goes to a new epoch.  A crash between the
 * two saves only makes the next start pick yet another epoch.
 *
 * Where the file lives: by default beside the data directory, DIR.epoch
 * (for --data /var/lib/linkbookd: /var/lib/linkbookd.epoch), not inside
 * it: a restore of the whole directory from a backup brings back a file
 * that agrees with the restored database, which would hide the restore.
 * If it cannot be written the server still serves and logs why (restores
 * are then not detected).
 *
 * Threads: lb_srvepoch_note may be called from any thread; the handle runs
 * one thread of its own, the file's writer, from open to close.
 */
#ifndef LB_SRVEPOCH_H
#define LB_SRVEPOCH_H

#include <stdint.h>
#include "lb_err.h"
#include "lb_srvstore.h"

#define LB_SRVEPOCH_SUFFIX ".epoch"

typedef struct lb_srvepoch lb_srvepoch;

/* Where lines for the log go (one line, no newline). */
typedef void (*lb_srvepoch_log)(void *ctx, const char *line);

/* The state file path for data directory dir, malloc'd (NULL: no memory):
 * dir without trailing slashes, then LB_SRVEPOCH_SUFFIX. */
char *lb_srvepoch_path(const char *dir);

/* Check store against the file at path (see the top of this file), make a
 * new epoch if it was restored, and return a handle that keeps the file
 * up to date.  *renewed says whether a new epoch was made.  On failure
 * (the store could not be read or written) *out is NULL and msg says why. */
lb_err lb_srvepoch_open(lb_srvstore *store, const char *path, lb_srvepoch_log log,
                        void *log_ctx, lb_srvepoch **out, int *renewed, char *msg,
                        size_t msglen);

/* After a push committed: mark the file behind; the writer thread reads
 * the store's high-water and raises the file to it soon after.  A failed
 * write is logged (once until it works again), never fatal. */
void lb_srvepoch_note(lb_srvepoch *e);

/* Stop the writer, raise the file one last time and free e; NULL is a
 * no-op. */
void lb_srvepoch_close(lb_srvepoch *e);

/* Force a new epoch into store and the file at path (linkbookd admin
 * new-epoch); the new epoch into out. */
lb_err lb_srvepoch_renew(lb_srvstore *store, const char *path,
                         char out[LB_SRV_ID_LEN + 1], char *msg, size_t msglen);

#endif

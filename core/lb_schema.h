/* lb_schema.h - the numbered SQL migrations of schema/, embedded at build
 * time (schema/embed.sh) and applied in order by lb_store.
 */
#ifndef LB_SCHEMA_H
#define LB_SCHEMA_H

typedef struct lb_migration {
    int version;        /* the file's number; PRAGMA user_version after it */
    const char *name;   /* file name without .sql */
    const char *sql;
} lb_migration;

/* Device-store migrations, in order, ended by an entry with version 0. */
extern const lb_migration lb_schema_device[];

/* Server (linkbookd, SQLite backend) migrations, the same way; linked into
 * linkbookd only. */
extern const lb_migration lb_schema_server[];

#endif

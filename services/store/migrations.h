/*  migrations.h - the schema, versioned: deploy/migrations/NNN_name.sql,
    compiled into the coordinator (build/gen/migrations.c) and applied at
    start, each once, recorded in schema_migrations.
*/
#ifndef DT_MIGRATIONS_H
#define DT_MIGRATIONS_H

typedef struct {
    int version;
    const char *name;
    const char *sql;
} dt_migration_t;

extern const dt_migration_t dt_migrations [];
extern const int dt_migration_count;

#endif

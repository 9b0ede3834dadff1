#!/bin/sh
# Creates and migrates Temporal's two PostgreSQL databases; every step is a no-op when already done, so it runs at
# every start. One script for both deployments: `agent-runtime up --postgres` runs it with the sql tool it built
# (SQL_TOOL, TEMPORAL_SCHEMA_DIR from Go's module cache); docker-compose.yml runs it in temporalio/admin-tools.
# The tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment.
set -eu
tool="${SQL_TOOL:-temporal-sql-tool}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  dir="${pair#*:}"
  if ! out=$("$tool" --db "$db" create-database 2>&1); then
    case "$out" in
      *"already exists"*) ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  "$tool" --db "$db" setup-schema -v 0.0
  "$tool" --db "$db" update-schema -d "$schema/$dir/versioned"
  echo "schema $db: up to date"
done

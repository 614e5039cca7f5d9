#!/bin/sh
# First start: a cluster in the volume, the app's role and database, and
# the row the web app shows. Then the server itself, in the foreground.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pw
	initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=/tmp/pw >/dev/null
	rm -f /tmp/pw
	echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
	pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
	psql -v ON_ERROR_STOP=1 -U postgres -q <<SQL
CREATE ROLE app LOGIN PASSWORD '$POSTGRES_PASSWORD';
CREATE DATABASE app OWNER app;
\connect app
CREATE TABLE greetings (id serial PRIMARY KEY, message text NOT NULL, at timestamptz DEFAULT now());
INSERT INTO greetings (message) VALUES ('Hello from PostgreSQL, in a container berth built and runs');
ALTER TABLE greetings OWNER TO app;
SQL
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'

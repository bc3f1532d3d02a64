# Sourced once by the postgres image's entrypoint, right after initdb on an empty volume (it is
# mounted into /docker-entrypoint-initdb.d by docker-compose.yml). It makes postgresql.conf
# include the project's tuning, stack/postgres/tuning.conf, mounted read-only at the path below:
# the same include the native stack manager adds after its initdb. The path is absolute, so an
# edit of tuning.conf applies at the next `docker compose restart postgres`.
echo "include_if_exists = '/etc/postgresql/webshop_tuning.conf'" >>"${PGDATA}/postgresql.conf"

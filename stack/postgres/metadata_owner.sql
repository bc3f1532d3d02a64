-- A metadata database (Airflow's, Superset's) belongs to its own role, never to the superuser.
-- Run by the superuser, connected to that database, after
--   select set_config('webshop.owner_role', <role>, false),
--          set_config('webshop.owner_password', <password>, false);
-- by stack/prepare_airflow.sh and stack/stackctl/superset_db.py (native) and compose's init
-- containers, on every start:
-- idempotent, and a rotated password applies. It creates or updates the role, makes it own the
-- database, and hands over what the superuser owns in it (a database an older stack made).
-- REASSIGN OWNED BY the bootstrap superuser is refused (it owns the system catalogs), so the
-- objects are altered one by one: only those the superuser still owns, so a second run is a few
-- catalog queries.
do $$
declare
  role_name text := current_setting('webshop.owner_role');
  statement text;
begin
  if not exists (select 1 from pg_roles where rolname = role_name) then
    execute format('create role %I login', role_name);
  end if;
  execute format(
    'alter role %I with login nosuperuser nocreatedb nocreaterole noreplication password %L',
    role_name, current_setting('webshop.owner_password'));
  execute format('alter database %I owner to %I', current_database(), role_name);
  for statement in
    select format('alter table %I.%I owner to %I', n.nspname, c.relname, role_name)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = 'public'
      and c.relowner = (select oid from pg_roles where rolname = current_user)
    union all
    -- sequences owned by a column follow their table
    select format('alter sequence %I.%I owner to %I', n.nspname, c.relname, role_name)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'S' and n.nspname = 'public'
      and c.relowner = (select oid from pg_roles where rolname = current_user)
      and not exists (
        select 1 from pg_depend d
        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i'))
    union all
    select format('alter type %I.%I owner to %I', n.nspname, t.typname, role_name)
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where t.typtype in ('e', 'd') and n.nspname = 'public'
      and t.typowner = (select oid from pg_roles where rolname = current_user)
  loop
    execute statement;
  end loop;
end $$;

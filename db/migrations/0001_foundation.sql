-- Up Migration
-- Foundation: the warehouse's schemas and the three roles that use them.
--   loader      : workers connect as it; writes raw and audit only
--   transformer : dbt connects as it; reads raw/audit, owns staging..analysis
--   analyst     : reads marts and analysis only
-- Roles are cluster-wide, so their creation is guarded; passwords are set by db/migrate.ts
-- from the environment after every run (so rotating one is a re-run, not a manual step).

do $$
begin
    if not exists (select from pg_roles where rolname = 'loader') then
        create role loader login;
    end if;
    if not exists (select from pg_roles where rolname = 'transformer') then
        create role transformer login;
    end if;
    if not exists (select from pg_roles where rolname = 'analyst') then
        create role analyst login;
    end if;
end
$$;

create schema if not exists raw;
create schema if not exists audit;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists analysis;

-- Nobody but the owner creates objects in public.
revoke create on schema public from public;

-- The database itself: connect for the three roles.
do $$
begin
    execute format('grant connect, temporary on database %I to loader, transformer, analyst', current_database());
end
$$;

-- loader: writes raw and audit (tables are created by migrations, not by the loader).
grant usage on schema raw, audit to loader;
grant select, insert, update, delete on all tables in schema raw, audit to loader;
grant usage, select on all sequences in schema raw, audit to loader;
alter default privileges in schema raw, audit grant select, insert, update, delete on tables to loader;
alter default privileges in schema raw, audit grant usage, select on sequences to loader;

-- transformer: reads raw and audit; owns and builds everything downstream.
grant usage on schema raw, audit to transformer;
grant select on all tables in schema raw, audit to transformer;
alter default privileges in schema raw, audit grant select on tables to transformer;
grant usage, create on schema staging, intermediate, marts, analysis to transformer;

-- analyst: reads marts and analysis. dbt `grants` re-grant after each rebuild; default
-- privileges cover objects the transformer creates between rebuilds.
grant usage on schema marts, analysis to analyst;
alter default privileges for role transformer in schema marts, analysis grant select on tables to analyst;

-- Down Migration
drop schema if exists analysis cascade;
drop schema if exists marts cascade;
drop schema if exists intermediate cascade;
drop schema if exists staging cascade;
drop schema if exists audit cascade;
drop schema if exists raw cascade;

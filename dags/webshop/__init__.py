"""Helpers shared by the webshop DAGs: command builders, dbt artifact reading, alerting.

Standard library only at import time: the DAG processor imports this package on every parse, so
nothing here may open a file, a socket or a database connection until a task calls it.
"""

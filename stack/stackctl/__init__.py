"""The native stack manager: installs what the pipeline needs and runs its services on loopback.

One module per concern: `config` (settings and the services manifest), `install` (pinned tools,
idempotent), `prepare` (first-start state of PostgreSQL and Kafka), `supervise` (start, health,
stop), `cli` (the commands), `testrun` (`make test`) with `summary` (what a suite's output says).
Only the Python standard library is used: this package is what installs everything else.
"""

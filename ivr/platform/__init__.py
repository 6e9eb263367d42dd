"""What every other package stands on: the database, logs and small helpers.

| module        | what it holds                                                       |
| db            | the engine, sessions, retries, the base of every table             |
| db_roles      | ``ivr db roles``: the edge's and the console's PostgreSQL roles     |
| migrate       | Alembic upgrades and downgrades                                    |
| logs          | structured log lines that never name a caller or a report          |
| hosts         | which hosts count as loopback                                       |
| chunks        | reading a stream in bounded pieces                                  |
| private_files | files only this user can read, written whole or not at all          |
"""

"""The telephone side, from a Twilio webhook to a job that fetches the recording.

| module    | what it holds                                                            |
| calls     | one call's turns: the flow's step, the caller's answer, the next prompt   |
| urlstate  | a call's place carried in signed callback URLs when the database is down  |
| journal   | a recording callback written to the database, or to the spool if it is down |
| spool     | the sealed on-disk queue of callbacks that waits for the database         |
| jobs      | leased, retried jobs: fetching recordings, erasing call logs at Twilio    |
| call_logs | the call log erasure made when a call ends                               |

Calls go down through the journal to the reports' intake; the worker runs the jobs.
"""

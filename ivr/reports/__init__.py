"""A report's life after intake, in one place, below every edge.

| module       | what it holds                                                          |
| intake       | a report and its recording jobs, from recording callbacks               |
| status       | every change of a report's status: the allowed moves, each audited     |
| lifecycle    | the phone side's moves: recordings stored, or one of them parked        |
| workflow     | the queue and a handler's work: claim, take, save, submit, disseminate  |
| routing      | who is offered which report by language, and what waits for a speaker  |
| review       | a supervisor's decisions and the review thread                         |
| access       | who may open which report (need to know)                               |
| sanitise     | finding details in a transcript that could identify the caller          |
| documents    | the intelligence report sent to a force, as text and PDF               |
| retention    | destroying audio and text when their time is up                       |

The webhooks, the worker, the console and the CLI call these operations; none of them
sets a report's status or writes an audit event on its own.
"""

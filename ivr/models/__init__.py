"""Every table, one module per concept; importing the package registers them all.

| module   | tables                                                              |
| reports  | reports, their encrypted recordings, forces, disseminations          |
| calls    | live call state, recording jobs, call log erasures                   |
| online   | online reports' encrypted parts and spent form tokens                |
| review   | a supervisor's review thread                                         |
| followup | follow-up PINs, questions and answers                                |
| flows    | published call flows, prompt drafts and uploaded prompt audio        |
| keys     | the day keys that seal a day's objects                               |
| staff    | the charity's staff accounts                                         |
| audit    | the keyed audit chain                                                |
| stats    | the service's figures, counted as things happen                      |

Migrations compare against ``Base.metadata`` and tests create the schema from it, so each
module is imported here even where nothing names it.
"""

from ivr.models import (  # noqa: F401
    audit,
    calls,
    flows,
    followup,
    keys,
    online,
    reports,
    review,
    staff,
    stats,
)

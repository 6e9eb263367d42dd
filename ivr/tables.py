"""Every module that defines tables, imported so that ``Base.metadata`` knows them all.

Migrations compare against it and tests create the schema from it.
"""

from ivr import (  # noqa: F401
    models,
    models_flows,
    models_followup,
    models_keys,
    models_online,
    models_review,
)

"""Running the service: what monitoring and operators ask of it.

| module  | what it holds                                                            |
| health  | ``/healthz`` for load balancers and ``/metrics`` for Prometheus           |
| metrics | the queue's gauges: jobs, erasures, reports by status, follow-up failures |
| doctor  | ``ivr doctor``: each outside service probed as configured                |
"""

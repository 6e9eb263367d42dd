"""The service's figures: counted as things happen, read by month, published safely.

| module     | what it does                                                            |
| counters   | add one to a month's counter, in the transaction of the change itself   |
| figures    | read the counters back for the statistics page                          |
| disclosure | hide the small cells of a table for publication, and those that betray them |
| export     | the publication-safe CSV for a force or a commissioner                  |
| charts     | server-drawn SVG charts, each with its data as a table                  |
"""

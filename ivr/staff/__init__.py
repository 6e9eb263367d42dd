"""The charity's staff: who they are, what they may do, and what they did.

| module      | what it holds                                                         |
| accounts    | accounts, passwords, TOTP enrolment, locking                          |
| permissions | what each role may do                                                 |
| throttle    | slowing sign-in attempts by account and address                       |
| audit       | the keyed, anchored audit chain every report action is written to     |
"""

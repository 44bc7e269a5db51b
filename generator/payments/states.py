"""A payment's states, and the only ways between them:

    (post)  -> pending    action 1 not answered yet (or unreadably); a refreshed result
                          page or `reconcile` finishes it
    (post)  -> cancelled  reCnclType=1: the customer closed the window; final
    pending -> approved | refused | issued | mismatch    action 1's reply, checked; final

`confirmed_at` is set once action 3 has been sent for an approved, refused or issued
payment; a mismatch is never confirmed (see `CONFIRMED_STATES`).

This module also holds what the command line shows before it imports the service.
"""

PENDING, APPROVED, REFUSED, ISSUED, CANCELLED, MISMATCH = (
    "pending", "approved", "refused", "issued", "cancelled", "mismatch")
STATES = (PENDING, APPROVED, REFUSED, ISSUED, CANCELLED, MISMATCH)
FINAL_STATES = (APPROVED, REFUSED, ISSUED, CANCELLED, MISMATCH)
# KSNET's sample sends action 3 once a result is stored and processed; a mismatch is
# not processed (the merchant must look at it), so it is never confirmed.
CONFIRMED_STATES = (APPROVED, REFUSED, ISSUED)
PAID_STATES = (APPROVED,)

DEFAULT_DB = "sqlite:///payments.sqlite3"
RECV_POST_TIMEOUT = 10.0  # seconds; KSNET's samples use 10 to 15

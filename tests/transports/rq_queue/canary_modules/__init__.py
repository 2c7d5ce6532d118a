"""A module package for the RQ canary test's worker processes (``FLASK_MODULES_PACKAGE``).

Its handlers fail with the payload's personal data in their messages; see
``tests/transports/rq_queue/test_canary_rq.py``.
"""

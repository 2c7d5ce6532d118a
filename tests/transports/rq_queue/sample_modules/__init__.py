"""A module package for RQ worker processes in tests (``FLASK_MODULES_PACKAGE``).

Its handlers record what they receive in Redis lists under the test's key prefix, so a test
process can see what a worker subprocess ran.
"""

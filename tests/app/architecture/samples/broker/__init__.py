"""A package that must stay broker-free but imports redis and rq (checked as if it were app/)."""

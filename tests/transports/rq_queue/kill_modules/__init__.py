"""Modules of the RQ kill test: one slow recording handler (``rqkill``)."""

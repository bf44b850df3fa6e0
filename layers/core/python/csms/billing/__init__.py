"""Billing: which tariff a session gets, its OCPI 2.2.1 CDR, and the hand-off to billing partners.

    tariff_choice.py  the id tag's tariff over the station's over the network default
    cdrs.py           a stopped transaction and its readings -> an OCPI 2.2.1 CDR (pure)
    service.py        the use cases the workflow's tasks and the operator API call (adapters injected)
"""

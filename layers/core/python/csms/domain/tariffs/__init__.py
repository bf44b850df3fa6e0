"""OCPI 2.2.1 tariffs and the pricing of charging sessions: pure domain code, no AWS.

    model.py        the Tariff object (pydantic), as `PUT /tariffs/{id}` takes it
    validation.py   a refused tariff as (OCPI path, message) pairs
    consumption.py  what a session consumed (readings, statuses, samples) and its energy curve
    restrictions.py when a tariff element applies, and where the session must be cut to know
    pricing.py      `price_session`: charging periods and totals, for a CDR or a running cost
    cdr.py          the priced fields of a CDR, and the credit CDR of an issued one
"""

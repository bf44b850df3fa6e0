"""Everything a station may send (OCPP 1.6 station-initiated actions) and how the CSMS answers."""

"""Example data several test layers share."""

from __future__ import annotations

STANDARD_TARIFF = {
    "currency": "EUR",
    "tariff_alt_text": [{"language": "en", "text": "0.30/kWh, 2.00/h, 1.00 per session, 20 % VAT"}],
    "elements": [
        {
            "price_components": [
                {"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1},
                {"type": "TIME", "price": 2.00, "vat": 20, "step_size": 1},
                {"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1},
            ]
        }
    ],
}
"""The issue's example (issue 9): ENERGY 0.30/kWh, TIME 2.00/h, FLAT 1.00, 20 % VAT (OCPI 2.2.1 Tariff body)."""

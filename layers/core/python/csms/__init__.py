"""Serverless OCPP 1.6J Charging Station Management System."""

"""OCPP 1.6J messages: typed models (call, call_result, datatypes, enums), the action catalog, validation."""

"""Events the CSMS puts on its EventBridge bus for billing partners and drivers' apps.

Every event is the complete EventBridge event a target receives (`version`, `id`, `detail-type`,
`source`, `account`, `time`, `region`, `resources`, `detail`). EventBridge delivers at least once and
gives a forwarded event a new `id`, so `detail` carries the CSMS's own `eventId` (deterministic: a retry
is recognisably the same event) and a `schemaVersion`. The JSON Schema (Draft 4, as the EventBridge schema
registry takes it) of each event type is `schemas/<DetailType>.json`.
"""

"""Driver notifications: the events of a driver's sessions and reservations, POSTed to the webhook of the
driver's id tag. EventBridge rule (sources csms.sessions, csms.reservations) -> SQS queue -> the
`notifications` function, which retries through the message's visibility and dead-letters after the last try.
"""

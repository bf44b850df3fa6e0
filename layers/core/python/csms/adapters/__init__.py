"""The only code that talks to AWS: DynamoDB repositories, the @connections client."""

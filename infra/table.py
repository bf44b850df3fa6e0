"""The CSMS table, built from the key schema the code uses (csms.adapters.dynamodb.schema)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from csms.adapters.dynamodb import schema


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class CsmsTable(Construct):
    """On demand, point-in-time recovery, deletion protection, TTL for cleanup, encrypted with the
    AWS managed key (auditable in CloudTrail, no key to pay for or administer)."""

    def __init__(self, scope: Construct, construct_id: str, *, deletion_protection: bool = True) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(schema.PARTITION_KEY),
            sort_key=_string(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=deletion_protection,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType[schema.STREAM_VIEW_TYPE],
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Stations, transactions and id tags outlive any one deployment: `cdk destroy` leaves the table.
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in schema.GLOBAL_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string(index.partition_key),
                sort_key=_string(index.sort_key),
                projection_type=dynamodb.ProjectionType[index.projection],
            )

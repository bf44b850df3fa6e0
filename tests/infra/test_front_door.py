"""Stations reach the WebSocket stage through CloudFront at wss://<domain>/ocpp/<chargePointId>."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from aws_cdk.assertions import Match

from csms.gateway.authorizer import CHARGE_POINT_ID_PARAMETER, ORIGIN_HEADER
from infra.manifest import CHARGE_POINT_ID_QUERY_PARAMETER, OCPP_PATH_PREFIX
from infra.stack import STAGE_NAME
from tests.infra.conftest import FULL_CONTEXT, Synthesized


def only(resources: dict[str, Any]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.values()))["Properties"]


def distribution_config(synthesized: Synthesized) -> dict[str, Any]:
    return only(synthesized.resources("AWS::CloudFront::Distribution"))["DistributionConfig"]


def run_station_path_function(code: str, uri: str, querystring: Any = None) -> dict[str, Any]:
    script = (
        code
        + "\nconst event = JSON.parse(process.argv[1]);"
        + "\nprocess.stdout.write(JSON.stringify(handler(event)));"
    )
    event = {"version": "1.0", "request": {"method": "GET", "uri": uri, "querystring": querystring or {}, "headers": {}}}
    result = subprocess.run(["node", "-e", script, json.dumps(event)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def deployed_function_code(deployed: Synthesized) -> str:
    return only(deployed.resources("AWS::CloudFront::Function"))["FunctionCode"]


def test_the_authorizer_and_the_front_door_agree_on_where_the_station_id_travels():
    assert CHARGE_POINT_ID_PARAMETER == CHARGE_POINT_ID_QUERY_PARAMETER


def test_a_cloudfront_function_not_lambda_at_edge_rewrites_viewer_requests(deployed: Synthesized):
    function = only(deployed.resources("AWS::CloudFront::Function"))
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    behavior = distribution_config(deployed)["DefaultCacheBehavior"]
    assert [association["EventType"] for association in behavior["FunctionAssociations"]] == ["viewer-request"]
    assert "LambdaFunctionAssociations" not in behavior


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the CloudFront Function")
class TestStationPathFunction:
    def test_moves_the_station_id_from_the_path_into_the_query_string(self, deployed_function_code: str):
        request = run_station_path_function(deployed_function_code, f"{OCPP_PATH_PREFIX}CP001")
        assert request["uri"] == f"/{STAGE_NAME}"
        assert request["querystring"] == f"{CHARGE_POINT_ID_QUERY_PARAMETER}=CP001"

    def test_a_station_cannot_smuggle_another_identity_in_the_query(self, deployed_function_code: str):
        request = run_station_path_function(
            deployed_function_code, f"{OCPP_PATH_PREFIX}CP001", {CHARGE_POINT_ID_QUERY_PARAMETER: {"value": "CP999"}}
        )
        assert request["querystring"] == f"{CHARGE_POINT_ID_QUERY_PARAMETER}=CP001"

    def test_keeps_encoded_identities_encoded(self, deployed_function_code: str):
        request = run_station_path_function(deployed_function_code, f"{OCPP_PATH_PREFIX}Hall%3A1%2B2")
        assert request["querystring"] == f"{CHARGE_POINT_ID_QUERY_PARAMETER}=Hall%3A1%2B2"

    @pytest.mark.parametrize(
        "identity",
        ["Hall%201", "..%2F..%2Fetc", "CP%00", "CP%3F", "CP%23", "CP%5C1", "CP%25", "%F0%9F%98%80", "%FF%FE", "%FE%FF",
         "%E", "A" * 49, "x" * 2100],
    )  # fmt: skip
    def test_an_identity_outside_the_rule_is_refused_with_400(self, deployed_function_code: str, identity: str):
        assert run_station_path_function(deployed_function_code, f"{OCPP_PATH_PREFIX}{identity}") == {
            "statusCode": 400,
            "statusDescription": "Bad Request",
        }

    def test_the_longest_identity_the_rule_allows_passes(self, deployed_function_code: str):
        request = run_station_path_function(deployed_function_code, f"{OCPP_PATH_PREFIX}{'A' * 48}")
        assert request["querystring"] == f"{CHARGE_POINT_ID_QUERY_PARAMETER}={'A' * 48}"

    @pytest.mark.parametrize("uri", ["/", "/ocpp", "/other/CP001"])
    def test_anything_but_one_station_id_under_the_prefix_is_not_found(self, deployed_function_code: str, uri: str):
        assert run_station_path_function(deployed_function_code, uri) == {
            "statusCode": 404,
            "statusDescription": "Not Found",
        }


def test_authorization_reaches_the_origin_through_the_cache_policy_and_nothing_is_cached(deployed: Synthesized):
    config = only(deployed.resources("AWS::CloudFront::CachePolicy"))["CachePolicyConfig"]
    # All three TTLs at 0 would forbid any cache-key header; default 0 and max 1 s caches nothing in practice.
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (0, 0, 1)
    parameters = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert parameters["HeadersConfig"]["Headers"] == ["Authorization"]
    assert parameters["QueryStringsConfig"]["QueryStrings"] == [CHARGE_POINT_ID_QUERY_PARAMETER]
    assert parameters["CookiesConfig"]["CookieBehavior"] == "none"


def test_the_websocket_handshake_headers_are_forwarded_but_never_host_or_authorization(deployed: Synthesized):
    config = only(deployed.resources("AWS::CloudFront::OriginRequestPolicy"))["OriginRequestPolicyConfig"]
    headers = {header.lower() for header in config["HeadersConfig"]["Headers"]}
    assert {"sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions"} <= headers
    assert not headers & {"host", "authorization"}
    behavior = distribution_config(deployed)["DefaultCacheBehavior"]
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["Compress"] is False


def test_the_origin_is_the_api_gateway_stage_over_tls_with_the_secret_header(deployed: Synthesized):
    (origin,) = distribution_config(deployed)["Origins"]
    api = deployed.logical_id(deployed.stack.station_api.api)
    assert origin["DomainName"]["Fn::Join"][1][0] == {"Ref": api}
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_HEADER


def test_the_authorizer_checks_the_same_generated_secret_cloudfront_sends(deployed: Synthesized):
    (origin,) = distribution_config(deployed)["Origins"]
    header_value = origin["OriginCustomHeaders"][0]["HeaderValue"]
    authorizer = deployed.stack.functions["authorizer"]
    environment = deployed.template.to_json()["Resources"][deployed.logical_id(authorizer)]["Properties"]["Environment"]
    assert environment["Variables"]["ORIGIN_SECRET"] == header_value
    # A dynamic reference to a secret Secrets Manager generated: the value is in no template and no repository.
    secret = deployed.logical_id(deployed.stack.origin_secret.secret)
    assert header_value == {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret}, ":SecretString:::}}"]]}
    deployed.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": Match.object_like({"PasswordLength": 48, "ExcludePunctuation": True})},
    )


def test_rotating_the_origin_secret_is_a_new_generation(deployed: Synthesized, full: Synthesized):
    assert full.stack.origin_secret.secret.node.id == f"Generation{FULL_CONTEXT['originSecretGeneration']}"
    # A new logical id: CloudFormation creates a new secret (a new value) and deletes the old one.
    secret = full.logical_id(full.stack.origin_secret.secret)
    assert secret != deployed.logical_id(deployed.stack.origin_secret.secret)
    assert full.json["Resources"][secret]["DeletionPolicy"] == "Delete"
    (origin,) = distribution_config(full)["Origins"]
    assert {"Ref": secret} in origin["OriginCustomHeaders"][0]["HeaderValue"]["Fn::Join"][1]


def test_only_wss_by_default(deployed: Synthesized):
    config = distribution_config(deployed)
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    assert "Aliases" not in config


def test_ws_for_security_profile_1_only_when_the_operator_enables_it(full: Synthesized):
    assert distribution_config(full)["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "allow-all"


def test_custom_domain_with_its_acm_certificate_and_modern_tls(full: Synthesized):
    config = distribution_config(full)
    assert config["Aliases"] == [FULL_CONTEXT["domainName"]]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": FULL_CONTEXT["certificateArn"],
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    records = full.resources("AWS::Route53::RecordSet")
    assert sorted(record["Properties"]["Type"] for record in records.values()) == ["A", "AAAA"]
    assert {record["Properties"]["Name"] for record in records.values()} == {f"{FULL_CONTEXT['domainName']}."}


def test_station_url_output_points_stations_at_the_ocpp_path(deployed: Synthesized, full: Synthesized):
    distribution = deployed.logical_id(deployed.stack.front_door.distribution)
    assert deployed.template.find_outputs("StationUrl")["StationUrl"]["Value"] == {
        "Fn::Join": ["", ["wss://", {"Fn::GetAtt": [distribution, "DomainName"]}, OCPP_PATH_PREFIX]]
    }
    custom = full.template.find_outputs("StationUrl")["StationUrl"]["Value"]
    assert custom == f"wss://{FULL_CONTEXT['domainName']}{OCPP_PATH_PREFIX}"


def test_optional_protections_from_context(full: Synthesized):
    config = distribution_config(full)
    assert config["Restrictions"]["GeoRestriction"] == {"Locations": ["DE", "FR", "NL"], "RestrictionType": "whitelist"}
    assert config["WebACLId"] == FULL_CONTEXT["webAclArn"]
    assert config["PriceClass"] == "PriceClass_100"


def test_access_logs_go_to_a_private_encrypted_bucket(deployed: Synthesized):
    bucket = deployed.logical_id(deployed.stack.front_door.log_bucket)
    assert distribution_config(deployed)["Logging"]["Bucket"] == {"Fn::GetAtt": [bucket, "RegionalDomainName"]}
    properties = deployed.json["Resources"][bucket]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    # Kept by `cdk destroy`, emptied by expiry (docs/deployment.md, Teardown).
    assert deployed.json["Resources"][bucket]["DeletionPolicy"] == "Retain"
    assert properties["LifecycleConfiguration"] == {"Rules": [{"ExpirationInDays": 90, "Status": "Enabled"}]}

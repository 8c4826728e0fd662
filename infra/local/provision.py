#!/usr/bin/env python3
"""Create the template's table and queues in an emulated AWS (moto's server).

The definitions are read from infra/template.yaml itself (key schema, indexes, TTL, queue
attributes, redrive policy), so the local stack cannot drift from what is deployed. Names get a
prefix so concurrent stacks and tests never share a queue or table.

The template's unconditional KMS keys are created too (moto implements KMS: GenerateDataKey and
Decrypt with encryption contexts), so the functions seal secrets locally with the same code.

The asynchronous sources' queues are created as well (the rejected-events queue, the sources'
dead-letter queue, the producer queue), and the producer topic (moto's SNS), subscribed to the
producer queue as SNS would deliver to it (raw message delivery off: each message is an SNS
notification), so the local stack takes events from a queue and a topic.

Prints one JSON object: {"table_name", "queue_url", "dlq_url", "max_receive_count",
"secrets_key_id", "rejected_url", "producer_queue_url", "topic_arn"}.
"""
import argparse
import json
import os
import sys

import boto3
from cfnlint.decode import decode

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "template.yaml")


def load_template(path):
    template, matches = decode(path)
    if matches:
        sys.exit(f"cannot read {path}: {matches}")
    return template


def resolve(value, params, arns):
    """The few intrinsics the table and queue definitions use."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return params[arg]
        if fn == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return arns[name][attr]
    if isinstance(value, dict):
        return {k: resolve(v, params, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, params, arns) for v in value]
    return value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True, help="moto server URL")
    ap.add_argument("--prefix", required=True, help="name prefix, unique per stack")
    ap.add_argument("--param", action="append", default=[], help="Name=Value template parameter")
    ap.add_argument("--template", default=TEMPLATE)
    args = ap.parse_args()

    template = load_template(args.template)
    params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    for p in args.param:
        k, _, v = p.partition("=")
        params[k] = v
    resources = template["Resources"]
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    sqs = session.client("sqs", endpoint_url=args.endpoint)
    ddb = session.client("dynamodb", endpoint_url=args.endpoint)
    kms = session.client("kms", endpoint_url=args.endpoint)

    out = {}
    arns = {}
    queues = {n: r for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    # Queues without a redrive policy first: the others point at them.
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n].get("Properties", {})):
        props = dict(queues[name].get("Properties", {}))
        attrs = {}
        for key, value in props.items():
            if key in ("SqsManagedSseEnabled", "Tags"):
                continue  # encryption at rest and tags mean nothing to the emulator
            value = resolve(value, params, arns)
            attrs[key] = json.dumps(value) if isinstance(value, dict) else str(value)
        qname = f"{args.prefix}-{name}"
        url = sqs.create_queue(QueueName=qname, Attributes=attrs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        arns[name] = {"Arn": arn, "QueueName": qname, "QueueUrl": url}
        if name == "DeliveryQueue":
            out["queue_url"] = url
            out["max_receive_count"] = int(resolve(props["RedrivePolicy"], params, arns)["maxReceiveCount"])
        elif name == "DeadLetterQueue":
            out["dlq_url"] = url
        elif name == "RejectedEventsQueue":
            out["rejected_url"] = url
        elif name == "ProducerQueueResource":
            out["producer_queue_url"] = url

    for name, res in resources.items():
        if res["Type"] != "AWS::DynamoDB::Table":
            continue
        props = res["Properties"]
        tname = f"{args.prefix}-{name}"
        kwargs = dict(
            TableName=tname,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=tname, TimeToLiveSpecification=ttl)
        out["table_name"] = tname

    for name, res in resources.items():
        # Keys behind a condition (CustomerManagedKey: logs, environment) mean nothing locally.
        if res["Type"] != "AWS::KMS::Key" or "Condition" in res:
            continue
        props = res.get("Properties", {})
        key = kms.create_key(Description=f"{args.prefix}-{name}", KeyUsage="ENCRYPT_DECRYPT")
        arn = key["KeyMetadata"]["Arn"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=arn)
        if name == "SecretsKey":
            out["secrets_key_id"] = arn

    topics = [n for n, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    if topics and "ProducerQueueResource" in arns:
        sns = session.client("sns", endpoint_url=args.endpoint)
        topic = sns.create_topic(Name=f"{args.prefix}-{topics[0]}")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["ProducerQueueResource"]["Arn"],
                      Attributes={"RawMessageDelivery": "false"})
        out["topic_arn"] = topic

    missing = {"table_name", "queue_url", "dlq_url", "secrets_key_id"} - out.keys()
    if missing:
        sys.exit(f"template lacks {missing}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

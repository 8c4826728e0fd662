#!/usr/bin/env python3
"""What the source tests need from moto beyond SQS, through boto3 (so the Rust tests need no SNS
or EventBridge SDK): an SNS topic delivering to a queue (raw message delivery on or off), an
EventBridge rule with a queue as its target, and publishing to them. Prints JSON."""
import json
import sys

import boto3


def session():
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name="us-east-1")


def main():
    endpoint, command, *args = sys.argv[1:]
    s = session()
    if command == "sns-topic":  # name, queue_arn, raw (true|false)
        name, queue_arn, raw = args
        sns = s.client("sns", endpoint_url=endpoint)
        topic = sns.create_topic(Name=name)["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": raw})
        print(json.dumps({"topic_arn": topic}))
    elif command == "sns-publish":  # topic_arn, message
        topic, message = args
        out = s.client("sns", endpoint_url=endpoint).publish(TopicArn=topic, Message=message)
        print(json.dumps({"message_id": out["MessageId"]}))
    elif command == "eb-rule":  # name, queue_arn, source
        name, queue_arn, source = args
        events = s.client("events", endpoint_url=endpoint)
        events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn}])
        print(json.dumps({"rule": name}))
    elif command == "eb-put":  # source, detail_type, detail
        source, detail_type, detail = args
        out = s.client("events", endpoint_url=endpoint).put_events(Entries=[
            {"Source": source, "DetailType": detail_type, "Detail": detail}])
        print(json.dumps({"failed": out["FailedEntryCount"]}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

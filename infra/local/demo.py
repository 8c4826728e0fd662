#!/usr/bin/env python3
"""The README demo: registers two endpoints on the bundled receiver, sends an event, and shows a
first-try delivery and a retried one (the receiver fails twice, then succeeds) with every
attempt. Exits non-zero if what it shows is not what it should be, so CI can run it as a check.
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid


def call(api, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {key}")
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def from_sources(api, key, tenant, ok_ep, args, problems):
    """Events from the producer queue and the producer topic (SNS -> the queue -> ingest), and
    one the pipeline must refuse (an unknown tenant) kept in the rejected-events queue."""
    import boto3
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")
    sqs = session.client("sqs", endpoint_url=args.aws_endpoint)
    sns = session.client("sns", endpoint_url=args.aws_endpoint)
    body = lambda job, **extra: json.dumps({"tenant_id": tenant, "event_type": "job.failed",
                                            "payload": {"job_id": job, "status": "failed"}, **extra})
    sqs.send_message(QueueUrl=args.producer_queue_url, MessageBody=body("job_from_queue"))
    sns.publish(TopicArn=args.topic_arn, Message=body("job_from_topic"))
    nobody = json.dumps({"tenant_id": f"{tenant}-missing", "event_type": "job.failed", "payload": {}})
    sqs.send_message(QueueUrl=args.producer_queue_url, MessageBody=nobody)
    print("\nsources: one event on the producer queue, one on the producer topic, one for an unknown tenant")
    deadline, seen, rejected = time.time() + 60, [], []
    while time.time() < deadline and (len(seen) < 2 or not rejected):
        _, page = call(api, key, "GET", f"/v1/tenants/{tenant}/endpoints/{ok_ep['id']}/deliveries?limit=10")
        seen = [d for d in (page or {}).get("data", []) if d.get("event_type") == "job.failed"
                and d.get("status") == "delivered"]
        _, held = call(api, key, "GET", "/v1/admin/rejected?limit=100")
        rejected = [r for r in (held or {}).get("data", []) if f"{tenant}-missing" in r["record"]]
        time.sleep(0.5)
    print(f"  delivered from the sources: {len(seen)} (want 2)")
    if rejected:
        r = rejected[0]
        print(f"  rejected ({r['source']}): {r['reason']['code']}: {r['reason']['message']}")
    if len(seen) != 2 or not rejected:
        problems.append(f"sources: {len(seen)} delivered (want 2), {len(rejected)} rejected (want 1)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--admin-key", required=True)
    ap.add_argument("--receiver", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--aws-endpoint", help="moto's URL, for the producer queue and topic")
    ap.add_argument("--producer-queue-url")
    ap.add_argument("--topic-arn")
    args = ap.parse_args()
    api, key = args.api.rstrip("/"), args.admin_key
    tenant = f"demo-{uuid.uuid4().hex[:8]}"
    problems = []

    status, body = call(api, key, "PUT", f"/v1/tenants/{tenant}", {"name": "Demo customer"})
    assert status == 201, (status, body)
    print(f"tenant {tenant} created")
    # The event-type catalog the portal offers customers to subscribe to (PUT replaces).
    for name, description, example in [
        ("job.completed", "A job finished; the payload names it and how long it ran.",
         {"job_id": "job_1", "status": "completed", "duration_ms": 5210}),
        ("job.failed", "A job stopped with an error; the payload says which and why.",
         {"job_id": "job_2", "status": "failed", "error": "out of memory"}),
    ]:
        status, body = call(api, key, "PUT", f"/v1/event-types/{name}", {
            "description": description, "example": example,
            "schema": {"type": "object", "required": ["job_id", "status"]},
        })
        assert status in (200, 201), (status, body)
    _, ok_ep = call(api, key, "POST", f"/v1/tenants/{tenant}/endpoints", {
        "url": f"{args.receiver}/ok/{tenant}", "event_types": ["job.*"], "secret": args.secret,
        "description": "answers 200",
    })
    _, flaky_ep = call(api, key, "POST", f"/v1/tenants/{tenant}/endpoints", {
        "url": f"{args.receiver}/flaky/{tenant}", "event_types": ["job.completed"],
        "secret": args.secret, "retry_schedule_seconds": [2, 4],
        "description": "fails twice, then answers 200",
    })
    # The stack's own services are never receivers: its API (127.0.0.1, outside the allowlist).
    own = f"{api}/v1/tenants/{tenant}/events"
    status, refused = call(api, key, "POST", f"/v1/tenants/{tenant}/endpoints", {
        "url": own, "event_types": ["*"],
    })
    if status != 422 or refused["error"].get("field") != "url":
        problems.append(f"an endpoint at the stack's own API was not refused: {status} {refused}")
    else:
        print(f"endpoint at the stack's own API refused (422): {refused['error']['message']}")
    print(f"endpoint {ok_ep['id']} -> {ok_ep['url']}  (job.*)")
    print(f"endpoint {flaky_ep['id']} -> {flaky_ep['url']}  (job.completed, retries after 2 s and 4 s)")

    status, event = call(api, key, "POST", f"/v1/tenants/{tenant}/events", {
        "event_type": "job.completed",
        "payload": {"job_id": "job_xyz789abc123", "status": "completed", "progress_percent": 100},
        "metadata": {"source": "demo"},
    })
    assert status == 202, (status, event)
    print(f"\nevent {event['id']} accepted (202) with {len(event['deliveries'])} deliveries")

    deadline = time.time() + 90
    final = {}
    while time.time() < deadline and len(final) < len(event["deliveries"]):
        for d in event["deliveries"]:
            _, view = call(api, key, "GET", f"/v1/tenants/{tenant}/deliveries/{d['id']}")
            if view and view.get("status") != "pending":
                final[d["id"]] = view
        time.sleep(0.5)

    for d in event["deliveries"]:
        view = final.get(d["id"])
        if view is None:
            problems.append(f"delivery {d['id']} still pending")
            continue
        which = "first try" if d["endpoint_id"] == ok_ep["id"] else "retried"
        print(f"\ndelivery {view['id']} ({which}) -> {view['status']} after {view['attempt_count']} attempt(s)")
        for a in view["attempts"]:
            print(f"  attempt {a['number']}  {a['started_at']}  HTTP {a['status_code']}  "
                  f"{a['outcome']:<10} {a['duration_ms']} ms")
        codes = [a["status_code"] for a in view["attempts"]]
        want = [200] if which == "first try" else [500, 500, 200]
        if view["status"] != "delivered" or codes != want:
            problems.append(f"{which} delivery: status {view['status']}, codes {codes}, want {want}")

    with urllib.request.urlopen(f"{args.receiver}/received", timeout=10) as r:
        received = [x for x in json.loads(r.read()) if tenant in x["path"]]
    verified = sum(1 for x in received if x["verified"])
    print(f"\nreceiver: {len(received)} POSTs, {verified} verified with the official standardwebhooks library")
    if len(received) != 4 or verified != 4:
        problems.append(f"receiver got {len(received)} POSTs, {verified} verified; want 4 and 4")

    if args.producer_queue_url and args.topic_arn:
        from_sources(api, key, tenant, ok_ep, args, problems)

    # A link that opens this tenant's portal (one use, 24 h): what the SaaS hands its customer.
    status, link = call(api, key, "POST", f"/v1/tenants/{tenant}/portal-sessions", {"ttl_seconds": 86400})
    if status != 201:
        problems.append(f"portal link: {status} {link}")
    else:
        print(f"\nportal link for {tenant} (one use, until {link['expires_at']}):\n  {link['url']}")
    print(f"operator console: {api}/console (sign in with the admin key)")

    if problems:
        print("\nDEMO FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("\ndemo ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Verify captured deliveries with the official Standard Webhooks Python library.

Input: a JSON file, a list of {"secret", "headers": {name: value}, "body_b64"}. For each it
checks the delivery as received, then a copy with one body byte changed and a copy with the
timestamp moved by one second. Prints {"verified": n, "tampered_rejected": n, "total": n}.
"""
import base64
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

cases = json.load(open(sys.argv[1]))
verified = rejected = 0
for case in cases:
    wh = Webhook(case["secret"])
    body = base64.b64decode(case["body_b64"])
    headers = case["headers"]
    try:
        wh.verify(body, headers)
        verified += 1
    except WebhookVerificationError as e:
        print(f"NOT VERIFIED: {e}", file=sys.stderr)
    tampered_body = bytes([body[0] ^ 1]) + body[1:]
    moved = dict(headers, **{"webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)})
    for b, h in ((tampered_body, headers), (body, moved)):
        try:
            wh.verify(b, h)
        except WebhookVerificationError:
            rejected += 1
print(json.dumps({"verified": verified, "tampered_rejected": rejected, "total": len(cases)}))

// Verify captured deliveries with the official Standard Webhooks JS library (npm
// `standardwebhooks`). Same input and output as verify.py.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
let verified = 0;
let rejected = 0;
for (const c of cases) {
  const wh = new Webhook(c.secret);
  const body = Buffer.from(c.body_b64, "base64");
  try {
    wh.verify(body.toString("utf8"), c.headers);
    verified += 1;
  } catch (e) {
    console.error(`NOT VERIFIED: ${e.message}`);
  }
  const tampered = Buffer.from(body);
  tampered[0] ^= 1;
  const moved = { ...c.headers, "webhook-timestamp": String(Number(c.headers["webhook-timestamp"]) + 1) };
  for (const [b, h] of [[tampered.toString("utf8"), c.headers], [body.toString("utf8"), moved]]) {
    try {
      wh.verify(b, h);
    } catch {
      rejected += 1;
    }
  }
}
console.log(JSON.stringify({ verified, tampered_rejected: rejected, total: cases.length }));

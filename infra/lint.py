#!/usr/bin/env python3
"""Check infra/template.yaml the way CloudFormation, and AWS's own rule sets, will see it.

1. Plain cfn-lint does not look inside AWS::Serverless::Function (a typo in
   ReportBatchItemFailures passes), so the SAM template is first translated to CloudFormation with
   aws-sam-translator, then the result is linted with cfn-lint plus the AWS Serverless Rules
   (cfn-lint-serverless: tracing, API throttling and access logs, event source failure handling).
2. checkov (its AWS checks: encryption, concurrency limits, VPC, DLQs, logging) reads both the SAM
   template itself and the translation (which has the resources SAM generates: stage, mapping,
   roles). checkov pins its own boto3 and more, so it runs from a venv of its own,
   infra/.checkov-venv, made from infra/requirements-checkov.txt on first use (or when that file
   changes).

3. Every choice of `FrontDoor` (HttpApi, FunctionUrl, Both) is checked as its own template:
   the conditions that depend on it are decided, what they exclude is removed, and the result
   goes through all of the above, plus checks that the chosen front doors (and only they) exist.
4. So are the event sources (issue 12): all off (the defaults: nothing extra), all on with the
   queue and topic created by the stack, and all on with the user's own queue and topic, each
   with checks that exactly the chosen sources' resources, permissions and settings exist.

A finding is either fixed in the template or suppressed there, rule by rule, with a one-line
reason: `Metadata: cfn-lint: config: ignore_checks` for cfn-lint, `Metadata: checkov: skip`
(id + comment) for checkov. Exits non-zero on any finding.
"""
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from cfnlint.decode import decode
from samtranslator.translator.transform import transform
from samtranslator.public.translator import ManagedPolicyLoader

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOV_REQUIREMENTS = os.path.join(HERE, "requirements-checkov.txt")
CHECKOV_VENV = os.path.join(HERE, ".checkov-venv")


class NoIamPolicies(ManagedPolicyLoader):
    """The template names no managed policies; nothing needs to be looked up."""

    def __init__(self):
        pass

    def load(self):
        return {}


FRONT_DOORS = ("HttpApi", "FunctionUrl", "Both")
NO_VALUE = object()


def decode_template(path):
    template, matches = decode(path)
    if matches:
        sys.exit(f"{path}: {matches}")
    return template


def decide(expr, conditions, params):
    """True/False for a condition expression that depends on the `params` alone, else None."""
    def operand(x):
        if isinstance(x, dict) and list(x) == ["Ref"] and x["Ref"] in params:
            return params[x["Ref"]]
        return x if isinstance(x, str) else None

    if not isinstance(expr, dict) or len(expr) != 1:
        return None
    (fn, args), = expr.items()
    if fn == "Fn::Equals":
        a, b = (operand(x) for x in args)
        return None if a is None or b is None else a == b
    if fn == "Condition":
        return decide(conditions.get(args), conditions, params)
    parts = [decide(x, conditions, params) for x in args]
    if None in parts:
        return None
    return {"Fn::Not": lambda: not parts[0], "Fn::And": lambda: all(parts), "Fn::Or": lambda: any(parts)}.get(
        fn, lambda: None)()


def resolve(node, decided):
    """`node` with every Fn::If on a decided condition replaced by its branch."""
    if isinstance(node, dict):
        if list(node) == ["Fn::If"] and node["Fn::If"][0] in decided:
            name, yes, no = node["Fn::If"]
            chosen = resolve(yes if decided[name] else no, decided)
            return NO_VALUE if chosen == {"Ref": "AWS::NoValue"} else chosen
        out = {k: resolve(v, decided) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}
    if isinstance(node, list):
        return [r for r in (resolve(x, decided) for x in node) if r is not NO_VALUE]
    return node


def render(template, params):
    """The template as deployed with the `params` (name: value) chosen."""
    t = copy.deepcopy(template)
    conditions = t.get("Conditions", {})
    decided = {n: d for n, c in conditions.items() if (d := decide(c, conditions, params)) is not None}
    for section in ("Resources", "Outputs"):
        for name in list(t.get(section, {})):
            cond = t[section][name].get("Condition")
            if cond in decided:
                if decided[cond]:
                    del t[section][name]["Condition"]
                else:
                    del t[section][name]
    for name in decided:
        del conditions[name]
    t = resolve(t, decided)
    # A chosen parameter's value is written in where it is referred to.
    t = substitute(t, params)
    # Parameters nothing refers to any more (the decided one, those of removed resources) go.
    body = json.dumps({k: v for k, v in t.items() if k != "Parameters"}, default=str)
    t["Parameters"] = {
        name: p for name, p in t["Parameters"].items()
        if f'"Ref": "{name}"' in body or "${" + name + "}" in body
    }
    return t


def substitute(node, params):
    """`node` with every `Ref` to a chosen parameter replaced by its value."""
    if isinstance(node, dict):
        if list(node) == ["Ref"] and node["Ref"] in params:
            return params[node["Ref"]]
        return {k: substitute(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(x, params) for x in node]
    return node


SOURCES = {
    "off": {"EventBridgeBusName": "", "ProducerQueue": "", "SnsTopic": ""},
    "created": {"EventBridgeBusName": "default", "ProducerQueue": "create", "SnsTopic": "create"},
    "existing": {
        "EventBridgeBusName": "orders",
        "ProducerQueue": "arn:aws:sqs:us-east-1:123456789012:producer-events",
        "SnsTopic": "arn:aws:sns:us-east-1:123456789012:producer-events",
    },
}


def sources_problems(choice, translated):
    """What the translation of a Sources rendering lacks or has too much of."""
    res = translated["Resources"]
    on = choice != "off"
    kinds = [r["Type"] for r in res.values()]
    env = res["IngestFunction"]["Properties"]["Environment"]["Variables"]
    problems = []
    for kind, want in [("AWS::Events::Rule", on), ("AWS::SNS::Subscription", on),
                       ("AWS::Lambda::EventInvokeConfig", on), ("AWS::CloudWatch::Alarm", True),
                       ("AWS::SNS::Topic", choice == "created")]:
        if (kind in kinds) != want:
            problems.append(f"{kind} must {'' if want else 'not '}exist")
    queues = [n for n, r in res.items() if r["Type"] == "AWS::SQS::Queue"]
    want_queues = {"off": 2, "created": 5, "existing": 4}[choice]
    if len(queues) != want_queues:
        problems.append(f"{len(queues)} queues ({queues}), expected {want_queues}")
    if on != bool(env.get("REJECTED_QUEUE_URL")):
        problems.append("REJECTED_QUEUE_URL must be set exactly when a source is on")
    maps = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    producer = [m for m in maps if "Ingest" in json.dumps(m.get("FunctionName"))]
    if on and (len(producer) != 1 or producer[0].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]):
        problems.append("the producer queue's mapping must exist and report batch item failures")
    if not on and producer:
        problems.append("no producer queue mapping without the source")
    if on:
        target = next(r for r in res.values() if r["Type"] == "AWS::Events::Rule")["Properties"]["Targets"][0]
        if "RetryPolicy" not in target or "DeadLetterConfig" not in target:
            problems.append("the EventBridge target needs a retry policy and a dead-letter queue")
        principals = sorted(r["Properties"]["Principal"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                            and r["Properties"]["Principal"] in ("events.amazonaws.com", "sns.amazonaws.com"))
        if principals != ["events.amazonaws.com", "sns.amazonaws.com"]:
            problems.append(f"invoke permissions for EventBridge and SNS, got {principals}")
    return [f"Sources={choice}: {p}" for p in problems]


def front_door_problems(front_door, translated):
    """What the translation of the `front_door` rendering lacks or has too much of."""
    res = translated["Resources"]
    kinds = [r["Type"] for r in res.values()]
    want_api, want_url = front_door in ("HttpApi", "Both"), front_door in ("FunctionUrl", "Both")
    urls = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::Url"]
    actions = sorted(r["Properties"]["Action"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                     and r["Properties"]["Principal"] not in ("events.amazonaws.com", "sns.amazonaws.com"))
    hosts = json.dumps(res["DeliveryFunction"]["Properties"]["Environment"]["Variables"]["OWN_API_HOSTS"])
    problems = []
    if ("AWS::ApiGatewayV2::Api" in kinds) != want_api or ("execute-api" in hosts) != want_api:
        problems.append("the HTTP API (and its host among OWN_API_HOSTS) must exist exactly when chosen")
    if bool(urls) != want_url or ("IngestFunctionUrl" in hosts) != want_url:
        problems.append("the function URL (and its host among OWN_API_HOSTS) must exist exactly when chosen")
    if urls and urls[0].get("AuthType") != "NONE":
        problems.append("the function URL must use AuthType NONE (the API authenticates requests itself)")
    expected = (["lambda:InvokeFunction"] if want_api else []) + (
        ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"] if want_url else [])
    if actions != sorted(expected):
        problems.append(f"invoke permissions {actions}, expected {sorted(expected)}")
    if "ApiUrl" not in translated.get("Outputs", {}):
        problems.append("the ApiUrl output is missing")
    return [f"FrontDoor={front_door}: {p}" for p in problems]


def translate(template):
    template = copy.deepcopy(template)
    # The translator wants an S3 location for code; the build fills the real one in.
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://bucket/key.zip"
    return transform(template, {}, NoIamPolicies())


def checkov_bin():
    """infra/.checkov-venv/bin/checkov, (re)installed when requirements-checkov.txt changed."""
    with open(CHECKOV_REQUIREMENTS, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(CHECKOV_VENV, ".requirements.sha256")
    exe = os.path.join(CHECKOV_VENV, "bin", "checkov")
    try:
        with open(stamp) as f:
            have = f.read().strip()
    except OSError:
        have = None
    if have != want or not os.access(exe, os.X_OK):
        print("==> installing checkov into infra/.checkov-venv (its pins conflict with .venv's)", flush=True)
        shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", CHECKOV_VENV], check=True)
        subprocess.run(
            [os.path.join(CHECKOV_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
             "-r", CHECKOV_REQUIREMENTS],
            check=True,
        )
        with open(stamp, "w") as f:
            f.write(want + "\n")
    return exe


def run_cfn_lint(translated_path):
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([cfn_lint, "--append-rules", "cfn_lint_serverless.rules", "--", translated_path])
    if result.returncode != 0:
        print(f"cfn-lint (+ AWS Serverless Rules) found problems in the translated template (exit {result.returncode})")
        return False
    return True


def run_checkov(paths):
    """checkov over the given files; prints each failed check; True when none failed."""
    cmd = [checkov_bin(), "--framework", "cloudformation", "--output", "json", "--quiet", "--compact",
           "--skip-download"]  # nothing from Prisma Cloud: the machine reaches package registries only
    for p in paths:
        cmd += ["--file", p]
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CKV_SKIP_PACKAGE_UPDATE_CHECK="TRUE")  # offline
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")
        print(f"checkov did not produce a report (exit {result.returncode})")
        return False, None
    reports = report if isinstance(report, list) else [report]
    summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
    for r in reports:
        for k in summary:
            summary[k] += r.get("summary", {}).get(k, 0)
        for c in r.get("results", {}).get("failed_checks", []):
            lines = c.get("file_line_range") or []
            where = f"{c.get('file_path', '?')}:{lines[0]}" if lines else c.get("file_path", "?")
            print(f"{c['check_id']} {c['resource']}: {c['check_name']}\n{where}\n")
    ok = result.returncode == 0 and summary["failed"] == 0 and summary["parsing_errors"] == 0
    if summary["passed"] == 0:  # a template checkov could not read would otherwise pass
        print("checkov ran no check")
        ok = False
    if not ok:
        print(f"checkov found problems (exit {result.returncode}): {summary}")
    return ok, summary


def own_problems(translated):
    esm = [r["Properties"] for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
           and "Delivery" in json.dumps(r["Properties"].get("FunctionName"))]
    problems = []
    if not esm or esm[0].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
        problems.append("the delivery event source mapping must report batch item failures")
    if not esm or "MaximumConcurrency" not in esm[0].get("ScalingConfig", {}):
        problems.append("the delivery event source mapping must cap its concurrency (ScalingConfig.MaximumConcurrency)")
    return problems


def check(name, sam_template, sam_path, tmp):
    """Translates, checks and lints one template; prints its findings; True when clean."""
    translated = translate(sam_template)
    problems = own_problems(translated)
    if name.startswith("FrontDoor="):
        problems += front_door_problems(name.split("=", 1)[1], translated)
    if name.startswith("Sources="):
        problems += sources_problems(name.split("=", 1)[1], translated)
    for p in problems:
        print(p)
    out = os.path.join(tmp, f"{name}.translated.json")
    with open(out, "w") as f:
        json.dump(translated, f, indent=1, default=str)
    print(f"==> {name}: cfn-lint", flush=True)
    cfn_ok = run_cfn_lint(out)
    print(f"==> {name}: checkov", flush=True)
    ckv_ok, ckv = run_checkov([sam_path, out])
    ok = not problems and cfn_ok and ckv_ok
    if ok:
        print(f"{name}: {len(translated['Resources'])} resources after SAM translation; cfn-lint + AWS Serverless "
              f"Rules clean; checkov clean ({ckv['passed']} passed, {ckv['skipped']} skipped with a reason)")
    return ok


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "template.yaml")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = decode_template(path)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(check("template", template, path, tmp))
        choices = [(f"FrontDoor={v}", {"FrontDoor": v}) for v in FRONT_DOORS]
        choices += [(f"Sources={k}", params) for k, params in SOURCES.items()]
        for name, params in choices:
            rendered = render(template, params)
            rendered_path = os.path.join(tmp, f"{name}.json")
            with open(rendered_path, "w") as f:
                json.dump(rendered, f, indent=1, default=str)
            results.append(check(name, rendered, rendered_path, tmp))
    if not all(results):
        sys.exit(1)
    print(f"template ok: as written and rendered with FrontDoor = {', '.join(FRONT_DOORS)} "
          f"and the sources {', '.join(SOURCES)}")


if __name__ == "__main__":
    main()

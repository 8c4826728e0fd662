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

A finding is either fixed in the template or suppressed there, rule by rule, with a one-line
reason: `Metadata: cfn-lint: config: ignore_checks` for cfn-lint, `Metadata: checkov: skip`
(id + comment) for checkov. Exits non-zero on any finding.
"""
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


def translate(path):
    template, matches = decode(path)
    if matches:
        sys.exit(f"{path}: {matches}")
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


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "template.yaml")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translated = translate(path)
    fn = translated["Resources"]
    esm = [r["Properties"] for r in fn.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    own_ok = True
    if not esm or esm[0].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
        print("the delivery event source mapping must report batch item failures")
        own_ok = False
    if not esm or "MaximumConcurrency" not in esm[0].get("ScalingConfig", {}):
        print("the delivery event source mapping must cap its concurrency (ScalingConfig.MaximumConcurrency)")
        own_ok = False
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "template.translated.json")
        with open(out, "w") as f:
            json.dump(translated, f, indent=1, default=str)
        cfn_ok = run_cfn_lint(out)
        ckv_ok, ckv = run_checkov([path, out])
    if not (own_ok and cfn_ok and ckv_ok):
        sys.exit(1)
    print(
        f"template ok: {len(fn)} CloudFormation resources after SAM translation; cfn-lint + AWS Serverless Rules clean; "
        f"checkov clean on the SAM template and its translation ({ckv['passed']} passed, {ckv['skipped']} skipped with a reason)"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check infra/template.yaml the way CloudFormation will see it.

Plain cfn-lint does not look inside AWS::Serverless::Function (a typo in
ReportBatchItemFailures passes), so the SAM template is first translated to CloudFormation with
aws-sam-translator, then the result is linted with cfn-lint. Exits non-zero on any finding.
"""
import json
import os
import subprocess
import sys
import tempfile

from cfnlint.decode import decode
from samtranslator.translator.transform import transform
from samtranslator.public.translator import ManagedPolicyLoader

HERE = os.path.dirname(os.path.abspath(__file__))


class NoIamPolicies(ManagedPolicyLoader):
    """The template names no managed policies; nothing needs to be looked up."""

    def __init__(self):
        pass

    def load(self):
        return {}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "template.yaml")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template, matches = decode(path)
    if matches:
        sys.exit(f"{path}: {matches}")
    # The translator wants an S3 location for code; the build fills the real one in.
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://bucket/key.zip"
    translated = transform(template, {}, NoIamPolicies())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(translated, f, indent=1, default=str)
        out = f.name
    fn = translated["Resources"]
    esm = [r for r in fn.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    if not esm or esm[0]["Properties"].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
        sys.exit("the delivery event source mapping must report batch item failures")
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--", out])
    os.unlink(out)
    if result.returncode != 0:
        sys.exit(f"cfn-lint found problems in the translated template (exit {result.returncode})")
    print(f"template ok: {len(translated['Resources'])} CloudFormation resources after SAM translation, cfn-lint clean")


if __name__ == "__main__":
    main()

"""Signs requests with botocore's SigV4Auth and prints canonical request, string to sign and
signature as JSON, for SigV4SignerTests to compare with Harness's signer.

stdin: JSON list of {method, url, headers: [[name, value]], body, region, service, token?, timestamp?}
(timestamp: the X-Amz-Date to sign at; 20150830T123600Z, the AWS suite's, when absent)
"""
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for case in json.load(sys.stdin):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case.get("token"))
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(), headers=dict(case["headers"]))
    auth = SigV4Auth(creds, case["service"], case["region"])
    request.context["timestamp"] = case.get("timestamp") or "20150830T123600Z"
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    out.append({"canonical": canonical, "string_to_sign": string_to_sign, "signature": auth.signature(string_to_sign, request)})
print(json.dumps(out))

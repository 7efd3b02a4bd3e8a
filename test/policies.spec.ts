import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
    longestKmsKeyArn,
    longestSecretArn,
    policyLength,
    readPolicyDocument,
    replicaSecretArn,
    secretReaderPolicyDocument,
} from "../src/policies";

const secretName = fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{1,60}$/);
const region = fc.constantFrom("eu-west-1", "eu-west-2", "us-east-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1");
const partition = fc.constantFrom("aws", "aws-cn", "aws-us-gov");
const account = fc.stringMatching(/^\d{12}$/);
const suffix = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
const arnOf = (p: string, r: string, a: string, name: string, s: string) => `arn:${p}:secretsmanager:${r}:${a}:secret:${name}-${s}`;

describe("replica ARNs", () => {
    it("are the secret's ARN with the replica's region: same partition, account, name and suffix", () => {
        fc.assert(
            fc.property(partition, region, region, account, secretName, suffix, (p, home, replica, a, name, s) => {
                expect(replicaSecretArn(arnOf(p, home, a, name, s), replica)).toBe(arnOf(p, replica, a, name, s));
            }),
        );
    });

    it("are all in the read policy, after the secrets themselves, and nothing else is", () => {
        const arns = [
            arnOf("aws", "eu-west-2", "123456789012", "q/sandbox/private-key", "AbCdEf"),
            arnOf("aws", "eu-west-2", "123456789012", "q/sandbox/api-key", "GhIjKl"),
        ];
        expect(readPolicyDocument(arns, ["eu-west-1", "us-east-1"]).Statement).toEqual([
            {
                Sid: "ReadQredoPartnerApiSecrets",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: [
                    ...arns,
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:q/sandbox/private-key-AbCdEf",
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:q/sandbox/api-key-GhIjKl",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:q/sandbox/private-key-AbCdEf",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:q/sandbox/api-key-GhIjKl",
                ],
            },
        ]);
    });
});

describe("policy sizes", () => {
    it("count characters other than whitespace, as AWS does", () => {
        const document = secretReaderPolicyDocument("arn:aws:secretsmanager:eu-west-2:123456789012:secret:x-AbCdEf", [
            "arn:aws:iam::123456789012:role/a",
        ]);
        expect(policyLength(document)).toBe(JSON.stringify(document).length);
        expect(policyLength(document)).toBe(JSON.stringify(document, null, 4).replace(/\s/g, "").length);
    });

    it("are checked against ARNs at least as long as any AWS can give", () => {
        fc.assert(
            fc.property(partition, region, account, secretName, suffix, (p, r, a, name, s) => {
                expect(longestSecretArn(name, r).length).toBeGreaterThanOrEqual(arnOf(p, r, a, name, s).length);
                const keyArn = `arn:${p}:kms:${r}:${a}:key/mrk-${"a".repeat(32)}`;
                expect(longestKmsKeyArn(r).length).toBeGreaterThanOrEqual(keyArn.length);
            }),
        );
    });
});

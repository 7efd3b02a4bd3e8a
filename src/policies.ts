/**
 * IAM policy documents, as pure functions of resolved ARNs so that their
 * exact content is easy to read and to test, and their size can be checked
 * before anything is deployed.
 */

/** The only actions a reader of the credentials gets. */
export const readActions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] as const;

/** IAM counts a managed policy's characters without whitespace. */
export const maxManagedPolicyLength = 6_144;
/** Secrets Manager's limit on a secret's resource policy. */
export const maxSecretPolicyLength = 20_480;

type ConditionValue = string | readonly string[];

interface Statement {
    readonly Sid: string;
    readonly Effect: "Allow";
    readonly Principal?: { readonly AWS: readonly string[] };
    readonly Action: string | readonly string[];
    readonly Resource: string | readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, ConditionValue>>>>;
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly Statement[];
}

/**
 * The ARN of a secret's replica: the same name and random suffix in the
 * replica's region (the fourth field of the ARN; secret names hold no colon).
 */
export function replicaSecretArn(secretArn: string, region: string): string {
    const fields = secretArn.split(":");
    fields[3] = region;
    return fields.join(":");
}

/**
 * Identity policy for the service that signs requests: read these secrets
 * and their replicas, nothing else; decrypt with the customer-managed key
 * only through Secrets Manager and only for these secrets. (Replicas are
 * encrypted with their region's AWS-managed key, which needs no grant.)
 */
export function readPolicyDocument(secretArns: readonly string[], replicaRegions: readonly string[], kmsKeyArn?: string): PolicyDocument {
    const replicaArns = replicaRegions.flatMap((region) => secretArns.map((arn) => replicaSecretArn(arn, region)));
    const statements: Statement[] = [
        { Sid: "ReadQredoPartnerApiSecrets", Effect: "Allow", Action: readActions, Resource: [...secretArns, ...replicaArns] },
    ];
    if (kmsKeyArn !== undefined) {
        statements.push({
            Sid: "DecryptQredoPartnerApiSecrets",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: kmsKeyArn,
            Condition: {
                StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" },
                StringEquals: { "kms:EncryptionContext:SecretARN": secretArns },
            },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** Resource policy on one secret letting the configured principals read it. */
export function secretReaderPolicyDocument(secretArn: string, readerArns: readonly string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadersOfQredoPartnerApiSecret",
                Effect: "Allow",
                Principal: { AWS: readerArns },
                Action: readActions,
                Resource: secretArn,
            },
        ],
    };
}

/** A policy's size as AWS counts it: characters other than whitespace. */
export function policyLength(document: PolicyDocument): number {
    return JSON.stringify(document).replace(/\s/g, "").length;
}

/**
 * The longest ARN AWS can give a secret of this name in this region: the
 * longest partition, a 12-digit account and the 6-character random suffix.
 * Used to check policy sizes before the real ARNs exist.
 */
export function longestSecretArn(name: string, region: string): string {
    return `arn:aws-us-gov:secretsmanager:${region}:000000000000:secret:${name}-XXXXXX`;
}

/** The longest ARN a KMS key can have in this region (a multi-Region key id). */
export function longestKmsKeyArn(region: string): string {
    return `arn:aws-us-gov:kms:${region}:000000000000:key/mrk-${"0".repeat(32)}`;
}

/**
 * IAM policy documents, as pure functions of resolved ARNs so that their
 * exact content is easy to read and to test.
 */

/** The only actions a reader of the credentials gets. */
export const readActions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] as const;

interface Statement {
    readonly Sid: string;
    readonly Effect: "Allow";
    readonly Principal?: { readonly AWS: readonly string[] };
    readonly Action: string | readonly string[];
    readonly Resource: string | readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly Statement[];
}

/**
 * Identity policy for the service that signs requests: read these two
 * secrets and nothing else; decrypt with the customer-managed key only
 * through Secrets Manager.
 */
export function readPolicyDocument(secretArns: readonly string[], kmsKeyArn?: string): PolicyDocument {
    const statements: Statement[] = [
        { Sid: "ReadQredoPartnerApiSecrets", Effect: "Allow", Action: readActions, Resource: secretArns },
    ];
    if (kmsKeyArn !== undefined) {
        statements.push({
            Sid: "DecryptQredoPartnerApiSecrets",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: kmsKeyArn,
            Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
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

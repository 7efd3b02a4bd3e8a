import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { defaults, defaultTags, environmentDefaults, projectName, secretNames, type Environment, type KeyStage } from "./environments";
import { readPolicyDocument, secretReaderPolicyDocument } from "./policies";
import { spkiSha256Fingerprint } from "./publicKey";

export interface PartnerApiCredentialsArgs {
    /** Which Qredo environment these credentials are for. */
    readonly environment: Environment;
    /** The Base64 Partner API key, already validated and trimmed. Stored as a Pulumi secret. */
    readonly apiKey: pulumi.Input<string>;
    /** The RSA key generation; bumping it replaces the key. @default 1 */
    readonly keyVersion?: number;
    /**
     * `pending`: the newest key is stored as AWSPENDING and signers keep the
     * current one; `current`: the newest key is AWSCURRENT. Changing it
     * changes only the labels of the newest version. @default "current"
     */
    readonly keyStage?: KeyStage;
    /** Secrets are `<prefix>/<environment>/private-key` and `.../api-key`. @default "qredo/partner-api" */
    readonly secretNamePrefix?: string;
    /** Customer-managed KMS key (ARN, id or alias/NAME) for both secrets. @default the AWS-managed key */
    readonly kmsKeyId?: string;
    /** Secrets Manager deletion window, 0 or 7–30 days. @default 30 for production, 7 for sandbox */
    readonly recoveryWindowInDays?: number;
    /** Pulumi `protect` on the two secrets. @default true for production, false for sandbox */
    readonly protect?: boolean;
    /** IAM principals allowed to read both secrets through a resource policy. @default none */
    readonly readerArns?: readonly string[];
    /** Regions to replicate both secrets to. @default none */
    readonly replicaRegions?: readonly string[];
    /** Merged over the default tags (Project, Environment, ManagedBy). @default none */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The Qredo Partner API credentials of one environment: an RSA 2048 key pair
 * whose private half (PKCS#1 PEM) and the API key live in Secrets Manager, a
 * least-privilege read policy, and the public key to upload to Qredo.
 *
 * Resource names and the type token are a compatibility contract: renaming
 * them replaces keys and secrets, so refactor with `aliases`.
 */
export class PartnerApiCredentials extends pulumi.ComponentResource {
    public readonly environment: Environment;
    public readonly keyVersion: number;
    public readonly keyStage: KeyStage;
    /** Hex id of the key generation; changes when the key is rotated. */
    public readonly keyId: pulumi.Output<string>;
    /** SPKI public key PEM of the newest key (staged or current): the file to upload to the Qredo Web App. */
    public readonly publicKeyPem: pulumi.Output<string>;
    /** Lowercase hex SHA-256 of the DER SPKI public key. */
    public readonly publicKeyFingerprintSha256: pulumi.Output<string>;
    public readonly privateKeySecret: secretsmanager.Secret;
    public readonly apiKeySecret: secretsmanager.Secret;
    public readonly readPolicy: iam.Policy;

    constructor(name: string, args: PartnerApiCredentialsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("qredo-partner-keys:index:PartnerApiCredentials", name, {}, opts);

        const environment = args.environment;
        const environmentDefault = environmentDefaults[environment];
        this.environment = environment;
        this.keyVersion = args.keyVersion ?? defaults.keyVersion;
        this.keyStage = args.keyStage ?? defaults.keyStage;

        // A new keyVersion gives a new RandomId, and the private key is replaced
        // with it, twice over: replaceWith acts when the RandomId is replaced in
        // the same update; replacementTrigger (its hex id, recorded in the key's
        // state) also when an update stopped between the two (Ctrl-C, a failed
        // step), so running it again still replaces the key. Each covers a case
        // the other does not: the engine ignores a trigger the state has no
        // value for yet (a stack deployed before it existed). keyStage must
        // never reach the keepers: promoting a staged key must keep it.
        const keyGeneration = new random.RandomId(
            `${name}-key-generation`,
            { byteLength: 8, keepers: { keyVersion: String(this.keyVersion) } },
            { parent: this },
        );
        const privateKey = new tls.PrivateKey(
            `${name}-private-key`,
            { algorithm: "RSA", rsaBits: 2048 },
            { parent: this, replaceWith: [keyGeneration], replacementTrigger: keyGeneration.hex },
        );

        const names = secretNames(args.secretNamePrefix ?? defaults.secretNamePrefix, environment);
        const tags = { ...defaultTags(environment), ...args.tags };
        // Nothing in here may depend on keyVersion: rotation must keep the secrets (and their ARNs).
        const secretArgs = {
            kmsKeyId: args.kmsKeyId,
            recoveryWindowInDays: args.recoveryWindowInDays ?? environmentDefault.recoveryWindowInDays,
            replicas: (args.replicaRegions ?? []).map((region) => ({ region })),
            tags,
        };
        const secretOpts = { parent: this, protect: args.protect ?? environmentDefault.protect };

        this.privateKeySecret = new secretsmanager.Secret(
            `${name}-private-key`,
            {
                ...secretArgs,
                name: names.privateKey,
                description: `Qredo Partner API ${environment} RSA 2048 private key (PKCS#1 PEM) for signing requests. Managed by Pulumi project ${projectName}.`,
            },
            secretOpts,
        );
        this.apiKeySecret = new secretsmanager.Secret(
            `${name}-api-key`,
            {
                ...secretArgs,
                name: names.apiKey,
                description: `Qredo Partner API ${environment} API key (Base64). Managed by Pulumi project ${projectName}.`,
            },
            secretOpts,
        );

        // retainOnDelete: a rotation replaces the version, and the old one must
        // stay in Secrets Manager (as AWSPREVIOUS) for a rollback.
        const versionOpts = { parent: this, retainOnDelete: true };
        // Stated explicitly, never left to PutSecretValue's default: a staged
        // key must not become AWSCURRENT before Qredo has its public half.
        // versionStages updates in place (promotion moves AWSCURRENT here and
        // AWSPREVIOUS to the old key); only secretString replaces the version.
        new secretsmanager.SecretVersion(
            `${name}-private-key`,
            {
                secretId: this.privateKeySecret.id,
                secretString: pulumi.secret(privateKey.privateKeyPem),
                versionStages: [this.keyStage === "pending" ? "AWSPENDING" : "AWSCURRENT"],
            },
            versionOpts,
        );
        new secretsmanager.SecretVersion(
            `${name}-api-key`,
            { secretId: this.apiKeySecret.id, secretString: pulumi.secret(args.apiKey) },
            versionOpts,
        );

        const secretArns = [this.privateKeySecret.arn, this.apiKeySecret.arn];
        const replicaRegions = args.replicaRegions ?? [];
        const kmsKeyArn = args.kmsKeyId === undefined ? undefined : kms.getKeyOutput({ keyId: args.kmsKeyId }, { parent: this }).arn;
        this.readPolicy = new iam.Policy(
            `${name}-read`,
            {
                description: `Read the Qredo Partner API ${environment} private key and API key secrets.`,
                policy: pulumi
                    .all([pulumi.all(secretArns), kmsKeyArn])
                    .apply(([arns, keyArn]) => JSON.stringify(readPolicyDocument(arns, replicaRegions, keyArn))),
                tags,
            },
            { parent: this },
        );

        const readerArns = args.readerArns ?? [];
        if (readerArns.length > 0) {
            for (const [suffix, secret] of [
                ["private-key", this.privateKeySecret],
                ["api-key", this.apiKeySecret],
            ] as const) {
                new secretsmanager.SecretPolicy(
                    `${name}-${suffix}-readers`,
                    {
                        secretArn: secret.arn,
                        policy: secret.arn.apply((arn) => JSON.stringify(secretReaderPolicyDocument(arn, readerArns))),
                        blockPublicPolicy: true,
                    },
                    { parent: this },
                );
            }
        }

        this.keyId = keyGeneration.hex;
        this.publicKeyPem = privateKey.publicKeyPem;
        this.publicKeyFingerprintSha256 = privateKey.publicKeyPem.apply(spkiSha256Fingerprint);

        this.registerOutputs({
            keyId: this.keyId,
            publicKeyPem: this.publicKeyPem,
            publicKeyFingerprintSha256: this.publicKeyFingerprintSha256,
            keyStage: this.keyStage,
            privateKeySecretArn: this.privateKeySecret.arn,
            apiKeySecretArn: this.apiKeySecret.arn,
            readPolicyArn: this.readPolicy.arn,
        });
    }
}

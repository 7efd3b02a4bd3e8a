// A Secrets Manager endpoint on loopback, speaking the JSON protocol the AWS
// SDK uses, so tests run the real SDK client (endpoint settings, retries,
// abort signals) with no AWS account. Staging labels behave as AWS documents:
//
// - PutSecretValue adds a version carrying VersionStages (default AWSCURRENT);
//   each label moves from whichever version had it, and moving AWSCURRENT
//   moves AWSPREVIOUS to the version that had AWSCURRENT.
// - UpdateSecretVersionStage moves a label (MoveToVersionId, naming the
//   version it leaves in RemoveFromVersionId) or removes it; AWSCURRENT can
//   only be moved, never removed, and moving it moves AWSPREVIOUS too.
// - GetSecretValue by VersionStage (default AWSCURRENT) and/or VersionId.
// - DescribeSecret lists the labelled versions only (unlabelled ones are
//   deprecated: AWS may prune them).
//
// `hang` makes it accept requests and never answer, as a stuck endpoint does.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface Version {
    readonly id: string;
    readonly value: string;
    stages: string[];
}

interface StoredSecret {
    readonly arn: string;
    readonly name: string;
    readonly versions: Version[];
}

interface RequestBody {
    readonly SecretId?: string;
    readonly SecretString?: string;
    readonly ClientRequestToken?: string;
    readonly VersionStages?: string[];
    readonly VersionStage?: string;
    readonly VersionId?: string;
    readonly MoveToVersionId?: string;
    readonly RemoveFromVersionId?: string;
}

type Answer = [number, Record<string, unknown>];

class AwsError extends Error {
    constructor(
        readonly type: string,
        message: string,
    ) {
        super(message);
    }
}

export class FakeSecretsManager {
    private readonly secrets = new Map<string, StoredSecret>();
    private server?: Server;
    /** Secret ids that answer AccessDeniedException. */
    readonly denied = new Set<string>();
    /** Version stages that GetSecretValue denies (as a policy condition on secretsmanager:VersionStage can). */
    readonly deniedStages = new Set<string>();
    /** Every request, as `Operation SecretId` (plus ` VersionStage` when one was asked for). */
    readonly calls: string[] = [];
    /** The region each request was signed for (from its SigV4 credential scope). */
    readonly regions: string[] = [];
    /** While true, requests are read and never answered. */
    hang = false;
    /** While set, requests are answered only once it has settled (a slow endpoint, as slow as a test needs). */
    holdUntil?: Promise<unknown>;

    /**
     * Stores a new version of the secret with this name or ARN, as
     * PutSecretValue does (creating the secret if needed); returns its ARN.
     * @param options.stages the labels it takes @default ["AWSCURRENT"]
     */
    put(nameOrArn: string, value: string, options: { stages?: string[]; region?: string } = {}): string {
        const existing = this.secrets.get(nameOrArn) ?? [...this.secrets.values()].find((s) => s.name === nameOrArn);
        const secret = existing ?? {
            arn: `arn:aws:secretsmanager:${options.region ?? "eu-west-2"}:123456789012:secret:${nameOrArn}-AbCdEf`,
            name: nameOrArn,
            versions: [],
        };
        this.secrets.set(secret.arn, secret);
        this.putValue(secret, value, randomUUID(), options.stages ?? ["AWSCURRENT"]);
        return secret.arn;
    }

    /** UpdateSecretVersionStage, in process: moves or removes a label. */
    updateVersionStage(secretId: string, input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }): void {
        this.updateStage(this.find(secretId), input);
    }

    /** The id of the version that carries `stage`, if any. */
    versionId(secretId: string, stage: string): string | undefined {
        return this.find(secretId).versions.find((v) => v.stages.includes(stage))?.id;
    }

    /** Labels by version id, for the labelled versions (what DescribeSecret shows). */
    stages(secretId: string): Record<string, string[]> {
        return Object.fromEntries(
            this.find(secretId)
                .versions.filter((v) => v.stages.length > 0)
                .map((v) => [v.id, [...v.stages]]),
        );
    }

    async start(): Promise<string> {
        this.server = createServer((request, response) => {
            let body = "";
            request.on("data", (chunk) => (body += chunk));
            request.on("end", () => {
                if (this.hang) {
                    return;
                }
                if (this.holdUntil !== undefined) {
                    const answer = () => this.respond(request, body, response);
                    void this.holdUntil.then(answer, answer);
                    return;
                }
                this.respond(request, body, response);
            });
        });
        await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    private respond(request: IncomingMessage, body: string, response: ServerResponse): void {
        const operation = String(request.headers["x-amz-target"] ?? "").replace("secretsmanager.", "");
        const input = JSON.parse(body || "{}") as RequestBody;
        this.calls.push([operation, String(input.SecretId), ...(input.VersionStage ? [input.VersionStage] : [])].join(" "));
        this.regions.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(request.headers.authorization))?.[1] ?? "");
        const [status, payload] = this.answer(operation, input);
        response.writeHead(status, {
            "content-type": "application/x-amz-json-1.1",
            ...(status === 200 ? {} : { "x-amzn-errortype": String(payload.__type) }),
        });
        response.end(JSON.stringify(payload));
    }

    /** Stops listening and drops every connection, including hung ones. */
    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise((resolve) => this.server?.close(resolve));
    }

    private answer(operation: string, input: RequestBody): Answer {
        try {
            const stageDenied =
                operation === "GetSecretValue" && input.VersionStage !== undefined && this.deniedStages.has(input.VersionStage);
            if ((input.SecretId !== undefined && this.denied.has(input.SecretId)) || stageDenied) {
                throw new AwsError(
                    "AccessDeniedException",
                    `User is not authorized to perform: secretsmanager:${operation} on resource: ${input.SecretId}`,
                );
            }
            const secret = this.find(String(input.SecretId));
            switch (operation) {
                case "GetSecretValue":
                    return [200, this.getValue(secret, input)];
                case "DescribeSecret":
                    return [200, { ARN: secret.arn, Name: secret.name, VersionIdsToStages: this.stages(secret.arn) }];
                case "PutSecretValue": {
                    const version = this.putValue(
                        secret,
                        String(input.SecretString),
                        input.ClientRequestToken ?? randomUUID(),
                        input.VersionStages ?? ["AWSCURRENT"],
                    );
                    return [200, { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages }];
                }
                case "UpdateSecretVersionStage":
                    this.updateStage(secret, input);
                    return [200, { ARN: secret.arn, Name: secret.name }];
                default:
                    throw new AwsError("InvalidRequestException", `unsupported operation ${operation}`);
            }
        } catch (error) {
            if (error instanceof AwsError) {
                return [400, { __type: error.type, message: error.message }];
            }
            throw error;
        }
    }

    private find(secretId: string): StoredSecret {
        const secret = this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.name === secretId);
        if (secret === undefined) {
            throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        }
        return secret;
    }

    private getValue(secret: StoredSecret, input: RequestBody): Record<string, unknown> {
        const stage = input.VersionStage ?? (input.VersionId === undefined ? "AWSCURRENT" : undefined);
        const version = secret.versions.find(
            (v) => (input.VersionId === undefined || v.id === input.VersionId) && (stage === undefined || v.stages.includes(stage)),
        );
        if (version === undefined) {
            const what = input.VersionId === undefined ? `staging label: ${stage}` : `VersionId: ${input.VersionId}`;
            throw new AwsError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for ${what}`);
        }
        return {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: version.id,
            SecretString: version.value,
            VersionStages: [...version.stages],
        };
    }

    private putValue(secret: StoredSecret, value: string, id: string, stages: string[]): Version {
        const existing = secret.versions.find((v) => v.id === id);
        if (existing !== undefined) {
            if (existing.value !== value) {
                throw new AwsError("ResourceExistsException", `A version with VersionId ${id} already exists with a different value.`);
            }
            return existing; // an idempotent retry
        }
        const version: Version = { id, value, stages: [] };
        secret.versions.push(version);
        for (const stage of stages) {
            this.moveStage(secret, stage, version);
        }
        return version;
    }

    private updateStage(secret: StoredSecret, input: RequestBody): void {
        const stage = String(input.VersionStage);
        const holder = secret.versions.find((v) => v.stages.includes(stage));
        const byId = (id: string) => {
            const version = secret.versions.find((v) => v.id === id);
            if (version === undefined) {
                throw new AwsError(
                    "ResourceNotFoundException",
                    `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
                );
            }
            return version;
        };
        if (holder !== undefined && holder.id !== input.MoveToVersionId && holder.id !== input.RemoveFromVersionId) {
            throw new AwsError(
                "InvalidParameterException",
                `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
            );
        }
        if (input.MoveToVersionId === undefined) {
            if (stage === "AWSCURRENT") {
                throw new AwsError(
                    "InvalidParameterException",
                    "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
                );
            }
            if (input.RemoveFromVersionId !== undefined) {
                const from = byId(input.RemoveFromVersionId);
                from.stages = from.stages.filter((s) => s !== stage);
            }
            return;
        }
        this.moveStage(secret, stage, byId(input.MoveToVersionId));
    }

    /** Puts `stage` on `to` alone; AWSCURRENT drags AWSPREVIOUS to the version it left. */
    private moveStage(secret: StoredSecret, stage: string, to: Version): void {
        const from = secret.versions.find((v) => v.stages.includes(stage));
        if (from === to) {
            return;
        }
        if (from !== undefined) {
            from.stages = from.stages.filter((s) => s !== stage);
        }
        to.stages.push(stage);
        if (stage === "AWSCURRENT" && from !== undefined) {
            this.moveStage(secret, "AWSPREVIOUS", from);
        }
    }
}

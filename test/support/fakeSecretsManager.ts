// A Secrets Manager endpoint on loopback, speaking the JSON protocol the AWS
// SDK uses (GetSecretValue, DescribeSecret), so tests run the real SDK client,
// including its endpoint settings, with no AWS account.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

interface StoredSecret {
    readonly arn: string;
    readonly name: string;
    versions: { id: string; value: string; stages: string[] }[];
}

export class FakeSecretsManager {
    private readonly secrets = new Map<string, StoredSecret>();
    private server?: Server;
    /** Secret ids that answer AccessDeniedException. */
    readonly denied = new Set<string>();
    /** Every request, as `Operation SecretId`. */
    readonly calls: string[] = [];
    /** The region each request was signed for (from its SigV4 credential scope). */
    readonly regions: string[] = [];

    /** Adds a new current version (the old current one becomes AWSPREVIOUS). Returns the ARN. */
    put(name: string, value: string, options: { keepPrevious?: boolean } = {}): string {
        const arn = `arn:aws:secretsmanager:eu-west-2:123456789012:secret:${name}-AbCdEf`;
        const secret = this.secrets.get(arn) ?? { arn, name, versions: [] };
        for (const version of secret.versions) {
            version.stages = version.stages.includes("AWSCURRENT") && options.keepPrevious !== false ? ["AWSPREVIOUS"] : [];
        }
        secret.versions.push({ id: randomUUID(), value, stages: ["AWSCURRENT"] });
        this.secrets.set(arn, secret);
        return arn;
    }

    async start(): Promise<string> {
        this.server = createServer((request, response) => {
            let body = "";
            request.on("data", (chunk) => (body += chunk));
            request.on("end", () => {
                const operation = String(request.headers["x-amz-target"] ?? "").replace("secretsmanager.", "");
                const secretId = String((JSON.parse(body || "{}") as { SecretId?: string }).SecretId);
                this.calls.push(`${operation} ${secretId}`);
                this.regions.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(request.headers.authorization))?.[1] ?? "");
                const [status, payload] = this.answer(operation, secretId);
                response.writeHead(status, {
                    "content-type": "application/x-amz-json-1.1",
                    ...(status === 200 ? {} : { "x-amzn-errortype": String(payload.__type) }),
                });
                response.end(JSON.stringify(payload));
            });
        });
        await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        await new Promise((resolve) => this.server?.close(resolve));
    }

    private answer(operation: string, secretId: string): [number, Record<string, unknown>] {
        if (this.denied.has(secretId)) {
            return [400, { __type: "AccessDeniedException", message: `User is not authorized to perform: secretsmanager:${operation} on resource: ${secretId}` }];
        }
        const secret = this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.name === secretId);
        if (secret === undefined) {
            return [400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }];
        }
        if (operation === "GetSecretValue") {
            const current = secret.versions.find((v) => v.stages.includes("AWSCURRENT"));
            if (current === undefined) {
                return [400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" }];
            }
            return [200, { ARN: secret.arn, Name: secret.name, VersionId: current.id, SecretString: current.value, VersionStages: current.stages }];
        }
        if (operation === "DescribeSecret") {
            const stages = Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]));
            return [200, { ARN: secret.arn, Name: secret.name, VersionIdsToStages: stages }];
        }
        return [400, { __type: "InvalidRequestException", message: `unsupported operation ${operation}` }];
    }
}

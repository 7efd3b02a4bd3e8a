// A Qredo Partner API on loopback. It checks requests the way Qredo does
// (DESIGN.md): x-api-key must be the API key, and x-sign must be a valid RSA
// PKCS#1 v1.5 SHA-256 signature, base64url without padding, of
// `x-timestamp + full URL + body` under the ONE public key uploaded to it.
// Anything else gets 401. `hang` makes it read requests and never answer.
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
    readonly method: string;
    readonly url: string;
    readonly body: string;
    readonly status: number;
}

export class FakeQredo {
    private server?: Server;
    private publicKey?: KeyObject;
    private origin = "";
    /** The API key Qredo issued. */
    apiKey = "";
    /** Every answered request, in order. */
    readonly requests: SeenRequest[] = [];
    /** While true, requests are read and never answered. */
    hang = false;

    /** The Web App upload: from now on only this key is accepted. */
    upload(publicKeyPem: string): void {
        this.publicKey = createPublicKey(publicKeyPem);
    }

    /** Requests answered 401, since the `from`th request. */
    rejections(from = 0): number {
        return this.requests.slice(from).filter((r) => r.status === 401).length;
    }

    /** The base URL to give the client: `http://127.0.0.1:<port>/api/v1/p`. */
    get baseUrl(): string {
        return `${this.origin}/api/v1/p`;
    }

    async start(): Promise<string> {
        this.server = createServer((request, response) => {
            const chunks: Buffer[] = [];
            request.on("data", (chunk: Buffer) => chunks.push(chunk));
            request.on("end", () => {
                if (this.hang) {
                    return;
                }
                const body = Buffer.concat(chunks);
                const url = `${this.origin}${request.url ?? ""}`;
                const accepted = this.accepts(request.headers, url, body);
                const status = accepted ? 200 : 401;
                this.requests.push({ method: request.method ?? "", url, body: body.toString("utf8"), status });
                response.writeHead(status, { "content-type": "application/json" });
                response.end(
                    JSON.stringify(accepted ? { method: request.method, echo: body.toString("utf8") } : { code: 401, msg: "Unauthorized" }),
                );
            });
        });
        await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
        this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this.baseUrl;
    }

    /** Stops listening and drops every connection, including hung ones. */
    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise((resolve) => this.server?.close(resolve));
    }

    private accepts(headers: Record<string, string | string[] | undefined>, url: string, body: Buffer): boolean {
        const [apiKey, timestamp, signature] = ["x-api-key", "x-timestamp", "x-sign"].map((name) => headers[name]);
        if (
            this.publicKey === undefined ||
            apiKey !== this.apiKey ||
            typeof timestamp !== "string" ||
            !/^\d+$/.test(timestamp) ||
            typeof signature !== "string"
        ) {
            return false;
        }
        if (!/^[A-Za-z0-9_-]+$/.test(signature)) {
            return false; // base64url without padding, nothing else
        }
        const signed = Buffer.concat([Buffer.from(timestamp + url, "utf8"), body]);
        return verify("sha256", signed, { key: this.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(signature, "base64url"));
    }
}

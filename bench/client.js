// @ts-check
// npm run bench (second part): what signing costs a service that uses
// @qredo-partner-keys/client, measured on this machine in this run.
//
//   signatures/s   signRequest() with a loaded key, against `openssl speed
//                  rsa2048` (same RSA 2048 private-key operation, one core);
//                  the client should reach at least 90 % of it
//   request()      overhead of PartnerApiClient.request() over a bare fetch to
//                  a loopback server, credentials already cached (p50); it
//                  should be one signature plus under 1 ms
//
// Runs against client/dist (built first), as an installed service would.
"use strict";
const { execFileSync } = require("node:child_process");
const { generateKeyPairSync } = require("node:crypto");
const { createServer } = require("node:http");
const { build } = require("../scripts/build.js");
const { makeApiKey } = require("../test/support/providers.js");

const seconds = 3;

/** @param {number[]} values */
function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

/** openssl's own figure: "rsa 2048 bits <s/sign> <s/verify> <sign/s> <verify/s>". */
function opensslSignsPerSecond() {
    const out = execFileSync("openssl", ["speed", "-seconds", String(seconds), "rsa2048"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    });
    const row = /^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+[\d.]+\s*$/m.exec(out);
    if (row === null) {
        throw new Error(`could not read openssl speed's output:\n${out}`);
    }
    return Number(row[1]);
}

/** @param {typeof import("../client/src/index")} client @param {import("node:crypto").KeyObject} key */
function clientSignsPerSecond(client, key) {
    const input = {
        privateKeyPem: key,
        apiKey: makeApiKey(),
        url: `${client.partnerApiBaseUrl}/assets?limit=10`,
        body: '{"name":"bench"}',
    };
    const deadline = process.hrtime.bigint() + BigInt(seconds * 1e9);
    const start = process.hrtime.bigint();
    let count = 0;
    while (process.hrtime.bigint() < deadline) {
        client.signRequest(input);
        count++;
    }
    return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** p50 of bare fetch and of request() to one loopback server, interleaved. @param {typeof import("../client/src/index")} client @param {string} pem */
async function requestOverhead(client, pem) {
    const server = createServer((request, response) => {
        request.resume();
        request.on("end", () => response.end('{"ok":true}'));
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
    const address = /** @type {import("node:net").AddressInfo} */ (server.address());
    const baseUrl = `http://127.0.0.1:${address.port}/api/v1/p`;
    const secrets = { "private-key": pem, "api-key": makeApiKey() };
    // Credentials come from memory: the bench measures request(), not Secrets Manager.
    const secretsManager = /** @type {any} */ ({
        send: async (/** @type {any} */ command) => {
            const { SecretId, VersionStage } = command.input;
            if (VersionStage === "AWSPENDING") {
                throw Object.assign(new Error("no AWSPENDING"), { name: "ResourceNotFoundException" });
            }
            return { SecretString: secrets[/** @type {"private-key" | "api-key"} */ (SecretId)], VersionId: `${SecretId}-v1` };
        },
    });
    const qredo = new client.PartnerApiClient({ privateKeySecretId: "private-key", apiKeySecretId: "api-key", baseUrl, secretsManager });
    const bare = [];
    const signed = [];
    const time = async (/** @type {() => Promise<Response>} */ call) => {
        const start = process.hrtime.bigint();
        await (await call()).arrayBuffer();
        return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const bareCall = () => fetch(`${baseUrl}/assets`, { headers: { "x-api-key": "k", "x-timestamp": "1", "x-sign": "s" } });
    const signedCall = () => qredo.request("/assets");
    for (let i = 0; i < 200; i++) {
        await time(bareCall); // warm up: connections, JIT, the credential cache
        await time(signedCall);
    }
    for (let i = 0; i < 1000; i++) {
        bare.push(await time(bareCall));
        signed.push(await time(signedCall));
    }
    server.close();
    server.closeAllConnections();
    return { bare: median(bare), signed: median(signed) };
}

async function main() {
    if (!build()) {
        throw new Error("the build failed (tsc's output is above)");
    }
    /** @type {typeof import("../client/src/index")} */
    const client = require("@qredo-partner-keys/client");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

    const openssl = opensslSignsPerSecond();
    const ours = clientSignsPerSecond(client, privateKey);
    const oneSignatureMs = 1000 / ours;
    const { bare, signed } = await requestOverhead(client, pem);
    const overhead = signed - bare;

    console.log(`client signing (RSA 2048, ${seconds} s each, one core)`);
    console.log(`  openssl speed rsa2048  ${openssl.toFixed(0).padStart(6)} signs/s`);
    console.log(
        `  signRequest()          ${ours.toFixed(0).padStart(6)} signs/s  ${((ours / openssl) * 100).toFixed(0)} % of openssl (target ≥ 90 %)`,
    );
    console.log("request() over a bare fetch, loopback, cached credentials (p50 of 1000)");
    console.log(`  bare fetch             ${bare.toFixed(3).padStart(7)} ms`);
    console.log(`  request()              ${signed.toFixed(3).padStart(7)} ms`);
    console.log(
        `  overhead               ${overhead.toFixed(3).padStart(7)} ms = one signature (${oneSignatureMs.toFixed(3)} ms) + ${(overhead - oneSignatureMs).toFixed(3)} ms (target < 1 ms)`,
    );
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});

// One realistic mistake per case: npm run deploy exits with a clear message
// and the stand-in pulumi saw no stack creation, no config change and no `up`.
import { execFileSync } from "node:child_process";
import type { KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changes, DeployHarness, deployedStack, type Place, type Run } from "./support/deployRun";
import { makeApiKey } from "./support/providers.js";
import { testKey } from "./support/testKeys";

const h = new DeployHarness();
const storedKey = makeApiKey();

interface Mistake {
    readonly name: string;
    readonly args: string[];
    readonly env?: Record<string, string | undefined>;
    /** prepares the user's folder; returns nothing */
    readonly files?: (cwd: string) => void;
    readonly existing?: boolean;
    /** run without adding --yes */
    readonly noYes?: boolean;
    readonly status: number;
    readonly message: string;
    /** a value that must appear nowhere: not in the output, not in any pulumi call */
    readonly secret?: string;
}

const key = makeApiKey();
const blankPassphraseDir = mkdtempSync(join(tmpdir(), "qredo-keys-passphrase-"));
const blankPassphraseFile = join(blankPassphraseDir, "passphrase.txt");
writeFileSync(blankPassphraseFile, " \n");
afterAll(() => rmSync(blankPassphraseDir, { recursive: true, force: true }));
const mistakes: Mistake[] = [
    {
        name: "--api-key-file that does not exist",
        args: ["sandbox", "--api-key-file", "nope"],
        status: 2,
        message: "deploy: error: --api-key-file nope: no such file.",
    },
    {
        name: "an empty key file",
        args: ["sandbox", "--api-key-file", "apikey"],
        files: (d) => writeFileSync(join(d, "apikey"), ""),
        status: 2,
        message: "--api-key-file apikey is empty; paste the key from the Qredo Web App into it and save.",
    },
    {
        name: "a key file of blank lines only",
        args: ["sandbox"],
        env: { QREDO_API_KEY: undefined },
        files: (d) => writeFileSync(join(d, "apikey"), "\n \r\n\t\n"),
        status: 2,
        message: "deploy: error: ./apikey is empty; paste the key from the Qredo Web App into it and save.",
    },
    {
        name: "a directory as the key file",
        args: ["sandbox", "--api-key-file", "keys"],
        files: (d) => mkdirSync(join(d, "keys")),
        status: 2,
        message: "--api-key-file keys is a directory; pass the `apikey` file itself, e.g. --api-key-file keys/apikey.",
    },
    {
        name: "a directory named apikey in the folder npm ran in",
        args: ["sandbox"],
        env: { QREDO_API_KEY: undefined },
        files: (d) => mkdirSync(join(d, "apikey")),
        status: 2,
        message:
            "./apikey is a directory, not the file holding the key; save the key from the Qredo Web App in a file and pass that (--api-key-file PATH), or replace the directory with the `apikey` file.",
    },
    {
        name: "--api-key-file naming a directory that is itself called apikey, with a trailing slash",
        args: ["sandbox", "--api-key-file", "apikey/"],
        files: (d) => mkdirSync(join(d, "apikey")),
        status: 2,
        message: "--api-key-file apikey/ is a directory, not the file holding the key;",
    },
    {
        name: "a FIFO as the key file (must not block)",
        args: ["sandbox", "--api-key-file", "fifo"],
        files: (d) => execFileSync("mkfifo", [join(d, "fifo")]),
        status: 2,
        message: "--api-key-file fifo is not a regular file (a pipe, socket or device)",
    },
    {
        name: "a huge key file",
        args: ["sandbox", "--api-key-file", "big"],
        files: (d) => writeFileSync(join(d, "big"), "A".repeat(70_000)),
        status: 2,
        message: "--api-key-file big is 70000 bytes, far more than an API key",
    },
    {
        name: "UTF-16 without a byte-order mark",
        args: ["sandbox", "--api-key-file", "apikey"],
        files: (d) => writeFileSync(join(d, "apikey"), Buffer.from(key, "utf16le")),
        status: 2,
        message:
            "it looks like UTF-16 without a byte-order mark. Convert it to UTF-8 in place: iconv -f UTF-16LE -t UTF-8 apikey > apikey.utf8 && mv apikey.utf8 apikey",
    },
    {
        name: "a truncated key",
        args: ["sandbox"],
        env: { QREDO_API_KEY: key.slice(0, -1) },
        status: 2,
        message: "the API key from $QREDO_API_KEY ",
    },
    {
        name: "a PEM pasted as the key",
        args: ["sandbox", "--api-key-file", "apikey"],
        files: (d) => writeFileSync(join(d, "apikey"), "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"),
        status: 2,
        message: "looks like a PEM key, not the API key",
    },
    {
        name: "stack prod",
        args: ["prod"],
        status: 2,
        message:
            'stack "prod" is neither sandbox nor production, and stacks/Pulumi.prod.yaml does not say which Qredo environment it is. Did you mean production?\n    npm run deploy -- production',
    },
    {
        name: "stack Sandbox (whose stack file a case-insensitive disk would find)",
        args: ["Sandbox"],
        status: 2,
        message: 'stack names are case-sensitive: "Sandbox" is not sandbox. Did you mean sandbox?\n    npm run deploy -- sandbox',
    },
    {
        name: "stack PRODUCTION, with a stack file of that very name",
        args: ["PRODUCTION"],
        files: () =>
            writeFileSync(join(h.project, "stacks", "Pulumi.PRODUCTION.yaml"), "config:\n  qredo-partner-keys:environment: production\n"),
        status: 2,
        message: 'stack names are case-sensitive: "PRODUCTION" is not production. Did you mean production?',
    },
    {
        name: "an unknown stack",
        args: ["staging"],
        status: 2,
        message:
            "say which environment it holds and the AWS region, as stacks/Pulumi.sandbox.yaml does, with secret names of its own, then run again. From the project folder:\n    printf 'config:\\n  aws:region: eu-west-2\\n  qredo-partner-keys:environment: sandbox\\n  qredo-partner-keys:secretNamePrefix: qredo/partner-api-staging\\n' > stacks/Pulumi.staging.yaml    # or production",
    },
    {
        name: "the API key pasted where the stack name goes",
        args: [key],
        status: 2,
        message: "deploy: error: the stack name looks like an API key; it is not repeated here, and nothing was run.",
        secret: key,
    },
    {
        name: "the API key after a flag npm swallowed (npm run deploy --api-key-file KEY sandbox)",
        args: [key, "sandbox"],
        env: { npm_lifecycle_event: "deploy", npm_config_api_key_file: "true" },
        status: 2,
        message: "Put -- before the options:\n    npm run deploy -- sandbox --api-key-file PATH\n",
        secret: key,
    },
    {
        name: "--api-key-file swallowed by npm, its path left behind (npm run deploy sandbox --api-key-file keys/apikey)",
        args: ["sandbox", "keys/apikey"],
        env: { npm_lifecycle_event: "deploy", npm_config_api_key_file: "true" },
        status: 2,
        message: "Put -- before the options:\n    npm run deploy -- sandbox --api-key-file keys/apikey\n",
    },
    {
        name: "--api-key-file=PATH without -- (npm keeps the value itself)",
        args: ["production"],
        files: (d) => writeFileSync(join(d, "apikey"), makeApiKey()),
        env: { npm_lifecycle_event: "deploy", npm_config_api_key_file: "keys/production key" },
        status: 2,
        message: "Put -- before the options:\n    npm run deploy -- production --api-key-file 'keys/production key'\n",
    },
    {
        name: "--secrets-provider=URL without --",
        args: ["production"],
        env: { npm_lifecycle_event: "deploy", npm_config_secrets_provider: "awskms://alias/pulumi-qredo?region=eu-west-2" },
        status: 2,
        message: "npm run deploy -- production --secrets-provider 'awskms://alias/pulumi-qredo?region=eu-west-2'\n",
    },
    {
        name: "a mistyped option",
        args: ["sandbox", "--rotat"],
        status: 2,
        message: "deploy: error: unknown option --rotat. Did you mean --rotate?\n",
    },
    {
        name: "the API key as the value of an option that does not exist",
        args: ["sandbox", `--api-key=${key}`],
        status: 2,
        message: "deploy: error: an argument looks like an API key; it is not repeated here, and nothing was run.",
        secret: key,
    },
    {
        name: "the API key given as --secrets-provider",
        args: ["sandbox", "--secrets-provider", key],
        status: 2,
        message: "deploy: error: the value of --secrets-provider looks like an API key; it is not repeated here, and nothing was run.",
        secret: key,
    },
    {
        name: "the API key given as --public-key-out",
        args: ["sandbox", "--public-key-out", key],
        status: 2,
        message: "deploy: error: the value of --public-key-out looks like an API key; it is not repeated here, and nothing was run.",
        secret: key,
    },
    {
        name: "--public-key-out naming a file that is not a public key",
        args: ["sandbox", "--public-key-out", "apikey.txt"],
        files: (d) => writeFileSync(join(d, "apikey.txt"), "not a public key"),
        status: 2,
        message:
            "deploy: error: --public-key-out apikey.txt exists and is not a public key file (one PUBLIC KEY block and nothing else); it is not overwritten.",
    },
    {
        name: "a leftover public-sandbox.pem that is not a public key, with no --public-key-out",
        args: ["sandbox"],
        files: (d) => writeFileSync(join(d, "public-sandbox.pem"), "notes, not a key\n"),
        status: 2,
        message:
            "deploy: error: public-sandbox.pem (the default public key file) exists and is not a public key file (one PUBLIC KEY block and nothing else); it is not overwritten. Remove it or name another with --public-key-out PATH.",
    },
    {
        name: "--public-key-out naming a PEM bundle: a public key, then its private key",
        args: ["sandbox", "--public-key-out", "bundle.pem"],
        files: (d) => {
            const pair = testKey(1);
            const pem = (k: KeyObject, type: "spki" | "pkcs8") => k.export({ type, format: "pem" }).toString();
            writeFileSync(join(d, "bundle.pem"), pem(pair.publicKey, "spki") + pem(pair.privateKey, "pkcs8"));
        },
        status: 2,
        message: "deploy: error: --public-key-out bundle.pem exists and is not a public key file (one PUBLIC KEY block and nothing else)",
    },
    {
        name: "a stack name with a space",
        args: ["my stack"],
        status: 2,
        message: 'deploy: error: "my stack" is not a stack name: use letters, digits, "-", "_" and "." only',
    },
    {
        name: "no --yes and no terminal",
        args: ["sandbox"],
        noYes: true,
        status: 2,
        message:
            "there is no terminal to confirm the update on. Run it in a terminal, or pass --yes to update without asking (pipelines): npm run deploy -- sandbox --yes",
    },
    {
        name: "--rotate swallowed by npm",
        args: ["sandbox", "--yes"],
        env: { npm_lifecycle_event: "deploy", npm_config_rotate: "true" },
        status: 2,
        message:
            "npm kept --rotate for itself (it set npm_config_rotate), so this script never saw it. Put -- before the options:\n    npm run deploy -- sandbox --rotate",
    },
    {
        name: "--yes swallowed by npm",
        args: ["sandbox"],
        env: { npm_lifecycle_event: "deploy", npm_config_yes: "true" },
        noYes: true,
        status: 2,
        message: "Put -- before the options:\n    npm run deploy -- sandbox --yes",
    },
    {
        name: "--promote with --rotate",
        args: ["sandbox", "--promote", "--rotate"],
        status: 2,
        message: "--promote and --rotate cannot go together",
    },
    {
        name: "--immediate without --rotate",
        args: ["sandbox", "--immediate"],
        status: 2,
        message:
            "--immediate without --rotate applies an immediate rotation that stacks/Pulumi.sandbox.yaml asks for, and it asks for none: keyVersion 1 (keyStage current); the stack has no deployed key yet. To rotate immediately: npm run deploy -- sandbox --rotate --immediate",
    },
    {
        name: "--public-key-out a directory",
        args: ["sandbox", "--public-key-out", "out"],
        files: (d) => mkdirSync(join(d, "out")),
        status: 2,
        message: "--public-key-out out is a directory; name a file, e.g. out/public.pem.",
    },
    {
        name: "no API key for a new stack",
        args: ["sandbox"],
        env: { QREDO_API_KEY: undefined },
        status: 2,
        message: "stack sandbox has no API key yet.",
    },
    {
        name: "no API key for a new stack, but an apikey under another name (a browser's download)",
        args: ["sandbox"],
        env: { QREDO_API_KEY: undefined },
        files: (d) => {
            // Not another environment's, not a public key, not a name a terminal would not show as written.
            for (const name of [
                "apikey (1) downloaded.txt",
                "apikey-production",
                "apikey-prod",
                "api_key.live",
                "api_key.pub",
                "apikey\x1b[31m",
                "apikey (copy) downloaded.txt",
            ]) {
                writeFileSync(join(d, name), makeApiKey());
            }
        },
        status: 2,
        message:
            ", where you ran npm. There is 'apikey (1) downloaded.txt': if it holds the sandbox API key (each environment has its own; a leftover key file of another stack looks the same), rename it: mv 'apikey (1) downloaded.txt' apikey\n",
    },
    {
        name: "a different API key for a stack that has one",
        args: ["sandbox"],
        existing: true,
        status: 2,
        message:
            "stack sandbox already stores a different API key than the one from $QREDO_API_KEY; nothing was changed. Replacing it is never done silently: only if you regenerated sandbox's key in the Qredo Web App and this is that key, run again with --replace-api-key. If",
    },
    {
        name: "a different API key from QREDO_API_KEY outside CI, where the variable never replaces a key",
        args: ["sandbox"],
        env: { CI: undefined },
        existing: true,
        status: 2,
        message:
            "and this is that key, save it in a file and run again with it: npm run deploy -- sandbox --api-key-file PATH --replace-api-key (and unset QREDO_API_KEY). If it may be another stack's key, do not.",
    },
    {
        name: "--replace-api-key without a key",
        args: ["sandbox", "--replace-api-key"],
        env: { QREDO_API_KEY: undefined },
        existing: true,
        status: 2,
        message: "--replace-api-key needs the new key",
    },
    {
        name: "--replace-api-key with a QREDO_API_KEY left in the shell, outside CI",
        args: ["sandbox", "--replace-api-key"],
        env: { CI: undefined },
        existing: true,
        status: 2,
        message:
            "QREDO_API_KEY is set, and outside CI it does not replace a stored key: it may be another stack's key left over in this shell. Save sandbox's new key from the Qredo Web App in a file and pass it: npm run deploy -- sandbox --api-key-file PATH --replace-api-key (and unset QREDO_API_KEY).",
    },
    {
        name: "--secrets-provider for a stack that exists",
        args: ["sandbox", "--secrets-provider", "awskms://alias/x?region=eu-west-2"],
        existing: true,
        status: 2,
        // Quoted: a shell would read the ? as a glob (zsh and bash -O failglob refuse an unmatched one).
        message:
            "--secrets-provider only applies to a new stack, and stack sandbox exists. To change it: npm run pulumi -- stack change-secrets-provider --stack sandbox 'awskms://alias/x?region=eu-west-2'\n",
    },
    {
        // Refused before any passphrase prompt: here, with no terminal, the prompt would fail first.
        name: "a truncated ./apikey for a new stack, checked before the passphrase",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: undefined, QREDO_API_KEY: undefined },
        files: (d) => writeFileSync(join(d, "apikey"), `${key.slice(0, 64)}\n`),
        status: 2,
        message: "deploy: error: the API key from ./apikey does not decode to the JSON object every Qredo API key holds",
    },
    {
        name: "an empty PULUMI_CONFIG_PASSPHRASE for a new stack, even beside a passphrase file (pulumi takes the variable)",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "/etc/hostname" },
        status: 2,
        message:
            "PULUMI_CONFIG_PASSPHRASE is set but empty: the new stack's secrets, its private key among them, would be encrypted with an empty passphrase",
    },
    {
        name: "a passphrase file holding only whitespace, for a new stack",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: blankPassphraseFile },
        status: 2,
        message: "PULUMI_CONFIG_PASSPHRASE_FILE names an empty file: the new stack's secrets",
    },
    {
        name: "a relative passphrase file in the user's folder holding only whitespace (read from there, not the project)",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: "passphrase.txt" },
        files: (d) => writeFileSync(join(d, "passphrase.txt"), "\u0085\n"),
        status: 2,
        message: "PULUMI_CONFIG_PASSPHRASE_FILE names an empty file: the new stack's secrets",
    },
    {
        name: "an empty PULUMI_CONFIG_PASSPHRASE_FILE, which pulumi treats as unset, and no terminal",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: "" },
        status: 2,
        message: "there is no terminal to ask for it on: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE",
    },
    {
        name: "no passphrase and no terminal",
        args: ["sandbox"],
        env: { PULUMI_CONFIG_PASSPHRASE: undefined },
        status: 2,
        message: "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE",
    },
    {
        name: "a hung pulumi",
        args: ["sandbox"],
        env: { FAKE_PULUMI_HANG: "stack ls", QREDO_PULUMI_TIMEOUT_SECONDS: "0.5" },
        status: 1,
        message: "`pulumi stack ls` did not finish within 0.5 s and was stopped.",
    },
];

const runs: Run[] = [];
beforeAll(async () => {
    h.setUp();
    runs.push(
        ...(await Promise.all(
            mistakes.map((m) => {
                const where: Place = h.place(m.existing ? { sandbox: deployedStack(h.keys[0], { apiKey: storedKey }) } : undefined);
                m.files?.(where.cwd);
                const yes = m.noYes || m.args.includes("--yes") ? [] : ["--yes"];
                return h.run(where, [...m.args, ...yes], { QREDO_API_KEY: makeApiKey(), CI: "true", ...m.env });
            }),
        )),
    );
});
afterAll(() => h.tearDown());

describe("npm run deploy refuses, before changing anything", () => {
    it.each(mistakes.map((m, i) => [m.name, i] as const))("%s", (_name, i) => {
        const run = runs[i];
        expect(run.stderr).toContain(mistakes[i].message);
        expect(run.status).toBe(mistakes[i].status);
        expect(changes(run)).toEqual([]);
        expect(run.stderr).not.toMatch(/^\s+at /m);
        const secret = mistakes[i].secret;
        if (secret !== undefined) {
            expect(run.stdout + run.stderr).not.toContain(secret.slice(0, 24));
            expect(run.calls).toEqual([]);
        }
    });
});

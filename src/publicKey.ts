import { createHash, createPublicKey } from "node:crypto";

/**
 * Lowercase hex SHA-256 of the DER-encoded SubjectPublicKeyInfo: the value
 * `openssl pkey -pubin -in public.pem -outform DER | sha256sum` prints, so a
 * person can check the file they upload against the stack output.
 * (The TLS provider's own `publicKeyFingerprintSha256` is an SSH fingerprint.)
 */
export function spkiSha256Fingerprint(publicKeyPem: string): string {
    const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
    return createHash("sha256").update(der).digest("hex");
}

/**
 * A request body as bytes, so that what is signed is exactly what is sent,
 * and so that a retry can send it again. fetch itself serialises every body
 * kind it accepts except a stream; `new Request` does that serialisation
 * (and picks the content type, e.g. a multipart boundary) without sending.
 */

export interface PreparedBody {
    readonly bytes?: Uint8Array;
    readonly contentType?: string;
}

/** Why a body cannot be signed and sent twice, or undefined when it can. */
function unrepeatable(body: unknown): string | undefined {
    if (body instanceof ReadableStream) {
        return "a ReadableStream";
    }
    if (
        typeof body === "object" &&
        body !== null &&
        (typeof (body as { pipe?: unknown }).pipe === "function" || Symbol.asyncIterator in body)
    ) {
        return "a stream or async iterable";
    }
    return undefined;
}

export async function prepareBody(method: string, body: RequestInit["body"] | undefined): Promise<PreparedBody> {
    if (body === undefined || body === null) {
        return {};
    }
    const kind = unrepeatable(body);
    if (kind !== undefined) {
        throw new TypeError(
            `PartnerApiClient.request: the body is ${kind}, which can be read only once; it could be neither signed nor sent again after a 401. Pass the body as a string, bytes, a Blob, URLSearchParams or FormData.`,
        );
    }
    // The URL is irrelevant here: nothing is sent.
    const request = new Request("http://body.invalid/", { method, body });
    const bytes = new Uint8Array(await request.arrayBuffer());
    const contentType = request.headers.get("content-type") ?? undefined;
    return { bytes, ...(contentType === undefined ? {} : { contentType }) };
}

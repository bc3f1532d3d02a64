/**
 * Reads a JSON array from a byte stream one element at a time (@streamparser/json, decision
 * 0028), so a response is never held whole: only the element being parsed and one chunk are in
 * memory. Bytes are counted as they arrive, against a limit per element and per response; a read
 * that delivers nothing for `readTimeoutMs` is cancelled. Errors never quote the body (a body of
 * /users holds passwords).
 */
import { JSONParser, type ParsedTokenInfo, TokenType } from "@streamparser/json";

/** Default byte limit of one array element (EXTRACT_MAX_ELEMENT_BYTES): 1 MiB. */
export const DEFAULT_MAX_ELEMENT_BYTES = 1024 * 1024;
/** Default byte limit of one response (EXTRACT_MAX_RESPONSE_BYTES): 512 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

/** How much a response may hold and how long a read may stall. */
export interface ArrayStreamLimits {
  maxElementBytes: number;
  maxResponseBytes: number;
  readTimeoutMs: number;
}

/** What went wrong with a body; `element-limit` and `response-limit` are not worth a retry. */
export type JsonStreamProblem =
  | "element-limit"
  | "response-limit"
  | "timeout"
  | "malformed"
  | "not-array"
  | "empty";

/** A body that is not a usable JSON array, or broke a limit; the message names no body text. */
export class JsonStreamError extends Error {
  override name = "JsonStreamError";
  constructor(message: string, readonly problem: JsonStreamProblem) {
    super(message);
  }
}

const FIRST_TOKEN_NAMES: Partial<Record<TokenType, string>> = {
  [TokenType.LEFT_BRACE]: "an object",
  [TokenType.STRING]: "a string",
  [TokenType.NUMBER]: "a number",
  [TokenType.TRUE]: "a boolean",
  [TokenType.FALSE]: "a boolean",
  [TokenType.NULL]: "null",
};

/** Reads one chunk, or cancels the read after `timeoutMs` without data. */
async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeoutMs: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new JsonStreamError(`body read stalled for ${timeoutMs} ms`, "timeout"));
    }, timeoutMs);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Yields the elements of the JSON array `body` holds, parsed, in order. Throws JsonStreamError
 * when the body is empty, not an array, malformed or truncated, over a limit, or stalls; the
 * stream is cancelled whenever the caller stops early or an error ends the read.
 */
export async function* jsonArrayElements(
  body: ReadableStream<Uint8Array>,
  limits: ArrayStreamLimits,
): AsyncGenerator<unknown, void, undefined> {
  const reader = body.getReader();
  const parser = new JSONParser({ paths: ["$.*"], keepStack: false });
  let parsed: unknown[] = [];
  let failure: JsonStreamError | undefined;
  let bytes = 0;
  let depth = 0;
  let started = false;
  let closed = false;
  // The element being read: its index and the offset of the byte after the `[` or `,` before it.
  let elementIndex = 0;
  let elementStart = 0;

  const overElement = (size: number): JsonStreamError =>
    new JsonStreamError(
      `element ${elementIndex} is larger than the limit of ${limits.maxElementBytes} bytes ` +
        `(${size} bytes or more)`,
      "element-limit",
    );
  const endElement = (offset: number): void => {
    if (offset - elementStart > limits.maxElementBytes) throw overElement(offset - elementStart);
  };

  parser.onToken = ({ token, offset }: ParsedTokenInfo) => {
    if (!started) {
      started = true;
      if (token !== TokenType.LEFT_BRACKET) {
        const found = FIRST_TOKEN_NAMES[token] ?? "not a JSON value";
        throw new JsonStreamError(`JSON body is ${found}, expected an array`, "not-array");
      }
    }
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        depth++;
        if (depth === 1) elementStart = offset + 1;
        break;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        if (depth === 1) {
          endElement(offset);
          closed = true;
        }
        depth--;
        break;
      case TokenType.COMMA:
        if (depth === 1) {
          endElement(offset);
          elementIndex++;
          elementStart = offset + 1;
        }
        break;
    }
  };
  parser.onValue = ({ value }) => {
    parsed.push(value);
  };
  parser.onError = (error: Error) => {
    // The parser's own messages quote the input: keep only ours.
    failure ??= error instanceof JsonStreamError
      ? error
      : new JsonStreamError(`malformed or truncated JSON (${bytes} bytes)`, "malformed");
  };

  let done = false;
  try {
    while (true) {
      const chunk = await readChunk(reader, limits.readTimeoutMs);
      if (chunk.done) {
        done = true;
        break;
      }
      bytes += chunk.value.byteLength;
      if (bytes > limits.maxResponseBytes) {
        throw new JsonStreamError(
          `response is larger than the limit of ${limits.maxResponseBytes} bytes`,
          "response-limit",
        );
      }
      if (!parser.isEnded) parser.write(chunk.value);
      else if (new TextDecoder().decode(chunk.value).trim() !== "") {
        failure ??= new JsonStreamError(`malformed JSON (${bytes} bytes)`, "malformed");
      }
      if (failure) throw failure;
      // An element still open across chunks is counted as it grows, not once it is complete.
      if (started && !closed && bytes - elementStart > limits.maxElementBytes) {
        throw overElement(bytes - elementStart);
      }
      const ready = parsed;
      parsed = [];
      for (const value of ready) yield value;
    }
    if (!started) throw new JsonStreamError("empty body", "empty");
    if (!parser.isEnded) parser.end();
    if (failure) throw failure;
    if (!closed) {
      throw new JsonStreamError(`malformed or truncated JSON (${bytes} bytes)`, "malformed");
    }
    for (const value of parsed) yield value;
  } finally {
    // Not awaited: the cancel of one branch of a tee'd body (ky's clone) waits for the other.
    if (!done) void reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

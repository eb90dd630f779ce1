/**
 * OpenAI `file` content parts (`{type:"file", file:{file_data, filename} | {file_id}}`), read for
 * the providers that take files inline (Anthropic, Gemini).
 *
 * - `file_data` is a base64 data: URL (what OpenAI documents); bare base64 is accepted too, its
 *   type then taken from the filename's extension.
 * - `file_id` names a file stored at OpenAI, which no other provider can fetch: refused, naming
 *   the param, so that an OpenAI candidate may still take the request unchanged.
 * - Text files (text/*) are decoded and sent as text: both providers read text, neither needs the
 *   bytes. Anything that is not UTF-8 is refused rather than sent garbled.
 */
import { UnsupportedFeatureError, type ContentPart } from "./types.ts";

export type InlineFile =
  | { kind: "image"; mediaType: string; data: string }
  | { kind: "pdf"; mediaType: "application/pdf"; data: string; filename?: string }
  | { kind: "text"; text: string; filename?: string };

const TYPE_BY_EXT: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
};

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A media type from a file name's extension, when the extension is one we know. */
export function typeFromName(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  const dot = filename.lastIndexOf(".");
  return dot === -1 ? undefined : TYPE_BY_EXT[filename.slice(dot + 1).toLowerCase()];
}

/** Reads one `file` part (the schema saw to file_data or file_id); `provider` names who cannot take it in the error messages. */
export function readFilePart(file: Extract<ContentPart, { type: "file" }>["file"], param: string, provider: string): InlineFile {
  const filename = file.filename || undefined;
  const fileData = file.file_data;
  if (fileData === undefined)
    throw new UnsupportedFeatureError(
      `${param}.file.file_id`,
      `files uploaded to OpenAI (file_id) cannot be sent to ${provider}; send the file inline as file_data`,
    );
  const m = DATA_URL.exec(fileData);
  const mediaType = (m ? m[1] : typeFromName(filename))?.toLowerCase();
  const data = m ? fileData.slice(m[0].length) : fileData;
  if (!mediaType)
    throw new UnsupportedFeatureError(
      `${param}.file.file_data`,
      `${param}.file.file_data must be a base64 data: URL (data:<type>;base64,…) or name a file whose type is known`,
    );
  if (!BASE64.test(data)) throw new UnsupportedFeatureError(`${param}.file.file_data`, `${param}.file.file_data is not valid base64`);
  if (mediaType === "application/pdf") return filename ? { kind: "pdf", mediaType, data, filename } : { kind: "pdf", mediaType, data };
  if (mediaType.startsWith("image/")) return { kind: "image", mediaType, data };
  if (mediaType.startsWith("text/")) {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(data, "base64"));
    } catch {
      throw new UnsupportedFeatureError(`${param}.file.file_data`, `${param}.file.file_data: the text file is not UTF-8`);
    }
    return filename ? { kind: "text", text, filename } : { kind: "text", text };
  }
  throw new UnsupportedFeatureError(
    `${param}.file.file_data`,
    `files of type '${mediaType}' are not supported by ${provider}; images, PDF and text files are`,
  );
}

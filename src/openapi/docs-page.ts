// GET /docs: the OpenAPI document rendered on the server as one self-contained HTML page: no
// scripts at all, one inline stylesheet allowed by its hash in the page's own CSP.
import { createHash } from "node:crypto";
import type { OpenAPIV3_1 } from "openapi-types";
import { HTTP_METHODS, type OpenApiDocument } from "./document.ts";

type Schema = OpenAPIV3_1.SchemaObject | OpenAPIV3_1.ReferenceObject;

const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Inline `code` spans of a description; everything else is text. */
const prose = (text: string | undefined) =>
  text ? escapeHtml(text).replace(/`([^`]+)`/g, (_, code: string) => `<code>${code}</code>`) : "";

const STYLE = `
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#6b6b70;--bg:#fff;--panel:#f6f6f8;--line:#e2e2e6;--accent:#3b5bdb}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--muted:#a0a0a8;--bg:#151517;--panel:#1e1e21;--line:#33333a;--accent:#8ea2ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1040px;margin:0 auto;padding:24px}h1{margin:0 0 4px}h2{margin:40px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px;text-transform:capitalize}
a{color:var(--accent)}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--panel);padding:12px;border-radius:6px;overflow:auto;max-height:420px}
.muted{color:var(--muted)}.toc{columns:2 320px;padding-left:0;list-style:none}.toc li{margin:2px 0}
.op{border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:12px 16px}
.op h3{margin:0;font-size:16px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.m{display:inline-block;min-width:62px;text-align:center;border-radius:4px;padding:1px 6px;font:600 12px/1.6 ui-monospace,monospace;color:#fff;background:#6b6b70}
.m.get{background:#2b8a3e}.m.post{background:#1c7ed6}.m.put,.m.patch{background:#e67700}.m.delete{background:#c92a2a}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;vertical-align:top;border-top:1px solid var(--line);padding:4px 8px}
th{font-weight:600;color:var(--muted);font-size:13px}td table{margin:4px 0 0}.req{color:#c92a2a}
h4{margin:12px 0 2px;font-size:14px}details summary{cursor:pointer;color:var(--muted);font-size:13px}
`;

const DOCS_STYLE_HASH = `sha256-${createHash("sha256").update(STYLE).digest("base64")}`;

/** No scripts, nothing from elsewhere; only the inline stylesheet above. */
export const DOCS_CSP = `default-src 'none'; script-src 'self'; style-src '${DOCS_STYLE_HASH}'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const isRef = (s: unknown): s is OpenAPIV3_1.ReferenceObject => !!s && typeof s === "object" && "$ref" in s;
const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

/** One line describing a schema: type, format, bounds, allowed values. */
export function describeSchema(schema: Schema | undefined): string {
  if (!schema || (typeof schema === "object" && Object.keys(schema).length === 0)) return "any";
  if (isRef(schema)) return refName(schema.$ref);
  const s = schema as OpenAPIV3_1.SchemaObject & Record<string, unknown>;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const k of ["anyOf", "oneOf"] as const) {
    if (s[k]) return (s[k] as Schema[]).map(describeSchema).join(" | ");
  }
  if (s.allOf) return (s.allOf as Schema[]).map(describeSchema).join(" & ");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  let base = types.join(" | ") || (s.properties ? "object" : "any");
  if (types.includes("array")) base = base.replace("array", `array of ${describeSchema(s.items as Schema | undefined)}`);
  if (types.includes("object") && s.additionalProperties && typeof s.additionalProperties === "object") {
    base = base.replace("object", `object of ${describeSchema(s.additionalProperties as Schema)}`);
  }
  const notes: string[] = [];
  if (s.format) notes.push(String(s.format));
  const range = (lo: unknown, hi: unknown, unit: string) => {
    if (lo !== undefined && hi !== undefined) notes.push(`${lo}–${hi}${unit}`);
    else if (lo !== undefined) notes.push(`≥ ${lo}${unit}`);
    else if (hi !== undefined) notes.push(`≤ ${hi}${unit}`);
  };
  range(s.minLength, s.maxLength, " chars");
  range(s.minimum, s.maximum, "");
  range(s.minItems, s.maxItems, " items");
  if (s.pattern) notes.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) notes.push(`default ${JSON.stringify(s.default)}`);
  return notes.length ? `${base} (${notes.join(", ")})` : base;
}

const nameCell = (name: string, required: boolean | undefined) =>
  `<td><code>${escapeHtml(name)}</code>${required ? ' <span class="req" title="required">*</span>' : ""}</td>`;
const note = (description: string | undefined) => (description ? `<div class="muted">${prose(description)}</div>` : "");

function propertiesTable(schema: Schema | undefined, depth = 0): string {
  if (!schema || isRef(schema) || depth > 4) return "";
  const s = schema as OpenAPIV3_1.SchemaObject;
  const target = s.type === "array" && s.items && !isRef(s.items) ? (s.items as OpenAPIV3_1.SchemaObject) : s;
  const props = target.properties as Record<string, Schema> | undefined;
  if (!props || Object.keys(props).length === 0) return "";
  const required = new Set(target.required ?? []);
  const rows = Object.entries(props)
    .map(
      ([name, prop]) =>
        `<tr>${nameCell(name, required.has(name))}<td>${escapeHtml(describeSchema(prop))}${note(isRef(prop) ? undefined : prop.description)}${propertiesTable(prop, depth + 1)}</td></tr>`,
    )
    .join("");
  return `<table><tr><th>field</th><th>type</th></tr>${rows}</table>`;
}

function schemaBlock(schema: Schema | undefined): string {
  if (!schema) return "";
  return `${propertiesTable(schema) || `<p><code>${escapeHtml(describeSchema(schema))}</code></p>`}<details><summary>JSON Schema</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
}

const anchorFor = (method: string, path: string) => `op-${method}-${path}`.replace(/[^A-Za-z0-9_-]+/g, "-");

function securityText(doc: OpenApiDocument, security: OpenAPIV3_1.SecurityRequirementObject[] | undefined): string {
  const list = security ?? doc.security ?? [];
  if (list.length === 0) return "none";
  return list
    .map((req) =>
      Object.keys(req)
        .map((name) => {
          const scheme = doc.components?.securitySchemes?.[name];
          if (!scheme || isRef(scheme)) return name;
          if (scheme.type === "http") return `${name} (Authorization: Bearer ${scheme.bearerFormat ?? "token"})`;
          if (scheme.type === "apiKey") return `${name} (${scheme.in} ${scheme.name})`;
          return name;
        })
        .join(" + "),
    )
    .join(" or ");
}

function operationHtml(doc: OpenApiDocument, method: string, path: string, op: OpenAPIV3_1.OperationObject): string {
  const params = (op.parameters ?? []).filter((p): p is OpenAPIV3_1.ParameterObject => !isRef(p));
  const paramsHtml = params.length
    ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th></tr>${params
        .map(
          (p) =>
            `<tr>${nameCell(p.name, p.required)}<td>${escapeHtml(p.in)}</td><td>${escapeHtml(describeSchema(p.schema as Schema | undefined))}${note(p.description)}</td></tr>`,
        )
        .join("")}</table>`
    : "";
  let bodyHtml = "";
  if (op.requestBody && !isRef(op.requestBody)) {
    const content = op.requestBody.content ?? {};
    const types = Object.keys(content);
    const main = content["application/json"] ?? content[types[0]];
    bodyHtml = `<h4>Request body</h4><p class="muted">${types.map((t) => `<code>${escapeHtml(t)}</code>`).join(", ")}</p>${schemaBlock(main?.schema as Schema | undefined)}`;
  }
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => {
      if (isRef(r)) return `<tr><td>${escapeHtml(status)}</td><td>${escapeHtml(refName(r.$ref))}</td></tr>`;
      const schema = Object.values(r.content ?? {})[0]?.schema as Schema | undefined;
      return `<tr><td><code>${escapeHtml(status)}</code></td><td>${prose(r.description)}${schema ? schemaBlock(schema) : ""}</td></tr>`;
    })
    .join("");
  return `<section class="op" id="${anchorFor(method, path)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span><code>${escapeHtml(path)}</code><span>${escapeHtml(op.summary ?? "")}</span></h3>
${op.description ? `<p>${prose(op.description)}</p>` : ""}<p class="muted">Auth: ${escapeHtml(securityText(doc, op.security))}</p>
${paramsHtml}${bodyHtml}${responses ? `<h4>Responses</h4><table>${responses}</table>` : ""}
</section>`;
}

type Listed = { method: string; path: string; op: OpenAPIV3_1.OperationObject };

/** Every operation of the document, grouped by its first tag in the document's tag order. */
function operationsByTag(doc: OpenApiDocument): Map<string, Listed[]> {
  const groups = new Map<string, Listed[]>();
  for (const tag of doc.tags ?? []) groups.set(tag.name, []);
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item?.[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push({ method, path, op });
    }
  }
  for (const [tag, ops] of groups) if (ops.length === 0) groups.delete(tag);
  return groups;
}

export function renderDocsPage(doc: OpenApiDocument): string {
  const groups = operationsByTag(doc);
  const tagInfo = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
  const toc = [...groups]
    .map(
      ([tag, ops]) =>
        `<li><strong>${escapeHtml(tag)}</strong><ul>${ops
          .map(
            ({ method, path, op }) =>
              `<li><a href="#${anchorFor(method, path)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> <span class="muted">${escapeHtml(op.summary ?? "")}</span></li>`,
          )
          .join("")}</ul></li>`,
    )
    .join("");
  const sections = [...groups]
    .map(
      ([tag, ops]) =>
        `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${tagInfo.get(tag) ? `<p class="muted">${prose(tagInfo.get(tag))}</p>` : ""}${ops.map(({ method, path, op }) => operationHtml(doc, method, path, op)).join("\n")}`,
    )
    .join("\n");
  const schemes = Object.entries(doc.components?.securitySchemes ?? {})
    .map(([name, s]) => (isRef(s) ? "" : `<li><code>${escapeHtml(name)}</code>: ${prose(s.description)}</li>`))
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(doc.info.title)} API ${escapeHtml(doc.info.version)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(doc.info.title)} API</h1>
<p class="muted">Version ${escapeHtml(doc.info.version)} · OpenAPI ${escapeHtml(doc.openapi)} · <a href="/openapi.json">/openapi.json</a></p>
<p>${prose(doc.info.description)}</p>
<h4>Authentication</h4><ul>${schemes}</ul>
<ul class="toc">${toc}</ul>
${sections}
</main></body></html>`;
}

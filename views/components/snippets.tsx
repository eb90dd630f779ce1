/**
 * Code that calls this gateway, per client library. Every snippet reads the key from the
 * PERPETUO_API_KEY environment variable, so a copied snippet never carries a secret into a
 * repository. One language is open at a time (<details name>, no JavaScript needed).
 */

const KEY_ENV = "PERPETUO_API_KEY";

/** The snippets for a gateway at `apiBase` (PUBLIC_URL + /v1) and one model it serves. */
function snippetsFor(apiBase: string, model: string): { id: string; label: string; code: string }[] {
  // JSON.stringify quotes (and escapes) a value for JavaScript, Python and a JSON body alike.
  const q = (s: string) => JSON.stringify(s);
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] }).replace(/'/g, "'\\''");
  return [
    {
      id: "curl",
      label: "curl",
      code: `curl ${apiBase}/chat/completions \\
  -H "Authorization: Bearer $${KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '${body}'`,
    },
    {
      id: "python",
      label: "Python (openai)",
      code: `import os
from openai import OpenAI

client = OpenAI(base_url=${q(apiBase)}, api_key=os.environ[${q(KEY_ENV)}])
reply = client.chat.completions.create(
    model=${q(model)},
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)`,
    },
    {
      id: "node",
      label: "Node (openai)",
      code: `import OpenAI from "openai";

const client = new OpenAI({ baseURL: ${q(apiBase)}, apiKey: process.env.${KEY_ENV} });
const reply = await client.chat.completions.create({
  model: ${q(model)},
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(reply.choices[0].message.content);`,
    },
    {
      id: "ai-sdk",
      label: "Vercel AI SDK",
      code: `import { createOpenAI } from "@ai-sdk/openai";
import { generateText } from "ai";

const perpetuo = createOpenAI({ baseURL: ${q(apiBase)}, apiKey: process.env.${KEY_ENV} });
const { text } = await generateText({ model: perpetuo.chat(${q(model)}), prompt: "Hello!" });
console.log(text);`,
    },
    {
      id: "langchain",
      label: "LangChain (Python)",
      code: `import os
from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model=${q(model)}, base_url=${q(apiBase)}, api_key=os.environ[${q(KEY_ENV)}])
print(llm.invoke("Hello!").content)`,
    },
  ];
}

/** A block of code with a copy button; without JavaScript the button stays hidden and the text is selectable. */
export function CodeBlock(props: { id: string; code: string; label: string }) {
  return (
    <div class="snippet">
      <pre tabindex="0" aria-label={props.label}>
        <code id={props.id} safe>
          {props.code}
        </code>
      </pre>
      <button type="button" class="btn btn-small btn-secondary" data-copy={`#${props.id}`} hidden aria-label={`Copy ${props.label}`}>
        Copy
      </button>
    </div>
  );
}

/**
 * The snippets as one group of disclosures, the first open. `idPrefix` keeps ids unique when a page
 * shows the group more than once.
 */
export function Snippets(props: { apiBase: string; model: string; idPrefix?: string; setKey?: string | null }) {
  const prefix = props.idPrefix ?? "snippet";
  const group = `${prefix}-lang`;
  return (
    <div class="snippets">
      <p>
        Put the key in the <code>{KEY_ENV}</code> environment variable, then call the gateway at <code safe>{props.apiBase}</code>:
      </p>
      <CodeBlock id={`${prefix}-env`} label="Shell: set the key" code={`export ${KEY_ENV}=${props.setKey ?? "prp_…"}`} />
      {snippetsFor(props.apiBase, props.model).map((s, i) => (
        <details class="snippet-tab" name={group} open={i === 0}>
          <summary safe>{s.label}</summary>
          <CodeBlock id={`${prefix}-${s.id}`} label={s.label} code={s.code} />
        </details>
      ))}
    </div>
  );
}

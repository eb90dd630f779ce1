import type { Conversation, Part } from "./conversation.ts";
import { CodeBlock } from "./snippets.tsx";
import { Text } from "./ui.tsx";

const ROLE_LABEL: Record<string, string> = { system: "System", developer: "Developer", user: "User", assistant: "Assistant", tool: "Tool" };
const roleLabel = (role: string) => ROLE_LABEL[role] ?? role.charAt(0).toUpperCase() + role.slice(1);
const roleClass = (role: string) => (Object.hasOwn(ROLE_LABEL, role) ? `turn turn-${role}` : "turn turn-other");

function TurnText(props: { text: string }) {
  return (
    <div class="turn-text" safe>
      {props.text}
    </div>
  );
}

function PartView(props: { part: Part }) {
  const p = props.part;
  switch (p.kind) {
    case "text":
      return <TurnText text={p.text} />;
    case "reasoning":
      return (
        <details class="turn-reasoning">
          <summary>Reasoning</summary>
          <TurnText text={p.text} />
        </details>
      );
    case "tool_call":
      return (
        <div class="tool-call">
          <p class="tool-head">
            Calls <Text tag="code" class="mono" text={p.name} />
            <Text class="muted mono" text={p.id && ` ${p.id}`} />
          </p>
          <pre class="tool-args" tabindex="0">
            <code safe>{p.args}</code>
          </pre>
        </div>
      );
    case "tool_result":
      return (
        <div class="tool-result">
          <p class="tool-head">
            Result{p.id ? " of " : ""}
            <Text tag="code" class="mono" text={p.id} />
          </p>
          <TurnText text={p.text} />
        </div>
      );
    case "placeholder":
      return <Text tag="p" class="turn-placeholder" text={`[${p.text}]`} />;
  }
}

/** Turns as a readable transcript: role, then each part (text, tool call with its arguments, tool result, placeholders). */
export function ChatView(props: { conversation: Conversation; label: string }) {
  const { turns, tools } = props.conversation;
  return (
    <>
      {tools.length > 0 && (
        <p class="muted">
          Tools offered: <Text class="mono" text={tools.join(", ")} />
        </p>
      )}
      <ol class="chat" aria-label={props.label}>
        {turns.map((t) => (
          <li class={roleClass(t.role)}>
            <p class="turn-role" safe>
              {roleLabel(t.role)}
            </p>
            {t.parts.length ? t.parts.map((p) => <PartView part={p} />) : <p class="turn-placeholder">[empty]</p>}
          </li>
        ))}
      </ol>
    </>
  );
}

/** The stored body as sent, behind a disclosure that works without JavaScript, with a copy button. */
export function RawBody(props: { id: string; label: string; text: string; open?: boolean }) {
  return (
    <details class="raw-body" open={props.open}>
      <summary safe>{props.label}</summary>
      <CodeBlock id={props.id} label={props.label} code={props.text} />
    </details>
  );
}

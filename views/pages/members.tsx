import type { ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { ErrorSummary, PostForm } from "../components/form.tsx";
import { ConfirmLink } from "../components/confirm.tsx";
import { InvitationsPanel, type InvitationsProps } from "../components/invitations.tsx";
import { ActionsCell, Cell, DataTable, Row } from "../components/table.tsx";
import { Badge, Flash, PageHeader, Sub, Text, Time } from "../components/ui.tsx";

interface MemberRow {
  user_id: string;
  email: string;
  name: string | null;
  role: string;
  joined_at: Date;
  /** What the viewer may do to this row (worked out by the route). */
  actions: { roles: string[] | null; remove: boolean; transfer: boolean; leave: boolean };
}

export interface MembersProps {
  ctx: ViewContext;
  members: MemberRow[];
  notice?: string | null;
  /** A refused change: shown at the top, and beside the row's role select when `user_id` names one. */
  error?: { message: string; user_id?: string | null } | null;
  /** Owners and admins only. */
  invitations?: InvitationsProps | null;
  /** The viewer is the workspace's only owner: leaving needs a transfer first. */
  lastOwner: boolean;
}

const ROLE_TONE: Record<string, "info" | "ok" | "muted"> = { owner: "info", admin: "ok", member: "muted" };

export function MembersPage(props: MembersProps) {
  const { ctx } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}`;
  return (
    <Layout ctx={ctx} title={`Members · ${w.name}`} section="members">
      <PageHeader
        title="Members"
        subtitle="Who can use this workspace, and what they may change. Owners and admins invite, change roles and remove."
      />
      <Flash text={props.notice} />
      <ErrorSummary errors={{ fields: {}, form: props.error?.message }} />
      <div id="dialog-slot"></div>
      <DataTable label="Members" columns={["Email", "Name", "Role", "Joined"]} actions>
        {props.members.map((m) => {
          const url = `${base}/members/${encodeURIComponent(m.user_id)}`;
          const error = props.error?.user_id === m.user_id ? props.error.message : null;
          const selectId = `role-${m.user_id}`;
          return (
            <Row>
              <Cell header label="Email" class="strong" text={m.email}>
                <Sub text={m.actions.leave && "you"} />
              </Cell>
              <Cell label="Name">{m.name ? <span safe>{m.name}</span> : <span class="muted">—</span>}</Cell>
              <Cell label="Role">
                {m.actions.roles ? (
                  <PostForm action={`${url}/role`} csrf={ctx.csrf} replace>
                    <div class="cell-row cell-row-nowrap">
                      <label for={selectId} class="visually-hidden" safe>
                        {`Role of ${m.email}`}
                      </label>
                      <select
                        id={selectId}
                        name="role"
                        aria-invalid={error ? "true" : undefined}
                        aria-describedby={error ? `${selectId}-error` : undefined}
                      >
                        {m.actions.roles.map((r) => (
                          <option value={r} selected={r === m.role} safe>
                            {r}
                          </option>
                        ))}
                      </select>
                      <button type="submit" class="btn btn-small btn-secondary" aria-label={`Change the role of ${m.email}`}>
                        Change
                      </button>
                    </div>
                    <Text tag="p" class="field-error" id={`${selectId}-error`} text={error} />
                  </PostForm>
                ) : (
                  <Badge tone={ROLE_TONE[m.role] ?? "muted"} label={m.role} />
                )}
              </Cell>
              <Cell label="Joined">
                <Time value={m.joined_at} />
              </Cell>
              <ActionsCell>
                {m.actions.transfer && (
                  <ConfirmLink href={`${url}/transfer`} label="Make owner" aria={`Transfer ownership to ${m.email}`} />
                )}
                {m.actions.remove && <ConfirmLink href={`${url}/remove`} label="Remove" aria={`Remove ${m.email}`} danger />}
                {m.actions.leave && <ConfirmLink href={`${base}/leave`} label="Leave" aria="Leave this workspace" danger />}
              </ActionsCell>
            </Row>
          );
        })}
      </DataTable>
      {!!props.invitations && <InvitationsPanel {...props.invitations} />}
      <section class="panel stack" aria-labelledby="leave-title">
        <h2 id="leave-title">Leave this workspace</h2>
        <p>
          {props.lastOwner
            ? "You are its only owner: make another member the owner first (Make owner), then you can leave."
            : "You lose access at once; an owner or admin can invite you again."}
        </p>
        <div>
          <ConfirmLink href={`${base}/leave`} label="Leave workspace" aria="Leave this workspace" danger />
        </div>
      </section>
    </Layout>
  );
}

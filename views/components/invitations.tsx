import type { FormErrors } from "../context.ts";
import { PostForm, SelectField, Submit, TextField } from "./form.tsx";
import { ActionsCell, Cell, DataTable, Row } from "./table.tsx";
import { CopyRow, EmptyState, Flash, Sub, Time } from "./ui.tsx";

export interface InvitationsProps {
  workspaceId: string;
  csrf: string;
  pending: { id: string; email: string; role: string; expires_at: Date; invited_by: { email: string } | null }[];
  /** The roles this user may invite with: their own and below. */
  roles: string[];
  /** Right after creation: the link, shown this once. */
  created?: { email: string; link: string } | null;
  values: { email?: string; role?: string };
  errors: FormErrors;
  notice?: string | null;
}

/** The members page's invitations: create one (the link is shown once), pending ones, revoke. */
export function InvitationsPanel(props: InvitationsProps) {
  const base = `/app/w/${encodeURIComponent(props.workspaceId)}/invitations`;
  return (
    <section class="panel stack" id="invitations" aria-labelledby="invitations-title">
      <h2 id="invitations-title">Invitations</h2>
      <Flash text={props.notice} />
      {!!props.created && (
        <div class="panel-highlight" tabindex="-1" data-focus>
          <p>
            <strong>
              Send this link to <span safe>{props.created.email}</span> now: it is shown only once.
            </strong>{" "}
            It works once, for that address, for 7 days.
          </p>
          <CopyRow id="invite-link" label="Invitation link" value={props.created.link} button="Copy link" />
        </div>
      )}
      {props.pending.length === 0 ? (
        <EmptyState title="No pending invitations">
          <p>Invite someone by email: they get a link to create their account (or sign in) and join this workspace.</p>
        </EmptyState>
      ) : (
        <DataTable label="Pending invitations" columns={["Email", "Role", "Expires"]} actions>
          {props.pending.map((i) => (
            <Row>
              <Cell header label="Email" class="strong" text={i.email}>
                <Sub text={i.invited_by && `by ${i.invited_by.email}`} />
              </Cell>
              <Cell label="Role" text={i.role} />
              <Cell label="Expires">
                <Time value={i.expires_at} />
              </Cell>
              <ActionsCell>
                <PostForm action={`${base}/${encodeURIComponent(i.id)}/revoke`} csrf={props.csrf} replace>
                  <button type="submit" class="btn btn-small btn-danger-outline" aria-label={`Revoke the invitation of ${i.email}`}>
                    Revoke
                  </button>
                </PostForm>
              </ActionsCell>
            </Row>
          ))}
        </DataTable>
      )}
      <PostForm action={base} csrf={props.csrf} errors={props.errors} replace class="form-inline">
        <TextField
          name="email"
          id="f-invite-email"
          label="Email"
          type="email"
          value={props.values.email}
          errors={props.errors}
          required
          maxlength={254}
        />
        <SelectField
          name="role"
          label="Role"
          value={props.values.role ?? "member"}
          options={props.roles.map((r) => ({ value: r, label: r }))}
          errors={props.errors}
          required
        />
        <Submit label="Invite" />
      </PostForm>
    </section>
  );
}

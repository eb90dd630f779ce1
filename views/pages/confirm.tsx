import type { ViewContext } from "../context.ts";
import { Layout, type Section } from "../layout.tsx";
import { ConfirmCard, type ConfirmProps } from "../components/confirm.tsx";

/** A confirmation as a page (no JavaScript) or, for htmx, only the card for the page's dialog slot. */
export function ConfirmPage(props: { ctx: ViewContext; section: Section; inline: boolean; confirm: ConfirmProps }) {
  if (props.inline) return <ConfirmCard {...props.confirm} />;
  return (
    <Layout ctx={props.ctx} title={props.confirm.title} section={props.section}>
      <div class="confirm-page">
        <ConfirmCard {...props.confirm} asPage />
      </div>
    </Layout>
  );
}

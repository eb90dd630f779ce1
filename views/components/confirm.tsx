import { PostForm } from "./form.tsx";
import { NavButton, Text } from "./ui.tsx";

export interface ConfirmProps {
  title: string;
  message: string;
  action: string;
  confirmLabel: string;
  cancelHref: string;
  csrf: string;
  danger?: boolean;
  /** h1 when the confirmation is the page, h2 when it is a card on another page. */
  asPage?: boolean;
}

/**
 * "Are you sure?" as HTML rather than a JavaScript dialog: a page of its own without JavaScript,
 * a card swapped in above the table with htmx. Confirming is an ordinary CSRF-protected POST.
 */
export function ConfirmCard(props: ConfirmProps) {
  const Heading = props.asPage ? "h1" : "h2";
  return (
    <section
      class={props.danger === false ? "confirm" : "confirm confirm-danger"}
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-message"
      tabindex="-1"
      {...{ autofocus: true }}
    >
      <Heading id="confirm-title" safe>
        {props.title}
      </Heading>
      <Text tag="p" id="confirm-message" text={props.message} />
      <PostForm action={props.action} csrf={props.csrf} replace class="confirm-actions">
        <button type="submit" class={props.danger === false ? "btn btn-primary" : "btn btn-danger"} safe>
          {props.confirmLabel}
        </button>
        <NavButton href={props.cancelHref} label="Cancel" />
      </PostForm>
    </section>
  );
}

/** A button that opens a confirmation: a page of its own without JavaScript, a card above the table with htmx. */
export function ConfirmLink(props: { href: string; label: string; aria: string; danger?: boolean }) {
  return (
    <a
      class={props.danger ? "btn btn-small btn-danger-outline" : "btn btn-small btn-secondary"}
      href={props.href}
      hx-get={props.href}
      hx-target="#dialog-slot"
      hx-swap="innerHTML show:top"
      aria-label={props.aria}
      safe
    >
      {props.label}
    </a>
  );
}

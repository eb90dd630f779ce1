import { Csrf } from "./form.tsx";
import { nav, postForm } from "./hx.ts";

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
  return (
    <section
      class={props.danger === false ? "confirm" : "confirm confirm-danger"}
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-message"
      tabindex="-1"
      {...{ autofocus: true }}
    >
      {props.asPage ? (
        <h1 id="confirm-title" safe>
          {props.title}
        </h1>
      ) : (
        <h2 id="confirm-title" safe>
          {props.title}
        </h2>
      )}
      <p id="confirm-message" safe>
        {props.message}
      </p>
      <form {...postForm(props.action, "replace")} class="confirm-actions">
        <Csrf token={props.csrf} />
        <button type="submit" class={props.danger === false ? "btn btn-primary" : "btn btn-danger"} safe>
          {props.confirmLabel}
        </button>
        <a class="btn btn-secondary" {...nav(props.cancelHref)}>
          Cancel
        </a>
      </form>
    </section>
  );
}

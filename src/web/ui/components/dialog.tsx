// Modal dialogs on the native <dialog>: showModal() traps focus and makes
// the rest of the page inert, Esc closes it, and focus goes back to the
// button that opened it. A confirmation names what the action tears down
// and keeps its error in place, so the admin can read it and retry.

import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { useActions } from '../submit.js';
import { ErrorAlert } from './alert.js';
import { Button } from './button.js';

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean; testId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const closed = () => onClose.current();
    dialog.addEventListener('close', closed);
    dialog.showModal();
    return () => {
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      // The opener may have gone (a removed row): then focus stays where the browser puts it.
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} class={props.wide ? 'dialog dialog-wide' : 'dialog'} aria-labelledby={id} data-testid={props.testId}>
      <h2 id={id} class="dialog-title">
        {props.title}
      </h2>
      {props.children}
    </dialog>
  );
}

export function DialogButtons(props: { children: ComponentChildren }) {
  return <div class="dialog-buttons">{props.children}</div>;
}

/** The end of a dialog's form: the daemon's refusal in place, then Cancel and the submit button, busy while it is sent. */
export function DialogSubmit(props: { label: ComponentChildren; form: { busy: boolean; error: unknown }; onCancel: () => void; disabled?: boolean }) {
  return (
    <>
      <ErrorAlert error={props.form.error} />
      <DialogButtons>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={props.form.busy} disabled={props.disabled ?? false}>
          {props.label}
        </Button>
      </DialogButtons>
    </>
  );
}

/**
 * Asks before an action. `onConfirm` runs the action; the dialog closes when
 * it succeeded and shows its error when it failed.
 */
export function ConfirmDialog(props: { title: string; confirmLabel: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void; children: ComponentChildren }) {
  const { busy, error, act } = useActions();
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div class="dialog-body">{props.children}</div>
      <ErrorAlert error={error} />
      <DialogButtons>
        <Button onClick={props.onClose} autofocus>
          Keep it
        </Button>
        <Button variant={props.danger ? 'danger' : 'primary'} busy={busy !== null} onClick={() => act('confirm', props.onConfirm, props.onClose)}>
          {props.confirmLabel}
        </Button>
      </DialogButtons>
    </Dialog>
  );
}

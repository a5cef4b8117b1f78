/** Errors shown on form fields by name path, for the tab's hand-built forms. */
import type { FormInstance } from 'antd';
import type { DraftError } from './model.ts';

/** Put `errors` on their fields, clearing whatever an earlier attempt marked. */
export function markFields(form: FormInstance, errors: readonly DraftError[]): void {
  const stale = form.getFieldsError().filter((f) => f.errors.length > 0).map((f) => ({ name: f.name, errors: [] }));
  form.setFields([...stale, ...errors.map((e) => ({ name: e.field, errors: [e.message] }))]);
}
